output "topic_arn" {
  description = "ARN of the media events topic."
  value       = module.media_events.topic_arn
}

output "ready_queue_url" {
  description = "Queue receiving the ready events."
  value       = module.events_queue.queue_url
}
