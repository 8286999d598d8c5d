variable "name" {
  description = "Name of the function, its role and its log group: letters, digits, hyphens and underscores, at most 56 characters (the role adds a suffix)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1 to 56 letters, digits, hyphens or underscores."
  }
}

variable "zip_path" {
  description = "Path of the function's zip (holding the executable bootstrap, as scripts/artifacts builds it). Its hash is tracked: a rebuild with other bytes updates the function."
  type        = string

  validation {
    condition     = endswith(var.zip_path, ".zip") && fileexists(var.zip_path)
    error_message = "zip_path must name an existing .zip file: run scripts/setup (or make setup) to build the artifacts into build/."
  }
}

variable "architecture" {
  description = "Instruction set of the function: x86_64 or arm64 (cheaper per GB-second). It must match the artifacts' build."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory in MB (128 to 10240); CPU grows with it, and ffmpeg is CPU-bound."
  type        = number
  default     = 3008

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Timeout in seconds (1 to 900). The queue's visibility timeout must be at least six times this."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "chunking" {
  description = "Long videos in parallel chunks: a video longer than above_seconds is split into chunks of about chunk_seconds (a multiple of the 4-second segments), each a job on the function's own queue, run with the function's concurrency and assembled by the job that completes the last. Null: every video in one pass, which must then fit in the timeout."
  type = object({
    chunk_seconds = optional(number, 20)
    above_seconds = optional(number, 60)
  })
  default = {}

  validation {
    condition     = var.chunking == null ? true : (var.chunking.chunk_seconds >= 4 && var.chunking.chunk_seconds % 4 == 0)
    error_message = "chunking.chunk_seconds must be a multiple of the 4-second segments, at least 4: chunks start on segment boundaries."
  }

  validation {
    # A chunk of 1080p encodes its whole ladder in about 0.8 s per second of video on two
    # vCPUs; half the timeout leaves room for the download, a slower source and the assembly.
    condition     = var.chunking == null ? true : var.chunking.chunk_seconds <= var.timeout / 2
    error_message = "chunking.chunk_seconds must be at most half the function's timeout, so that a chunk and its assembly finish within one invocation: lower it or raise timeout."
  }

  validation {
    condition     = var.chunking == null ? true : var.chunking.above_seconds >= var.chunking.chunk_seconds
    error_message = "chunking.above_seconds must be at least chunking.chunk_seconds: a video shorter than two chunks gains nothing from chunking."
  }
}

variable "worker_routing" {
  description = "Jobs for the spot worker fleet: originals larger than above_bytes (null: a third of the ephemeral storage, which holds the original, the segments and the MP4s) and videos that must be transcoded in one pass and are longer than one_pass_above_seconds (null: half the timeout, at about 0.8 s per second of 1080p) go to the queue queue_arn as S3 sent them. Null: every job stays with the function."
  type = object({
    queue_arn              = string
    above_bytes            = optional(number)
    one_pass_above_seconds = optional(number)
  })
  default = null

  validation {
    condition     = var.worker_routing == null ? true : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.worker_routing.queue_arn))
    error_message = "worker_routing.queue_arn must be an SQS queue ARN."
  }

  validation {
    condition     = var.worker_routing == null ? true : (var.worker_routing.above_bytes == null ? true : var.worker_routing.above_bytes > 0 && var.worker_routing.above_bytes <= var.ephemeral_storage * 1048576)
    error_message = "worker_routing.above_bytes must be positive and at most the ephemeral storage: a larger original cannot be staged in /tmp."
  }

  validation {
    condition     = var.worker_routing == null ? true : (var.worker_routing.one_pass_above_seconds == null ? true : var.worker_routing.one_pass_above_seconds > 0 && var.worker_routing.one_pass_above_seconds < var.timeout)
    error_message = "worker_routing.one_pass_above_seconds must be positive and below the timeout: a one-pass video takes longer to transcode than to play."
  }
}

