variable "name" {
  description = "Name of the region's stack and prefix of everything in it (buckets become <name>-originals and <name>-derivatives, so it must be unique across AWS): 3 to 20 lowercase letters, digits and single hyphens, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 3 to 20 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit (it becomes part of bucket and load balancer names)."
  }
}

variable "network" {
  description = "The region's VPC: its range and zone count, one NAT gateway for all zones (cheaper) or one per zone, or an existing VPC (see the network module's existing_vpc). The private subnets need a route to the internet: the fleet fetches Cognito's signing keys and the function calls AWS APIs."
  type = object({
    cidr_block         = optional(string, "10.0.0.0/16")
    az_count           = optional(number, 2)
    single_nat_gateway = optional(bool, true)
    existing_vpc = optional(object({
      vpc_id             = string
      public_subnet_ids  = list(string)
      private_subnet_ids = list(string)
    }))
  })
  default = {}

  validation {
    condition     = can(cidrhost(var.network.cidr_block, 0)) && tonumber(split("/", var.network.cidr_block)[1]) >= 16 && tonumber(split("/", var.network.cidr_block)[1]) <= 24
    error_message = "network.cidr_block must be an IPv4 CIDR block from /16 to /24, e.g. 10.0.0.0/16."
  }

  validation {
    condition     = var.network.az_count >= 2 && var.network.az_count <= 6 && var.network.az_count == floor(var.network.az_count)
    error_message = "network.az_count must be a whole number from 2 to 6 (the load balancer and the database need two zones)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate (in this region) for the API's HTTPS listener; HTTP then redirects to it. Null needs allow_plain_http."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or null."
  }
}

variable "allow_plain_http" {
  description = "Serve the API on plain HTTP (port 80) when there is no certificate. For local and dev stacks only: tokens and metadata travel unencrypted."
  type        = bool
  default     = false
}

variable "ingress_cidr_blocks" {
  description = "IPv4 ranges allowed to reach the API's load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.ingress_cidr_blocks) > 0 && alltrue([for c in var.ingress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "ingress_cidr_blocks must hold at least one IPv4 CIDR block, e.g. 0.0.0.0/0."
  }
}

variable "upload_api" {
  description = "The upload API fleet: the zip built from lambda-src/upload-api (an executable named bootstrap), the instances' architecture and type, the port, the group's size, the requests per instance the group scales to keep, and the upload limits it enforces (multipart above the threshold)."
  type = object({
    zip_path                  = string
    architecture              = optional(string, "x86_64")
    instance_type             = optional(string, "t3.small")
    port                      = optional(number, 8080)
    capacity                  = optional(object({ min = number, max = number, desired = number }), { min = 2, max = 6, desired = 2 })
    requests_per_target       = optional(number, 500)
    max_upload_bytes          = optional(number, 5368709120)
    multipart_threshold_bytes = optional(number, 104857600)
  })

  validation {
    condition     = fileexists(var.upload_api.zip_path)
    error_message = "upload_api.zip_path must name an existing zip: build it with scripts/setup (build/upload-api.zip)."
  }

  validation {
    condition     = var.upload_api.multipart_threshold_bytes >= 5242880 && var.upload_api.multipart_threshold_bytes <= var.upload_api.max_upload_bytes && var.upload_api.max_upload_bytes <= 5497558138880
    error_message = "upload_api needs 5 MiB <= multipart_threshold_bytes <= max_upload_bytes <= 5 TiB (S3's part and object limits)."
  }

  validation {
    condition     = var.upload_api.requests_per_target > 0
    error_message = "upload_api.requests_per_target must be positive."
  }
}

