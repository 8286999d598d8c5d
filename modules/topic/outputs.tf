output "topic_arn" {
  description = "ARN of the topic."
  value       = aws_sns_topic.this.arn
}

output "topic_name" {
  description = "Name of the topic."
  value       = aws_sns_topic.this.name
}

output "subscription_arns" {
  description = "ARNs of the subscriptions, by the keys of var.subscriptions."
  value       = { for k, s in aws_sns_topic_subscription.this : k => s.arn }
}

output "kms_key_arn" {
  description = "ARN of the key the module created (null when kms_master_key_id was given). Publishers need kms:GenerateDataKey* and kms:Decrypt on it."
  value       = one(aws_kms_key.this[*].arn)
}
