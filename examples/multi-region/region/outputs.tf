# The stamp contract: "home" for the other regions, "endpoint" for the edge.

output "home" {
  description = "What every other region takes as var.home: the user pool, the catalogue's primary and the path to it (the region stack's home, and its peering_home as peering). Meaningful in the home region."
  value       = merge(module.region.home, { peering = module.region.peering_home })
}

output "endpoint" {
  description = "What the edge takes of this region (its var.regions entry): the API's load balancer and URLs, and the CDN."
  value = {
    api_url      = module.region.api_url
    alb_dns_name = module.region.alb_dns_name
    alb_zone_id  = module.region.alb_zone_id
    https        = var.certificate_arn != null
    cdn_base_url = "https://${module.cdn.domain_name}"
  }
}

output "api_url" {
  description = "Base URL of this region's upload API at its load balancer."
  value       = module.region.api_url
}

output "cdn_base_url" {
  description = "Base URL this region's media is served from."
  value       = "https://${module.cdn.domain_name}"
}

output "api_via_cdn_url" {
  description = "Base URL of this region's API's cached public reads through its distribution; null when it does not serve them."
  value       = module.cdn.api_base_url
}

output "user_pool_id" {
  description = "The user pool every region trusts (the home region's)."
  value       = module.region.user_pool_id
}

output "user_pool_client_id" {
  description = "The app client whose tokens every region accepts."
  value       = module.region.user_pool_client_id
}

output "upload_api_asg_name" {
  description = "This region's upload API fleet."
  value       = module.region.upload_api_asg_name
}

output "peering_connection_id" {
  description = "The peering to the home region; null in the home region."
  value       = one(module.peering[*].peering_connection_id)
}

output "originals_replica_bucket_id" {
  description = "The bucket in originals_replica_region holding copies of this region's originals; null without one."
  value       = one(module.originals_replica[*].id)
}
