output "distribution_id" {
  description = "ID of the distribution."
  value       = module.cdn.distribution_id
}

output "distribution_arn" {
  description = "ARN of the distribution, the only reader the derivatives bucket allows."
  value       = module.cdn.distribution_arn
}

output "domain_name" {
  description = "Domain name of the distribution."
  value       = module.cdn.domain_name
}

output "derivatives_bucket_id" {
  description = "Name of the derivatives bucket behind the distribution."
  value       = module.media_buckets.derivatives_bucket_id
}

output "key_group_id" {
  description = "Key group whose signatures are required, or null when unsigned."
  value       = module.cdn.key_group_id
}
