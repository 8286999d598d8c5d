output "originals_bucket_id" {
  description = "Name of the originals bucket."
  value       = aws_s3_bucket.this["originals"].id
}

output "originals_bucket_arn" {
  description = "ARN of the originals bucket."
  value       = aws_s3_bucket.this["originals"].arn
}

output "derivatives_bucket_id" {
  description = "Name of the derivatives bucket."
  value       = aws_s3_bucket.this["derivatives"].id
}

output "derivatives_bucket_arn" {
  description = "ARN of the derivatives bucket."
  value       = aws_s3_bucket.this["derivatives"].arn
}

output "derivatives_bucket_regional_domain_name" {
  description = "Regional domain name of the derivatives bucket, the origin for CloudFront."
  value       = aws_s3_bucket.this["derivatives"].bucket_regional_domain_name
}

output "derivatives_storage_class" {
  description = "Storage class writers of derivatives must use."
  value       = var.derivatives_storage_class
}
