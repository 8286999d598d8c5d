# Computed ARNs and ids get well-formed mock values: OpenTofu plans with them (Terraform
# leaves them unknown), and the provider validates what it is given.
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
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:111122223333:media-events"
    }
  }
}

variables {
  name = "media-events"
}

run "defaults" {
  command = plan

  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation && aws_kms_alias.this[0].name == "alias/media-events-sns"
    error_message = "by default the topic gets a customer managed key with rotation"
  }
  assert {
    condition     = local.topic_arn == "arn:aws:sns:us-east-1:111122223333:media-events"
    error_message = "the policy must name the topic"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.this.statement : s.sid] == ["DenyInsecureTransport", "OwnerManages"]
    error_message = "by default: TLS only, and the owner account manages the topic"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.this) == 0
    error_message = "no subscription unless asked"
  }
}

run "publishers_and_subscriptions" {
  command = plan

  variables {
    kms_master_key_id = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    publisher_arns    = ["arn:aws:iam::111122223333:role/media-transcoder"]
    subscriptions = {
      events = { protocol = "sqs", endpoint = "arn:aws:sqs:us-east-1:111122223333:media-events", raw_message_delivery = true, filter_policy = "{\"status\":[\"ready\"]}" }
      hook   = { protocol = "https", endpoint = "https://hooks.example.com/media" }
      ops    = { protocol = "email", endpoint = "ops@example.com" }
      fn     = { protocol = "lambda", endpoint = "arn:aws:lambda:us-east-1:111122223333:function:thumbs" }
    }
    tags = { team = "media" }
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_sns_topic.this.kms_master_key_id == "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "a given key is used as is"
  }
  assert {
    condition     = contains([for s in data.aws_iam_policy_document.this.statement : s.sid], "AllowPublishers")
    error_message = "the named publishers may publish"
  }
  assert {
    condition     = aws_sns_topic_subscription.this["events"].raw_message_delivery && aws_sns_topic_subscription.this["events"].filter_policy == "{\"status\":[\"ready\"]}"
    error_message = "raw delivery and the filter policy reach the SQS subscription"
  }
  assert {
    condition     = aws_sns_topic_subscription.this["ops"].raw_message_delivery == null
    error_message = "raw delivery is not set where SNS does not support it"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.this) == 4 && aws_sns_topic.this.tags["team"] == "media"
    error_message = "every subscription is created and tags reach the topic"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "media events"
  }
  expect_failures = [var.name]
}

run "rejects_bad_kms_key" {
  command = plan
  variables {
    kms_master_key_id = "aws/sns"
  }
  expect_failures = [var.kms_master_key_id]
}

run "rejects_bad_publisher" {
  command = plan
  variables {
    publisher_arns = ["arn:aws:lambda:us-east-1:111122223333:function:x"]
  }
  expect_failures = [var.publisher_arns]
}

run "rejects_unknown_protocol" {
  command = plan
  variables {
    subscriptions = { sms = { protocol = "sms", endpoint = "+15555550100" } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_endpoint_not_matching_protocol" {
  command = plan
  variables {
    subscriptions = { hook = { protocol = "https", endpoint = "http://hooks.example.com" } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_bad_filter_policy" {
  command = plan
  variables {
    subscriptions = { q = { protocol = "sqs", endpoint = "arn:aws:sqs:us-east-1:111122223333:q", filter_policy = "status=ready" } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_raw_delivery_for_email" {
  command = plan
  variables {
    subscriptions = { ops = { protocol = "email", endpoint = "ops@example.com", raw_message_delivery = true } }
  }
  expect_failures = [var.subscriptions]
}
