output "api_url" {
  description = "Base URL of the upload API at its load balancer."
  value       = module.region.api_url
}

output "api_fqdn" {
  description = "Latency record of the API (null without zone_name)."
  value       = one(module.latency_dns[*].fqdn)
}

output "dns_zone_id" {
  description = "Hosted zone of the API's record (null without zone_name)."
  value       = one(module.latency_dns[*].zone_id)
}

output "cdn_base_url" {
  description = "Base URL media is served from."
  value       = "https://${module.cdn.domain_name}"
}

output "api_via_cdn_url" {
  description = "Base URL of the API's cached public reads through the CDN (GET /v1/feed, GET /v1/media/{id}); null when the distribution does not serve the API (a certificate without zone_name)."
  value       = module.cdn.api_base_url
}

output "web_app_url" {
  description = "URL of the web app (null without web_app)."
  value       = module.cdn.web_app_url
}

output "web_app_bucket_id" {
  description = "Bucket holding the web app (null without web_app)."
  value       = one(module.web_app[*].bucket_id)
}

output "cdn_distribution_id" {
  description = "Id of the CloudFront distribution."
  value       = module.cdn.distribution_id
}

output "originals_bucket_id" {
  description = "Bucket that receives uploads."
  value       = module.region.originals_bucket_id
}

output "derivatives_bucket_id" {
  description = "Bucket that holds renditions, HLS and posters."
  value       = module.region.derivatives_bucket_id
}

output "transcode_queue_url" {
  description = "URL of the transcode queue."
  value       = module.region.transcode_queue_url
}

output "transcode_dlq_url" {
  description = "URL of the transcode queue's dead-letter queue."
  value       = module.region.transcode_dlq_url
}

output "media_events_topic_arn" {
  description = "Topic announcing ready and failed media."
  value       = module.region.media_events_topic_arn
}

output "media_events_inbox_url" {
  description = "Queue subscribed to the media events."
  value       = module.media_events_inbox.queue_url
}

output "transcoder_function_name" {
  description = "Name of the transcode function."
  value       = module.region.transcoder_function_name
}

output "transcode_workers_asg_name" {
  description = "Name of the spot worker fleet's Auto Scaling group; null without worker_fleet."
  value       = module.region.transcode_workers_asg_name
}

output "upload_api_asg_name" {
  description = "Auto Scaling group of the upload API."
  value       = module.region.upload_api_asg_name
}

output "database_endpoint" {
  description = "host:port of the metadata database."
  value       = module.region.database_endpoint
}

output "database_secret_arn" {
  description = "RDS-managed secret of the database credentials."
  value       = module.region.database_secret_arn
}

output "user_pool_id" {
  description = "Cognito user pool of the API's users."
  value       = module.region.user_pool_id
}

output "user_pool_client_id" {
  description = "App client whose tokens the API accepts."
  value       = module.region.user_pool_client_id
}
