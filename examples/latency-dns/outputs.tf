output "zone_id" {
  description = "ID of the hosted zone."
  value       = module.latency_dns.zone_id
}

output "name_servers" {
  description = "Name servers to delegate the domain to."
  value       = module.latency_dns.name_servers
}

output "fqdn" {
  description = "Name clients resolve."
  value       = module.latency_dns.fqdn
}

output "health_check_ids" {
  description = "Health check IDs by region."
  value       = module.latency_dns.health_check_ids
}
