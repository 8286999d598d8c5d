output "asg_name" {
  description = "Name of the Auto Scaling group."
  value       = module.upload_api.name
}

output "launch_template_id" {
  description = "Id of the launch template."
  value       = module.upload_api.launch_template_id
}

output "artifacts_bucket" {
  description = "Bucket holding the service's zip."
  value       = module.artifacts.id
}
