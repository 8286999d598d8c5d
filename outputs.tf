locals {
  region_outputs = [for stack in concat([module.primary], module.secondary) : {
    region                   = stack.region
    api_url                  = stack.api_url
    originals_bucket_id      = stack.originals_bucket_id
    derivatives_bucket_id    = stack.derivatives_bucket_id
    transcode_queue_url      = stack.transcode_queue_url
    transcode_dlq_url        = stack.transcode_dlq_url
    media_events_topic_arn   = stack.media_events_topic_arn
    transcoder_function_name = stack.transcoder_function_name
    upload_api_asg_name      = stack.upload_api_asg_name
    database_endpoint        = stack.database_endpoint
    user_pool_id             = stack.user_pool_id
    user_pool_client_id      = stack.user_pool_client_id
    issuer_url               = stack.issuer_url
  }]
  cdn_outputs = [for cdn in concat([module.cdn_primary], module.cdn_secondary) : {
    cdn_base_url        = "https://${cdn.domain_name}"
    cdn_distribution_id = cdn.distribution_id
    api_via_cdn_url     = cdn.api_base_url
  }]
}

output "regions" {
  description = "Per region: the API's URL, the CDN's base URL and distribution, the API's cached public reads through the CDN (api_via_cdn_url), the buckets, queues, topic, function, Auto Scaling group, database endpoint and the user pool whose tokens the API accepts."
  value       = { for i, r in local.region_outputs : r.region => merge(r, local.cdn_outputs[i]) }
}

output "web_app_url" {
  description = "URL of the web app on the home region's distribution (null without web_app)."
  value       = module.cdn_primary.web_app_url
}

output "api_fqdn" {
  description = "Name of the latency records that send clients to the closest region's API (null without var.dns)."
  value       = one(module.latency_dns[*].fqdn)
}

output "dns_zone_id" {
  description = "Hosted zone of the latency records (null without var.dns)."
  value       = one(module.latency_dns[*].zone_id)
}
