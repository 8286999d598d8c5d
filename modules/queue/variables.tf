variable "name" {
  description = "Name of the queue; the dead-letter queue is <name>-dlq. Letters, digits, hyphens and underscores, at most 76 characters."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name must be 1 to 76 letters, digits, hyphens or underscores (SQS allows 80 and the DLQ adds \"-dlq\")."
  }
}

variable "consumer_timeout_seconds" {
  description = "Timeout of the consumer (the Lambda function or worker) in seconds. The visibility timeout must be at least six times this, as AWS recommends for Lambda event sources."
  type        = number

  validation {
    condition     = var.consumer_timeout_seconds >= 1 && var.consumer_timeout_seconds <= 900 && floor(var.consumer_timeout_seconds) == var.consumer_timeout_seconds
    error_message = "consumer_timeout_seconds must be a whole number from 1 to 900 (Lambda's maximum)."
  }
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays hidden from other consumers. Null: six times consumer_timeout_seconds (capped at 43200)."
  type        = number
  default     = null

  validation {
    condition     = var.visibility_timeout_seconds == null ? true : (var.visibility_timeout_seconds >= 6 * var.consumer_timeout_seconds && var.visibility_timeout_seconds <= 43200)
    error_message = "visibility_timeout_seconds must be at least 6 x consumer_timeout_seconds (so a message is not delivered twice while its first consumer still runs) and at most 43200."
  }
}

variable "max_receive_count" {
  description = "Receives after which a message moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "restrict_dlq_sources" {
  description = "Let only this queue move messages into the DLQ (a redrive-allow policy byQueue). Keep true; the local emulator (moto 5.2) does not implement redrive-allow policies, so the test harness turns it off there."
  type        = bool
  default     = true
}

variable "message_retention_seconds" {
  description = "How long the queue keeps a message (60 to 1209600 seconds); the DLQ keeps messages 14 days."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be from 60 (1 minute) to 1209600 (14 days)."
  }
}

variable "receive_wait_time_seconds" {
  description = "Long polling: how long a receive waits for messages (0 to 20 seconds)."
  type        = number
  default     = 20

  validation {
    condition     = var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20
    error_message = "receive_wait_time_seconds must be from 0 to 20."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for SSE-KMS. Null uses SQS-managed encryption (SSE-SQS), which needs no key policy."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "allowed_source_bucket_arns" {
  description = "S3 buckets that may send event notifications to the queue."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.allowed_source_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", a))])
    error_message = "allowed_source_bucket_arns must hold bucket ARNs (arn:aws:s3:::<bucket>)."
  }
}

variable "allowed_source_topic_arns" {
  description = "SNS topics that may deliver to the queue."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.allowed_source_topic_arns : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+$", a))])
    error_message = "allowed_source_topic_arns must hold SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>)."
  }
}

variable "source_account_id" {
  description = "Account that owns the source buckets (aws:SourceAccount), guarding against a bucket of the same name in another account. Null: the caller's account."
  type        = string
  default     = null

  validation {
    condition     = var.source_account_id == null || can(regex("^[0-9]{12}$", var.source_account_id))
    error_message = "source_account_id must be a 12-digit account id or null."
  }
}

variable "oldest_message_age_alarm_seconds" {
  description = "Alarm when the oldest message of the queue is older than this (the backlog is not being worked off)."
  type        = number
  default     = 900

  validation {
    condition     = var.oldest_message_age_alarm_seconds >= 60
    error_message = "oldest_message_age_alarm_seconds must be at least 60."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires (usually SNS topics)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_actions : can(regex("^arn:aws[a-z-]*:", a))])
    error_message = "alarm_actions must hold ARNs."
  }
}

variable "ok_actions" {
  description = "ARNs notified when an alarm clears."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.ok_actions : can(regex("^arn:aws[a-z-]*:", a))])
    error_message = "ok_actions must hold ARNs."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
