output "user_pool_id" {
  description = "Id of the user pool."
  value       = aws_cognito_user_pool.this.id
}

output "user_pool_arn" {
  description = "ARN of the user pool."
  value       = aws_cognito_user_pool.this.arn
}

output "user_pool_endpoint" {
  description = "Endpoint of the user pool (cognito-idp.<region>.amazonaws.com/<pool id>)."
  value       = aws_cognito_user_pool.this.endpoint
}

output "client_id" {
  description = "Id of the app client; the upload API checks it as the tokens' audience (client_id)."
  value       = aws_cognito_user_pool_client.this.id
}

output "issuer_url" {
  description = "Issuer (iss) of the pool's tokens."
  value       = "https://cognito-idp.${data.aws_region.current.id}.amazonaws.com/${aws_cognito_user_pool.this.id}"
}

output "jwks_url" {
  description = "Where the pool's signing keys are published."
  value       = "https://cognito-idp.${data.aws_region.current.id}.amazonaws.com/${aws_cognito_user_pool.this.id}/.well-known/jwks.json"
}

output "hosted_ui_domain" {
  description = "Domain of the hosted UI (null without domain_prefix)."
  value       = one(aws_cognito_user_pool_domain.this[*].domain)
}
