output "function_name" {
  description = "Name of the transcoder function."
  value       = module.transcoder.function_name
}

output "queue_url" {
  description = "URL of the transcode queue."
  value       = module.transcode_queue.queue_url
}

output "topic_arn" {
  description = "ARN of the media events topic."
  value       = module.media_events.topic_arn
}
