variable "name" {
  description = "Bucket name: 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name)) && !strcontains(var.name, "..") && !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.name))
    error_message = "name must be a valid S3 bucket name: 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit, no \"..\", not an IP address."
  }
}

variable "versioning" {
  description = "Keep every version of every object. On by default; turn off only for data that can be rebuilt."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for SSE-KMS with bucket keys. Null uses SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "policy_documents" {
  description = "IAM policy documents (JSON) merged into the bucket policy, after the statement that denies requests without TLS."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for d in var.policy_documents : can(jsondecode(d).Statement)])
    error_message = "policy_documents must hold JSON policy documents with a Statement list (for example from aws_iam_policy_document)."
  }
}

variable "cors_allowed_origins" {
  description = "Origins allowed to PUT and POST from a browser (presigned uploads), e.g. [\"https://app.example.com\"]. Empty means no CORS rule."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : o == "*" || can(regex("^https?://[^/\\s]+$", o))])
    error_message = "cors_allowed_origins must hold origins like https://app.example.com (scheme and host, no path) or \"*\"."
  }
}

variable "lifecycle_rules" {
  description = "Housekeeping: days after which noncurrent versions expire and incomplete multipart uploads are aborted; 0 turns that rule off, null turns lifecycle management off."
  type = object({
    noncurrent_version_expiration_days = optional(number, 30)
    abort_incomplete_multipart_days    = optional(number, 7)
  })
  default = {}

  validation {
    # Terraform's || does not short-circuit, hence the conditional.
    condition = var.lifecycle_rules == null ? true : alltrue([
      for d in [var.lifecycle_rules.noncurrent_version_expiration_days, var.lifecycle_rules.abort_incomplete_multipart_days] :
      floor(d) == d && d >= 0 && d <= 3650
    ])
    error_message = "lifecycle_rules days must be whole numbers from 1 to 3650, or 0 to turn that rule off."
  }
}

variable "logging" {
  description = "Server access logging into another bucket. Null turns it off."
  type = object({
    target_bucket = string
    target_prefix = optional(string, "")
  })
  default = null
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it still holds objects (all objects are deleted). Keep false in production; tests set it."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to the bucket."
  type        = map(string)
  default     = {}
}
