variable "name_prefix" {
  description = "Prefix of the bucket names: <name_prefix>-originals and <name_prefix>-derivatives. Lowercase letters, digits and hyphens, 3 to 40 characters, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix)) && !strcontains(var.name_prefix, "--")
    error_message = "name_prefix must be 3 to 40 characters of lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit (it becomes part of S3 bucket names)."
  }
}

variable "derivatives_storage_class" {
  description = "Storage class every derivative must be written with; the derivatives bucket refuses writes that name any other class (a write naming none is stored STANDARD: see the README). The default, REDUCED_REDUNDANCY, marks derivatives as reproducible from the originals (99.99% durability instead of eleven nines); note that AWS prices RRS above STANDARD in most regions today, so choose STANDARD or ONEZONE_IA when cost matters more than the marker."
  type        = string
  default     = "REDUCED_REDUNDANCY"

  validation {
    condition     = contains(["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], var.derivatives_storage_class)
    error_message = "derivatives_storage_class must be one of STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR (classes that serve reads immediately)."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for server-side encryption of both buckets (SSE-KMS with bucket keys). Null uses SSE-S3 (AES256), which CloudFront can read through Origin Access Control without a key policy."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "derivatives_versioning" {
  description = "Keep versions of derivatives. Off by default: derivatives are reproducible from the originals, and old versions only cost storage."
  type        = bool
  default     = false
}

variable "cors_allowed_origins" {
  description = "Origins allowed to PUT originals from a browser through presigned URLs, e.g. [\"https://app.example.com\"]. Empty means no CORS rule."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : o == "*" || can(regex("^https?://[^/\\s]+$", o))])
    error_message = "cors_allowed_origins must hold origins like https://app.example.com (scheme and host, no path) or \"*\"."
  }
}

variable "cdn_distribution_arns" {
  description = "ARNs of CloudFront distributions allowed to read derivatives through Origin Access Control. Nothing else can read them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.cdn_distribution_arns : can(regex("^arn:aws[a-z-]*:cloudfront::[0-9]{12}:distribution/[A-Z0-9]+$", a))])
    error_message = "cdn_distribution_arns must hold CloudFront distribution ARNs (arn:aws:cloudfront::<account>:distribution/<ID>)."
  }
}

variable "originals_upload_prefix" {
  description = "Key prefix under which the upload API puts originals; objects created under it are sent to the transcode queue."
  type        = string
  default     = "uploads/"

  validation {
    condition     = can(regex("^([A-Za-z0-9!_.*'()-]+/)*$", var.originals_upload_prefix))
    error_message = "originals_upload_prefix must be empty or end with \"/\", using only S3-safe characters (letters, digits and !_.*'()-)."
  }
}

variable "transcode_notification" {
  description = "Send every object created under originals_upload_prefix to this SQS queue (s3:ObjectCreated:*). An object, so that the notification can be planned while the queue's ARN is still unknown. Null sends nothing."
  type = object({
    queue_arn = string
  })
  default = null

  validation {
    condition     = var.transcode_notification == null ? true : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.transcode_notification.queue_arn))
    error_message = "transcode_notification.queue_arn must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)."
  }
}

variable "lost_derivatives_notification" {
  description = "Send S3's reports of derivatives lost from Reduced Redundancy storage (s3:ReducedRedundancyLostObject) to this SQS queue, whose consumer makes them again. The queue's policy must let the derivatives bucket send. Null sends nothing."
  type = object({
    queue_arn = string
  })
  default = null

  validation {
    condition     = var.lost_derivatives_notification == null ? true : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.lost_derivatives_notification.queue_arn))
    error_message = "lost_derivatives_notification.queue_arn must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)."
  }
}

variable "originals_lifecycle" {
  description = "Lifecycle of the originals bucket: days until noncurrent versions expire and until incomplete multipart uploads are aborted; 0 turns that rule off, null turns lifecycle management off."
  type = object({
    noncurrent_version_expiration_days = optional(number, 30)
    abort_incomplete_multipart_days    = optional(number, 7)
  })
  default = {}
}

variable "derivatives_lifecycle" {
  description = "Lifecycle of the derivatives bucket, as originals_lifecycle. Default: abort incomplete multipart uploads after 7 days; noncurrent versions only exist with derivatives_versioning."
  type = object({
    noncurrent_version_expiration_days = optional(number, 0)
    abort_incomplete_multipart_days    = optional(number, 7)
  })
  default = {}
}

variable "originals_replication" {
  description = <<-EOT
    Copies of the originals in another region, for disaster recovery (S3 Replication): every new version of an original under the upload prefix is replicated into destination_bucket_arn (a versioned bucket in another region, which the caller creates) at storage_class, and delete markers are replicated too. S3 replicates objects created after the rule exists, never permanent deletions of versions: a media's deletion purges its original here, while its replica stays until the destination's own lifecycle removes it. Null (the default) replicates nothing.
  EOT
  type = object({
    destination_bucket_arn  = string
    storage_class           = optional(string, "STANDARD_IA")
    destination_kms_key_arn = optional(string)
  })
  default = null

  validation {
    condition     = var.originals_replication == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", try(var.originals_replication.destination_bucket_arn, "")))
    error_message = "originals_replication.destination_bucket_arn must be a bucket ARN like arn:aws:s3:::acme-media-originals-replica."
  }
  validation {
    condition     = var.originals_replication == null || contains(["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], try(var.originals_replication.storage_class, ""))
    error_message = "originals_replication.storage_class must be one of STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER or DEEP_ARCHIVE."
  }
  validation {
    condition     = var.originals_replication == null || var.kms_key_arn == null || try(var.originals_replication.destination_kms_key_arn, null) != null
    error_message = "originals_replication.destination_kms_key_arn is required when the originals are encrypted with kms_key_arn: S3 replicates SSE-KMS objects only into a key of the destination's region."
  }
}

variable "access_logging" {
  description = "Server access logging of both buckets into a separate log bucket, under <target_prefix>originals/ and <target_prefix>derivatives/. Null turns it off."
  type = object({
    target_bucket = string
    target_prefix = optional(string, "s3/")
  })
  default = null
}

variable "force_destroy" {
  description = "Allow destroying the buckets while they still hold objects (all objects are deleted). Keep false in production; tests set it."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