variable "reconcile" {
  description = "The reconciler of lost derivatives: an EventBridge Scheduler schedule (schedule, a rate() or cron() expression) sends the function's queue a message on which it checks up to limit ready media, least recently checked first, and makes again those missing derivatives (as it does on the derivatives bucket's s3:ReducedRedundancyLostObject notification). Null: no schedule."
  type = object({
    schedule = optional(string, "rate(1 hour)")
    limit    = optional(number, 100)
  })
  default = {}

  validation {
    condition     = var.reconcile == null ? true : can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", var.reconcile.schedule))
    error_message = "reconcile.schedule must be an EventBridge Scheduler rate or cron expression, for example \"rate(1 hour)\" or \"cron(0 3 * * ? *)\"."
  }

  validation {
    # One message checks them with one listing each, eight at a time, within one invocation.
    condition     = var.reconcile == null ? true : (var.reconcile.limit >= 1 && var.reconcile.limit <= 1000 && floor(var.reconcile.limit) == var.reconcile.limit)
    error_message = "reconcile.limit must be a whole number of media from 1 to 1000 per run."
  }
}

variable "cdn_distribution_arns" {
  description = "The distributions that serve the derivatives: the function may invalidate a media made again on them (the environment's CDN_DISTRIBUTION_ID names the one it does)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.cdn_distribution_arns : can(regex("^arn:aws[a-z-]*:cloudfront::[0-9]{12}:distribution/[A-Z0-9]+$", arn))])
    error_message = "cdn_distribution_arns must be CloudFront distribution ARNs (arn:aws:cloudfront::<account>:distribution/<id>)."
  }
}

variable "ephemeral_storage" {
  description = "Size of /tmp in MB (512 to 10240): the original and the renditions are staged there."
  type        = number
  default     = 10240

  validation {
    condition     = var.ephemeral_storage >= 512 && var.ephemeral_storage <= 10240 && floor(var.ephemeral_storage) == var.ephemeral_storage
    error_message = "ephemeral_storage must be a whole number of MB from 512 to 10240."
  }
}

variable "ffmpeg_layer" {
  description = "The ffmpeg layer: an existing layer version ARN, or a zip the module publishes (ffmpeg and ffprobe under bin/). Null: the function brings its own ffmpeg."
  type = object({
    arn      = optional(string)
    zip_path = optional(string)
  })
  default = null

  validation {
    condition     = var.ffmpeg_layer == null ? true : ((var.ffmpeg_layer.arn == null) != (var.ffmpeg_layer.zip_path == null))
    error_message = "ffmpeg_layer takes either arn or zip_path, not both and not neither."
  }

  validation {
    condition     = var.ffmpeg_layer == null ? true : (var.ffmpeg_layer.arn == null ? true : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.ffmpeg_layer.arn)))
    error_message = "ffmpeg_layer.arn must be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }

  validation {
    condition     = var.ffmpeg_layer == null ? true : (var.ffmpeg_layer.zip_path == null ? true : fileexists(var.ffmpeg_layer.zip_path))
    error_message = "ffmpeg_layer.zip_path must name an existing zip file."
  }
}

