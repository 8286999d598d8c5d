output "queue_arn" {
  description = "ARN of the queue. Available once the queue policy is in place, so that a bucket notification built from it passes S3's permission check."
  value       = aws_sqs_queue.this.arn
  depends_on  = [aws_sqs_queue_policy.this]
}

output "queue_url" {
  description = "URL of the queue."
  value       = aws_sqs_queue.this.id
}

output "queue_name" {
  description = "Name of the queue."
  value       = aws_sqs_queue.this.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dlq.id
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dlq.name
}

output "visibility_timeout_seconds" {
  description = "Visibility timeout the queue was given."
  value       = aws_sqs_queue.this.visibility_timeout_seconds
}

output "dlq_alarm_arn" {
  description = "ARN of the alarm on messages in the dead-letter queue."
  value       = aws_cloudwatch_metric_alarm.dlq_depth.arn
}

output "age_alarm_arn" {
  description = "ARN of the alarm on the age of the oldest message."
  value       = aws_cloudwatch_metric_alarm.oldest_message_age.arn
}