variable "transcoder" {
  description = "The transcode function: the zip built from lambda-src/transcoder, its architecture, memory (MB), timeout (s, also sizing the queue's visibility timeout), /tmp size (MB), the ffmpeg layer, how many invocations the queue may drive at once, reserved concurrency (-1: none), extra environment; chunking: videos longer than above_seconds transcoded in parallel chunks of about chunk_seconds (enabled = false: every video in one pass); and reconcile: on schedule (a rate or cron expression), up to limit ready media are checked for lost derivatives, which are made again as on the derivatives bucket's lost-object notification (enabled = false: only the notification makes them again)."
  type = object({
    zip_path                       = string
    architecture                   = optional(string, "x86_64")
    memory_size                    = optional(number, 3008)
    timeout                        = optional(number, 900)
    ephemeral_storage              = optional(number, 10240)
    ffmpeg_layer                   = optional(object({ arn = optional(string), zip_path = optional(string) }))
    maximum_concurrency            = optional(number, 10)
    reserved_concurrent_executions = optional(number, -1)
    environment                    = optional(map(string), {})
    chunking = optional(object({
      enabled       = optional(bool, true)
      chunk_seconds = optional(number, 20)
      above_seconds = optional(number, 60)
    }), {})
    reconcile = optional(object({
      enabled  = optional(bool, true)
      schedule = optional(string, "rate(1 hour)")
      limit    = optional(number, 100)
    }), {})
  })

  validation {
    condition     = fileexists(var.transcoder.zip_path)
    error_message = "transcoder.zip_path must name an existing zip: build it with scripts/setup (build/transcoder.zip)."
  }
}

variable "worker_fleet" {
  description = "The spot worker fleet, for the transcode jobs the function cannot hold: transcode-worker (the zip built from lambda-src/transcode-worker) on a mixed-instances Auto Scaling group of spot capacity, from 0 to max_instances, scaled on its own queue's backlog per instance. The function sends it originals larger than route_above_bytes and videos that must be transcoded in one pass and are longer than one_pass_above_seconds (null: the transcoder module's defaults from its storage and timeout). A worker keeps a job hidden for visibility_seconds at a time, renewed every third of it. ami_id must provide ffmpeg and ffprobe (Amazon Linux has none); null: the latest Amazon Linux 2023. Null: no fleet, every job stays with the function."
  type = object({
    zip_path                    = string
    ami_id                      = optional(string)
    architecture                = optional(string, "x86_64")
    instance_types              = optional(list(string), ["c7i.2xlarge", "c6i.2xlarge", "c5.2xlarge"])
    max_instances               = optional(number, 4)
    target_backlog_per_instance = optional(number, 1)
    visibility_seconds          = optional(number, 300)
    route_above_bytes           = optional(number)
    one_pass_above_seconds      = optional(number)
  })
  default = null

  validation {
    condition     = var.worker_fleet == null ? true : fileexists(var.worker_fleet.zip_path)
    error_message = "worker_fleet.zip_path must name an existing zip: build it with scripts/setup (build/transcode-worker.zip)."
  }

  validation {
    condition     = var.worker_fleet == null ? true : var.worker_fleet.max_instances >= 1 && var.worker_fleet.target_backlog_per_instance > 0
    error_message = "worker_fleet needs max_instances of at least 1 and a positive target_backlog_per_instance."
  }

  validation {
    # A job outlives many renewals; each must land before the last one lapses, on a busy
    # instance too, and SQS hides a message for at most 12 hours.
    condition     = var.worker_fleet == null ? true : var.worker_fleet.visibility_seconds >= 60 && var.worker_fleet.visibility_seconds <= 43200
    error_message = "worker_fleet.visibility_seconds must be from 60 (renewed every third, a renewal must not lapse on a busy instance) to 43200 (SQS's limit)."
  }
}

variable "database" {
  description = "The metadata database (PostgreSQL): instance class, Multi-AZ standby, days of automated backups and Performance Insights retention (null: off)."
  type = object({
    instance_class          = optional(string, "db.t4g.micro")
    multi_az                = optional(bool, false)
    backup_retention_period = optional(number, 7)
    performance_insights    = optional(number)
  })
  default = {}
}

