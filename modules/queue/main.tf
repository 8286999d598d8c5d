# A work queue with its dead-letter queue, encrypted, reachable only over TLS and only by the
# sources it names, and alarmed on what matters: poison messages and a growing backlog.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # Built from the name so that the policy is known at plan time.
  queue_arn          = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:${var.name}"
  visibility_timeout = coalesce(var.visibility_timeout_seconds, min(6 * var.consumer_timeout_seconds, 43200))
  source_account     = coalesce(var.source_account_id, data.aws_caller_identity.current.account_id)
}

################################################################################
# Queues
################################################################################

resource "aws_sqs_queue" "dlq" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

resource "aws_sqs_queue" "this" {
  name                       = var.name
  visibility_timeout_seconds = local.visibility_timeout
  message_retention_seconds  = var.message_retention_seconds
  receive_wait_time_seconds  = var.receive_wait_time_seconds
  sqs_managed_sse_enabled    = var.kms_key_arn == null ? true : null
  kms_master_key_id          = var.kms_key_arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

# Only this queue may use the DLQ, so a misconfigured neighbour cannot fill it.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  count = var.restrict_dlq_sources ? 1 : 0

  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this.arn]
  })
}

################################################################################
# Policy: TLS only; the named buckets and topics may send
################################################################################

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [local.queue_arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = length(var.allowed_source_bucket_arns) > 0 ? [1] : []
    content {
      sid       = "AllowBucketNotifications"
      effect    = "Allow"
      actions   = ["sqs:SendMessage"]
      resources = [local.queue_arn]
      principals {
        type        = "Service"
        identifiers = ["s3.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = var.allowed_source_bucket_arns
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.source_account]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.allowed_source_topic_arns) > 0 ? [1] : []
    content {
      sid       = "AllowTopicDelivery"
      effect    = "Allow"
      actions   = ["sqs:SendMessage"]
      resources = [local.queue_arn]
      principals {
        type        = "Service"
        identifiers = ["sns.amazonaws.com"]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = var.allowed_source_topic_arns
      }
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy    = data.aws_iam_policy_document.this.json
}

################################################################################
# Alarms
################################################################################

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${var.name}-dlq-not-empty"
  alarm_description   = "Messages failed ${var.max_receive_count} times and wait in ${aws_sqs_queue.dlq.name}: inspect them, fix the cause, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  alarm_name          = "${var.name}-backlog-age"
  alarm_description   = "The oldest message in ${var.name} is older than ${var.oldest_message_age_alarm_seconds} s: consumers are failing or too few."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.this.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.oldest_message_age_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.ok_actions
  tags                = var.tags
}
