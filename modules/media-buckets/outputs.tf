output "originals_bucket_id" {
  description = "Name of the originals bucket."
  value       = module.originals.id
}

output "originals_bucket_arn" {
  description = "ARN of the originals bucket."
  value       = module.originals.arn
}

output "derivatives_bucket_id" {
  description = "Name of the derivatives bucket."
  value       = module.derivatives.id
}

output "derivatives_bucket_arn" {
  description = "ARN of the derivatives bucket."
  value       = module.derivatives.arn
}

output "derivatives_bucket_regional_domain_name" {
  description = "Regional domain name of the derivatives bucket, the origin for CloudFront."
  value       = module.derivatives.bucket_regional_domain_name
}

output "derivatives_storage_class" {
  description = "Storage class writers of derivatives must use."
  value       = var.derivatives_storage_class
}

output "originals_upload_prefix" {
  description = "Key prefix under which originals trigger transcoding."
  value       = var.originals_upload_prefix
}

output "originals_replication_role_arn" {
  description = "The role S3 Replication copies the originals with; null without originals_replication."
  value       = one(aws_iam_role.replication[*].arn)
}
