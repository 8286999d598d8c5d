# An encrypted SNS topic for media events (ready / failed), reachable only over TLS, with
# the subscriptions the platform's consumers need.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # Built from the name so that the policy is known at plan time.
  topic_arn = "arn:${data.aws_partition.current.partition}:sns:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:${var.name}"
}

################################################################################
# Encryption key (unless the caller brings one)
################################################################################

data "aws_iam_policy_document" "key" {
  count = var.kms_master_key_id == null ? 1 : 0

  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "ServicesEncrypt"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]
    }
  }

  dynamic "statement" {
    for_each = length(var.publisher_arns) > 0 ? [1] : []
    content {
      sid       = "PublishersEncrypt"
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = var.publisher_arns
      }
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.kms_master_key_id == null ? 1 : 0

  description             = "Encrypts the messages of SNS topic ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.key[0].json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  count = var.kms_master_key_id == null ? 1 : 0

  name          = "alias/${var.name}-sns"
  target_key_id = aws_kms_key.this[0].key_id
}

################################################################################
# Topic
################################################################################

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_master_key_id == null ? aws_kms_key.this[0].arn : var.kms_master_key_id
  tags              = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]
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

  # The account keeps managing its topic through identity policies.
  statement {
    sid = "OwnerManages"
    actions = [
      "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
      "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
    ]
    resources = [local.topic_arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  dynamic "statement" {
    for_each = length(var.publisher_arns) > 0 ? [1] : []
    content {
      sid       = "AllowPublishers"
      actions   = ["sns:Publish"]
      resources = [local.topic_arn]
      principals {
        type        = "AWS"
        identifiers = var.publisher_arns
      }
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_sns_topic_subscription" "this" {
  for_each = var.subscriptions

  topic_arn            = aws_sns_topic.this.arn
  protocol             = each.value.protocol
  endpoint             = each.value.endpoint
  raw_message_delivery = contains(["sqs", "https"], each.value.protocol) ? each.value.raw_message_delivery : null
  filter_policy        = each.value.filter_policy
}