variable "environment" {
  description = "Extra environment of the function. The module sets ORIGINALS_BUCKET, DERIVATIVES_BUCKET, DERIVATIVES_STORAGE_CLASS, TOPIC_ARN and DB_SECRET_ARN itself."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_")])
    error_message = "environment keys must be letters, digits and underscores, starting with a letter, and must not start with AWS_ (reserved by Lambda)."
  }
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: Active (sample and trace) or PassThrough."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the function, which also caps it; -1 leaves it unreserved."
  type        = number
  default     = -1

  validation {
    condition     = var.reserved_concurrent_executions >= -1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "queue" {
  description = "The SQS queue the function consumes, with the event source mapping's settings. maximum_concurrency caps the pollers' invocations (2 to 1000; null: no cap)."
  type = object({
    arn                                = string
    batch_size                         = optional(number, 1)
    maximum_batching_window_in_seconds = optional(number, 0)
    maximum_concurrency                = optional(number)
  })

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.queue.arn))
    error_message = "queue.arn must be an SQS queue ARN."
  }

  validation {
    condition     = var.queue.batch_size >= 1 && var.queue.batch_size <= 10000 && (var.queue.batch_size <= 10 || var.queue.maximum_batching_window_in_seconds >= 1)
    error_message = "queue.batch_size must be from 1 to 10000; above 10 it needs a batching window of at least 1 second."
  }

  validation {
    condition     = var.queue.maximum_batching_window_in_seconds >= 0 && var.queue.maximum_batching_window_in_seconds <= 300
    error_message = "queue.maximum_batching_window_in_seconds must be from 0 to 300."
  }

  validation {
    condition     = var.queue.maximum_concurrency == null ? true : (var.queue.maximum_concurrency >= 2 && var.queue.maximum_concurrency <= 1000)
    error_message = "queue.maximum_concurrency must be from 2 to 1000, or null."
  }
}

variable "originals_bucket_arn" {
  description = "ARN of the originals bucket; the function may read objects under originals_prefix."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.originals_bucket_arn))
    error_message = "originals_bucket_arn must be a bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "originals_prefix" {
  description = "Key prefix of the originals the function may read."
  type        = string
  default     = "uploads/"
}

variable "derivatives_bucket_arn" {
  description = "ARN of the derivatives bucket; the function may write there, in derivatives_storage_class only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.derivatives_bucket_arn))
    error_message = "derivatives_bucket_arn must be a bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "derivatives_storage_class" {
  description = "Storage class the function must write derivatives with (its role allows no other)."
  type        = string
  default     = "REDUCED_REDUNDANCY"

  validation {
    condition     = contains(["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], var.derivatives_storage_class)
    error_message = "derivatives_storage_class must be one of STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR."
  }
}

variable "topic_arn" {
  description = "ARN of the SNS topic the function publishes media events to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.topic_arn))
    error_message = "topic_arn must be an SNS topic ARN."
  }
}

variable "db_secret_arn" {
  description = "ARN of the Secrets Manager secret with the database credentials (RDS-managed). Null: no database access."
  type        = string
  default     = null

  validation {
    condition     = var.db_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.db_secret_arn))
    error_message = "db_secret_arn must be a Secrets Manager secret ARN or null."
  }
}

variable "kms_key_arns" {
  description = "KMS keys the function must use: the topic's key (to publish) and the keys of the secret and buckets when they are customer managed."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "kms_key_arns must hold KMS key ARNs."
  }
}

variable "email_sender" {
  description = "The address the function sends uploaders' outcome emails as, and the SES identities that may verify it (ARNs: the address's own, its domain's); the role may send as that address only. Null: no email."
  type = object({
    from_address  = string
    identity_arns = list(string)
  })
  default = null

  validation {
    condition     = var.email_sender == null || alltrue([for a in try(var.email_sender.identity_arns, []) : can(regex("^arn:aws[a-z-]*:ses:[a-z0-9-]+:[0-9]{12}:identity/.+$", a))]) && length(try(var.email_sender.identity_arns, [])) > 0
    error_message = "email_sender.identity_arns must list SES identity ARNs (arn:aws:ses:<region>:<account>:identity/<address or domain>)."
  }
}

variable "vpc_config" {
  description = "Run the function in these private subnets with these security groups (to reach a private database). The caller owns the network rules: the groups must allow egress to the database and to AWS APIs (VPC endpoints or NAT)."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.vpc_config == null ? true : (length(var.vpc_config.subnet_ids) >= 2 && alltrue([for s in var.vpc_config.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))]))
    error_message = "vpc_config.subnet_ids needs at least two subnet-... ids (in different AZs) for availability."
  }

  validation {
    condition     = var.vpc_config == null ? true : (length(var.vpc_config.security_group_ids) >= 1 && alltrue([for s in var.vpc_config.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))]))
    error_message = "vpc_config.security_group_ids needs at least one sg-... id."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
