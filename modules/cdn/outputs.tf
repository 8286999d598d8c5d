output "distribution_id" {
  description = "ID of the distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the distribution; give it to media-buckets' cdn_distribution_arns."
  value       = local.distribution_arn
}

output "domain_name" {
  description = "Domain name of the distribution, e.g. d111111abcdef8.cloudfront.net."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "api_base_url" {
  description = "Base URL of the upload API through the distribution (https://<domain>): its cached public reads (GET <url>/v1/feed), and with web_app every route. Null without api_origin."
  value       = var.api_origin == null ? null : "https://${aws_cloudfront_distribution.this.domain_name}"
}

output "web_app_url" {
  description = "URL of the web app (https://<domain>/app/), or null without web_app."
  value       = var.web_app == null ? null : "https://${aws_cloudfront_distribution.this.domain_name}/app/"
}

output "hosted_zone_id" {
  description = "Route 53 hosted zone ID of CloudFront, for alias records to the distribution."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "origin_access_control_id" {
  description = "ID of the origin access control CloudFront signs origin requests with."
  value       = aws_cloudfront_origin_access_control.this.id
}

output "key_group_id" {
  description = "ID of the key group whose signatures are required, or null when URLs are unsigned."
  value       = local.signed ? aws_cloudfront_key_group.this[0].id : null
}

output "public_key_id" {
  description = "ID of the CloudFront public key that verifies signatures, or null when URLs are unsigned."
  value       = local.signed ? aws_cloudfront_public_key.this[0].id : null
}

output "bucket_policy_json" {
  description = "Bucket policy (JSON) letting only this distribution read the origin bucket's objects, to merge into the bucket's policy."
  value       = data.aws_iam_policy_document.bucket.json
}
