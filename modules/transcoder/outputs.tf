output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN to invoke the function from API Gateway."
  value       = aws_lambda_function.this.invoke_arn
}

output "code_sha256" {
  description = "Base64 sha256 of the deployed zip, as Lambda reports it (CodeSha256)."
  value       = aws_lambda_function.this.code_sha256
}

output "role_arn" {
  description = "ARN of the function's role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's role."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "event_source_mapping_uuid" {
  description = "UUID of the SQS event source mapping."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "layer_version_arn" {
  description = "ARN of the ffmpeg layer the function uses (null without one)."
  value       = one(local.layers)
}

output "job_policy_json" {
  description = "The permissions of a transcode job (originals, derivatives, media events, database secret, keys, email), for another runner of the same jobs: the worker fleet's instance role."
  value       = data.aws_iam_policy_document.job.json
}

output "reconcile_schedule_arn" {
  description = "ARN of the reconciler's schedule (null without one)."
  value       = one(aws_scheduler_schedule.reconcile[*].arn)
}
