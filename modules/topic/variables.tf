variable "name" {
  description = "Name of the topic: letters, digits, hyphens and underscores, at most 256 characters."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,256}$", var.name))
    error_message = "name must be 1 to 256 letters, digits, hyphens or underscores."
  }
}

variable "kms_master_key_id" {
  description = "KMS key (id, ARN or alias) that encrypts messages at rest. Null: the module creates a customer managed key with rotation (about 1 USD a month) whose policy lets SNS, CloudWatch alarms and the publishers use it; the AWS-managed alias/aws/sns cannot be shared that way."
  type        = string
  default     = null

  validation {
    condition     = var.kms_master_key_id == null || can(regex("^(alias/[A-Za-z0-9/_-]+|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+|[0-9a-f-]{36})$", var.kms_master_key_id))
    error_message = "kms_master_key_id must be a KMS alias (alias/...), key or alias ARN, or key id."
  }
}

variable "publisher_arns" {
  description = "IAM principals (role or user ARNs) allowed to publish, in addition to the account's own identity policies."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.publisher_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "publisher_arns must hold IAM role or user ARNs (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "subscriptions" {
  description = "Subscriptions keyed by a name of your choice. protocol is sqs, lambda (endpoint an ARN), https (an https:// URL) or email (an address). An SQS queue must itself allow the topic to send (the queue module's allowed_source_topic_arns)."
  type = map(object({
    protocol             = string
    endpoint             = string
    raw_message_delivery = optional(bool, false)
    filter_policy        = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : contains(["sqs", "lambda", "https", "email"], s.protocol)])
    error_message = "subscriptions: protocol must be sqs, lambda, https or email."
  }

  validation {
    condition = alltrue([for s in values(var.subscriptions) : (
      s.protocol == "sqs" ? can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:.+$", s.endpoint)) :
      s.protocol == "lambda" ? can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:.+$", s.endpoint)) :
      s.protocol == "https" ? can(regex("^https://[^\\s]+$", s.endpoint)) :
      can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint))
    )])
    error_message = "subscriptions: the endpoint must match the protocol: an SQS queue ARN, a Lambda function ARN, an https:// URL, or an email address."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.filter_policy == null || can(jsondecode(s.filter_policy))])
    error_message = "subscriptions: filter_policy must be JSON, e.g. {\"status\":[\"ready\"]}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : !s.raw_message_delivery || contains(["sqs", "https"], s.protocol)])
    error_message = "subscriptions: raw_message_delivery is only for sqs and https subscriptions."
  }
}

variable "tags" {
  description = "Tags applied to the topic."
  type        = map(string)
  default     = {}
}
