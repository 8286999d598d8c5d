mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:111122223333:media-transcode-dlq"
    }
  }
}

variables {
  name                     = "media-transcode"
  consumer_timeout_seconds = 120
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 720
    error_message = "the visibility timeout defaults to 6 x the consumer timeout"
  }
  assert {
    condition     = aws_sqs_queue.this.sqs_managed_sse_enabled && aws_sqs_queue.dlq.sqs_managed_sse_enabled
    error_message = "both queues are encrypted with SSE-SQS by default"
  }
  assert {
    condition     = aws_sqs_queue.dlq.name == "media-transcode-dlq" && aws_sqs_queue.dlq.message_retention_seconds == 1209600
    error_message = "the DLQ is <name>-dlq and keeps messages 14 days"
  }
  assert {
    condition     = aws_sqs_queue.this.receive_wait_time_seconds == 20
    error_message = "long polling is on by default"
  }
  assert {
    condition     = length(aws_sqs_queue_redrive_allow_policy.dlq) == 1
    error_message = "only this queue may use the DLQ by default"
  }
  assert {
    condition     = local.queue_arn == "arn:aws:sqs:us-east-1:111122223333:media-transcode"
    error_message = "the policy must name the queue"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.this.statement : s.sid] == ["DenyInsecureTransport"]
    error_message = "by default only the TLS rule is in the policy: nobody else may send"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_depth.threshold == 0 && aws_cloudwatch_metric_alarm.dlq_depth.dimensions["QueueName"] == "media-transcode-dlq"
    error_message = "any message in the DLQ raises the alarm"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.oldest_message_age.threshold == 900
    error_message = "the backlog alarm fires at 15 minutes by default"
  }
}

run "sources_kms_and_alarm_actions" {
  # apply (against the mock) so that the redrive policy, built from the DLQ's ARN, is known
  command = apply

  variables {
    visibility_timeout_seconds = 900
    max_receive_count          = 3
    kms_key_arn                = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    allowed_source_bucket_arns = ["arn:aws:s3:::media-originals"]
    allowed_source_topic_arns  = ["arn:aws:sns:us-east-1:111122223333:media-events"]
    alarm_actions              = ["arn:aws:sns:us-east-1:111122223333:ops"]
    ok_actions                 = ["arn:aws:sns:us-east-1:111122223333:ops"]
    tags                       = { team = "media" }
  }

  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 900
    error_message = "an explicit visibility timeout wins"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.this.redrive_policy).maxReceiveCount == 3
    error_message = "max_receive_count reaches the redrive policy"
  }
  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "a KMS key replaces SSE-SQS"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.this.statement : s.sid] == ["DenyInsecureTransport", "AllowBucketNotifications", "AllowTopicDelivery"]
    error_message = "the named buckets and topics may send"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_depth.alarm_actions == toset(["arn:aws:sns:us-east-1:111122223333:ops"])
    error_message = "alarm actions reach the alarms"
  }
  assert {
    condition     = aws_sqs_queue.this.tags["team"] == "media"
    error_message = "tags reach the queues"
  }
}

run "dlq_sources_unrestricted" {
  command = plan
  variables {
    restrict_dlq_sources = false
  }
  assert {
    condition     = length(aws_sqs_queue_redrive_allow_policy.dlq) == 0
    error_message = "restrict_dlq_sources = false leaves the DLQ's redrive-allow policy alone"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "media transcode"
  }
  expect_failures = [var.name]
}

run "rejects_bad_consumer_timeout" {
  command = plan
  variables {
    consumer_timeout_seconds = 901
  }
  expect_failures = [var.consumer_timeout_seconds]
}

run "rejects_short_visibility_timeout" {
  command = plan
  variables {
    visibility_timeout_seconds = 300
  }
  expect_failures = [var.visibility_timeout_seconds]
}

run "rejects_bad_max_receive_count" {
  command = plan
  variables {
    max_receive_count = 0
  }
  expect_failures = [var.max_receive_count]
}

run "rejects_bad_retention" {
  command = plan
  variables {
    message_retention_seconds = 30
  }
  expect_failures = [var.message_retention_seconds]
}

run "rejects_bad_wait_time" {
  command = plan
  variables {
    receive_wait_time_seconds = 21
  }
  expect_failures = [var.receive_wait_time_seconds]
}

run "rejects_bad_kms_key_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/aws/sqs"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_bucket_arn" {
  command = plan
  variables {
    allowed_source_bucket_arns = ["media-originals"]
  }
  expect_failures = [var.allowed_source_bucket_arns]
}

run "rejects_bad_topic_arn" {
  command = plan
  variables {
    allowed_source_topic_arns = ["arn:aws:sqs:us-east-1:111122223333:q"]
  }
  expect_failures = [var.allowed_source_topic_arns]
}

run "rejects_bad_source_account" {
  command = plan
  variables {
    source_account_id = "1234"
  }
  expect_failures = [var.source_account_id]
}

run "rejects_short_age_alarm" {
  command = plan
  variables {
    oldest_message_age_alarm_seconds = 10
  }
  expect_failures = [var.oldest_message_age_alarm_seconds]
}

run "rejects_bad_alarm_actions" {
  command = plan
  variables {
    alarm_actions = ["ops@example.com"]
  }
  expect_failures = [var.alarm_actions]
}

run "rejects_bad_ok_actions" {
  command = plan
  variables {
    ok_actions = ["ops@example.com"]
  }
  expect_failures = [var.ok_actions]
}
