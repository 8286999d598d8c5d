output "user_pool_id" {
  description = "Id of the user pool."
  value       = module.identity.user_pool_id
}

output "client_id" {
  description = "Id of the app client (the tokens' audience)."
  value       = module.identity.client_id
}

output "issuer_url" {
  description = "Issuer of the tokens."
  value       = module.identity.issuer_url
}
