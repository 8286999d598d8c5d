output "api_url" {
  description = "The API under its latency name: each client reaches its nearest healthy region."
  value       = one([for m in module.latency_dns : "${anytrue([for e in values(var.regions) : e.https]) ? "https" : "http"}://${m.fqdn}"])
}

output "api_fqdn" {
  description = "The latency record's name."
  value       = one(module.latency_dns[*].fqdn)
}

output "zone_id" {
  description = "The hosted zone of the record."
  value       = one(module.latency_dns[*].zone_id)
}

output "regions" {
  description = "Each region's API and CDN base URLs."
  value       = { for region, e in var.regions : region => { upload_api_url = e.api_url, cdn_base_url = e.cdn_base_url } }
}
