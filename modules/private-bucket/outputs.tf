output "id" {
  description = "Name of the bucket."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  # Waits for versioning: S3 Replication refuses a destination that is not versioned yet.
  depends_on = [aws_s3_bucket_versioning.this]

  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the bucket (the origin for CloudFront)."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "policy_json" {
  description = "The bucket policy as applied."
  value       = aws_s3_bucket_policy.this.policy
}
