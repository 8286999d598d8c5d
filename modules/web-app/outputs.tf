output "bucket_id" {
  description = "Name of the bucket holding the app."
  value       = module.bucket.id
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the app's bucket: modules/cdn's web_app.bucket_regional_domain_name."
  value       = module.bucket.bucket_regional_domain_name
}

output "response_headers_policy_id" {
  description = "ID of the app's response headers policy: modules/cdn's web_app.response_headers_policy_id."
  value       = aws_cloudfront_response_headers_policy.this.id
}

output "content_security_policy" {
  description = "The Content-Security-Policy every answer of the app carries."
  value       = local.content_security_policy
}

output "config" {
  description = "The configuration written to config.json beside the app."
  value       = local.config
}
