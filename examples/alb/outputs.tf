output "url" {
  description = "Base URL of the load balancer (https:// with a certificate)."
  value       = module.alb.url
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = module.alb.dns_name
}

output "security_group_id" {
  description = "Security group of the load balancer, for the targets' ingress."
  value       = module.alb.security_group_id
}

output "target_group_arn" {
  description = "ARN of the target group."
  value       = module.alb.target_group_arn
}

output "http_listener_arn" {
  description = "ARN of the port 80 listener."
  value       = module.alb.http_listener_arn
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener (null without a certificate)."
  value       = module.alb.https_listener_arn
}

output "vpc_id" {
  description = "Id of the VPC."
  value       = module.network.vpc_id
}
