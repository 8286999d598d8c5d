output "queue_url" {
  description = "URL of the transcode queue."
  value       = module.transcode_queue.queue_url
}

output "dlq_url" {
  description = "URL of its dead-letter queue."
  value       = module.transcode_queue.dlq_url
}

output "originals_bucket_id" {
  description = "Bucket whose new objects are queued."
  value       = module.media_buckets.originals_bucket_id
}
