output "zone_id" {
  description = "ID of the hosted zone holding the records."
  value       = local.zone_id
}

output "name_servers" {
  description = "Name servers of the hosted zone, to delegate the domain to."
  value       = local.create_zone ? aws_route53_zone.this[0].name_servers : data.aws_route53_zone.given[0].name_servers
}

output "fqdn" {
  description = "Fully qualified name clients resolve, e.g. api.media.example.com."
  value       = local.fqdn
}

output "health_check_ids" {
  description = "IDs of the Route 53 health checks, by region (regions without a check are absent)."
  value       = { for region, hc in aws_route53_health_check.this : region => hc.id }
}