variable "identity" {
  description = "The user pool whose tokens the API accepts: whether clients may sign in with USER_PASSWORD_AUTH (demos and tests), and the hosted UI's callback and logout URLs."
  type = object({
    allow_password_auth = optional(bool, false)
    callback_urls       = optional(list(string), [])
    logout_urls         = optional(list(string), [])
  })
  default = {}
}

variable "home" {
  description = <<-EOT
    For every region but the home one of a multi-region platform: what the home region shares. Null (the default): this region is the home region, or the only one, with a user pool and a database primary of its own.
    - identity: the home region's user pool (user_pool_id, client_id, issuer_url): this region's API trusts its tokens, so a user signs in once for every region; no pool is created here.
    - database: the home region's primary (instance_arn, address, port, secret_arn of its RDS-managed secret, and cidr_block, the home VPC's range, peered with this one): this region's database is a cross-region read replica of it, encrypted with a key of this region; the API and the transcoder write to the primary over the peering and the API reads what may lag from the replica.
  EOT
  type = object({
    identity = object({
      user_pool_id = string
      client_id    = string
      issuer_url   = string
    })
    database = object({
      instance_arn = string
      address      = string
      port         = optional(number, 5432)
      secret_arn   = string
      cidr_block   = string
    })
  })
  default = null

  validation {
    condition     = var.home == null || can(regex("^https://cognito-idp\\.[a-z0-9-]+\\.amazonaws\\.com/[a-z0-9-]+_[A-Za-z0-9]+$", try(var.home.identity.issuer_url, "")))
    error_message = "home.identity.issuer_url must be the user pool's issuer, https://cognito-idp.<region>.amazonaws.com/<user pool id>."
  }
  validation {
    condition     = var.home == null || can(regex("^arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:db:.+$", try(var.home.database.instance_arn, ""))) && can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", try(var.home.database.secret_arn, "")))
    error_message = "home.database.instance_arn must be the primary's DB instance ARN and secret_arn its RDS-managed secret's ARN."
  }
  validation {
    condition     = var.home == null || can(cidrhost(try(var.home.database.cidr_block, ""), 0))
    error_message = "home.database.cidr_block must be the home VPC's IPv4 range, e.g. 10.0.0.0/16."
  }
}

variable "allowed_countries" {
  description = "ISO 3166-1 alpha-2 codes of the only countries whose clients may use the API and sign in, e.g. [\"US\", \"CA\"]: a WAFv2 web ACL on the load balancer and on the region's user pool blocks everyone else with a 403 that says why. Empty (the default) allows every country and creates no web ACL (WAF costs per ACL and per request). Give the region's distribution the same list (the cdn module's geo_allowed_countries)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.allowed_countries : can(regex("^[A-Z]{2}$", c))])
    error_message = "allowed_countries must hold ISO 3166-1 alpha-2 country codes in upper case, like US or DE."
  }
}

variable "originals_replication" {
  description = "Copies of the originals in a versioned bucket of another region, for disaster recovery (the media-buckets module's originals_replication: destination_bucket_arn, storage_class, destination_kms_key_arn). Null replicates nothing."
  type = object({
    destination_bucket_arn  = string
    storage_class           = optional(string, "STANDARD_IA")
    destination_kms_key_arn = optional(string)
  })
  default = null
}

