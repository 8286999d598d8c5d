output "bucket_id" {
  description = "Name of the bucket."
  value       = module.artifacts.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = module.artifacts.arn
}
