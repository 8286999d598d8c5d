output "asg_name" {
  description = "Name of the upload API's Auto Scaling group."
  value       = module.upload_api.name
}

output "launch_template_id" {
  description = "Id of the upload API's launch template."
  value       = module.upload_api.launch_template_id
}

output "security_group_id" {
  description = "Security group of the upload API's instances."
  value       = module.upload_api.security_group_id
}

output "role_name" {
  description = "Name of the upload API's instance role."
  value       = module.upload_api.role_name
}

output "worker_asg_name" {
  description = "Name of the worker fleet's Auto Scaling group."
  value       = module.workers.name
}

output "artifacts_bucket" {
  description = "Bucket holding the service's zip."
  value       = local.artifact.bucket
}

output "artifact_key" {
  description = "Key of the service's zip."
  value       = local.artifact.key
}

output "alb_security_group_id" {
  description = "Security group of the load balancer."
  value       = module.alb.security_group_id
}

output "target_group_arn" {
  description = "Target group the upload API registers with."
  value       = module.alb.target_group_arn
}

output "url" {
  description = "Base URL of the upload API."
  value       = module.alb.url
}

output "private_subnet_ids" {
  description = "Private subnets the fleets run in."
  value       = module.network.private_subnet_ids
}

output "queue_name" {
  description = "Queue whose backlog scales the workers."
  value       = module.jobs.queue_name
}