variable "derivatives_storage_class" {
  description = "Storage class of every derivative. REDUCED_REDUNDANCY (default) trades durability for cost: derivatives are reproducible from the originals."
  type        = string
  default     = "REDUCED_REDUNDANCY"

  validation {
    condition     = contains(["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], var.derivatives_storage_class)
    error_message = "derivatives_storage_class must be one of STANDARD, REDUCED_REDUNDANCY, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR."
  }
}

variable "cdn" {
  description = "What the global layer hands back: the base URL media is served from (https://<distribution domain>), the distributions that may read derivatives through Origin Access Control, the base URL of the API's cached public reads when the distribution serves them (the cdn module's api_base_url), and, when the distribution requires signed URLs, the key pair id and the Secrets Manager secret holding the private key PEM. Null: derivatives are readable by nobody yet."
  type = object({
    base_url          = string
    distribution_arns = list(string)
    api_base_url      = optional(string)
    signing = optional(object({
      key_pair_id            = string
      private_key_secret_arn = string
    }))
  })
  default = null

  validation {
    condition     = var.cdn == null ? true : can(regex("^https?://[^/\\s]+$", var.cdn.base_url))
    error_message = "cdn.base_url must be a scheme and host without a path, e.g. https://d111111abcdef8.cloudfront.net."
  }

  validation {
    condition     = try(var.cdn.api_base_url, null) == null || can(regex("^https?://[^/\\s]+$", try(var.cdn.api_base_url, "")))
    error_message = "cdn.api_base_url must be a scheme and host without a path, e.g. https://d111111abcdef8.cloudfront.net, or null."
  }

  validation {
    condition     = var.cdn == null ? true : (var.cdn.signing == null ? true : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.cdn.signing.private_key_secret_arn)))
    error_message = "cdn.signing.private_key_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "cors_allowed_origins" {
  description = "Origins of browser apps allowed to call the upload API and to PUT originals through presigned URLs, e.g. [\"https://app.example.com\"]. None by default: browsers on other origins cannot read the API's answers."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : can(regex("^https?://[^/*\\s]+$", o))])
    error_message = "cors_allowed_origins must list origins such as https://app.example.com: a scheme and a host, no path, never *."
  }
}

variable "notifications" {
  description = <<-EOT
    Email to uploaders when their media is ready or failed, through SES, besides the media events. Off unless email_from is set.
    - email_from: the sender address, e.g. media@example.com. SES sends only from a verified identity: with create_identity (the default) this module creates the address's identity and SES mails it a verification link; set create_identity = false when the address or its domain is verified already. While the account is in the SES sandbox, recipients must be verified too.
    - media_link: where an email sends the uploader, a URL holding {media_id}, e.g. https://app.example.com/watch/{media_id}. By default the API's view of the media: through the CDN when the distribution serves the API (cdn.api_base_url), else at the load balancer.
    The address an email goes to is the one in the uploader's token at upload.
  EOT
  type = object({
    email_from      = optional(string)
    media_link      = optional(string)
    create_identity = optional(bool, true)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.notifications.email_from == null || can(regex("^[^@\\s<>]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", lower(coalesce(var.notifications.email_from, "x"))))
    error_message = "notifications.email_from must be a bare email address such as media@example.com (no display name), or null for no email."
  }
  validation {
    condition     = var.notifications.media_link == null || (can(regex("^https?://[^/\\s]+/", coalesce(var.notifications.media_link, "x"))) && strcontains(coalesce(var.notifications.media_link, "x"), "{media_id}"))
    error_message = "notifications.media_link must be an http(s) URL with a path holding {media_id}, e.g. https://app.example.com/watch/{media_id}, or null for the API's view of the media."
  }
}

variable "media_event_subscriptions" {
  description = "Subscriptions to the media events topic (ready and failed), as the topic module takes them. An SQS subscriber must let the topic send."
  type = map(object({
    protocol             = string
    endpoint             = string
    raw_message_delivery = optional(bool, false)
    filter_policy        = optional(string)
  }))
  default = {}
}

variable "alarm_actions" {
  description = "ARNs (usually an operations SNS topic) notified when the transcode queue's alarms fire or clear."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Protect the load balancer, the database and the user pool from deletion. Turn on in production; it blocks `terraform destroy`."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Let `terraform destroy` empty the buckets and skip the database's final snapshot. Tests and demos only."
  type        = bool
  default     = false
}

variable "restrict_dlq_sources" {
  description = "Let only the transcode queue move messages into its DLQ. Keep true; the local emulator lacks redrive-allow policies, so the test harness turns it off there."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
