variable "name_prefix" {
  description = "Prefix of every resource name in the stack (a short region code is appended per region): 3 to 14 lowercase letters, digits and single hyphens, starting with a letter. Bucket names derive from it, so it must be unique across AWS."
  type        = string
  default     = "mediastack"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,12}[a-z0-9]$", var.name_prefix)) && !strcontains(var.name_prefix, "--")
    error_message = "name_prefix must be 3 to 14 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "regions" {
  description = "AWS regions of the stack: one, or two for a second region that clients nearer to it reach through the latency records. The first also hosts the global layer's provider calls only when it is us-east-1; CloudFront and Route 53 are managed from us-east-1 either way."
  type        = list(string)
  default     = ["us-east-1"]

  validation {
    condition     = length(var.regions) >= 1 && length(var.regions) <= 2 && length(distinct(var.regions)) == length(var.regions)
    error_message = "regions must list one or two different regions, e.g. [\"us-east-1\"] or [\"us-east-1\", \"eu-west-1\"]."
  }

  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", r))])
    error_message = "regions must hold AWS region names such as us-east-1 or eu-west-2."
  }
}

variable "upload_api_zip_path" {
  description = "The upload API artifact, built by scripts/setup."
  type        = string
  default     = "build/upload-api.zip"
}

variable "transcoder_zip_path" {
  description = "The transcoder artifact, built by scripts/setup."
  type        = string
  default     = "build/transcoder.zip"
}

variable "transcode_worker_zip_path" {
  description = "The spot worker fleet's artifact, built by scripts/setup."
  type        = string
  default     = "build/transcode-worker.zip"
}

variable "worker_fleet" {
  description = "Settings of the spot worker fleet in every region (the region-stack module's worker_fleet, without zip_path); null: no fleet, every transcode job stays with the function."
  type        = any
  default     = {}
}

variable "upload_api" {
  description = "Settings of the upload API fleet in every region (the region-stack module's upload_api, without zip_path)."
  type        = any
  default     = {}
}

variable "transcoder" {
  description = "Settings of the transcode function in every region (the region-stack module's transcoder, without zip_path)."
  type        = any
  default     = {}
}

variable "database" {
  description = "Settings of the metadata database in every region (the region-stack module's database)."
  type        = any
  default     = {}
}

variable "identity" {
  description = "Settings of the user pool in every region (the region-stack module's identity)."
  type        = any
  default     = {}
}

variable "certificate_arns" {
  description = "ACM certificate of each region's API load balancer, keyed by region. A region without one needs allow_plain_http."
  type        = map(string)
  default     = {}
}

variable "allow_plain_http" {
  description = "Serve the APIs on plain HTTP where no certificate is given. For local and dev stacks only."
  type        = bool
  default     = false
}

variable "derivatives_storage_class" {
  description = "Storage class of every derivative; REDUCED_REDUNDANCY by default (derivatives are reproducible)."
  type        = string
  default     = "REDUCED_REDUNDANCY"
}

variable "cors_allowed_origins" {
  description = "Origins of browser apps allowed to PUT originals through presigned URLs."
  type        = list(string)
  default     = []
}

variable "web_app" {
  description = <<-EOT
    The platform's web app, served by the home region's distribution at /app/; null serves none.
    - source_dir: the built app (default: the repository's build/web, which scripts/setup builds).
    - aws_endpoint: an emulator's endpoint, which browsers reach Cognito and presigned uploads at instead of AWS's (e.g. https://127.0.0.1:4566); null on AWS.
  EOT
  type = object({
    source_dir   = optional(string)
    aws_endpoint = optional(string)
  })
  default = {}
}

variable "notifications" {
  description = "Email to uploaders when their media is ready or failed, in every region (the region-stack module's notifications: email_from, media_link, create_identity). Off by default."
  type = object({
    email_from      = optional(string)
    media_link      = optional(string)
    create_identity = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "media_event_subscriptions" {
  description = "Subscriptions to each region's media events topic, keyed by region, then as the topic module takes them."
  type = map(map(object({
    protocol             = string
    endpoint             = string
    raw_message_delivery = optional(bool, false)
    filter_policy        = optional(string)
  })))
  default = {}
}

variable "alarm_actions" {
  description = "ARNs notified by each region's queue alarms, keyed by region."
  type        = map(list(string))
  default     = {}
}

variable "cdn_signing" {
  description = "Require signed CDN URLs: the RSA public key PEM the distributions trust, and per region the Secrets Manager secret holding the private key PEM the API signs with (created outside Terraform, so that the key never enters state). Null serves unsigned."
  type = object({
    public_key_pem          = string
    private_key_secret_arns = map(string)
  })
  default = null

  validation {
    condition     = var.cdn_signing == null ? true : alltrue([for r in var.regions : contains(keys(var.cdn_signing.private_key_secret_arns), r)])
    error_message = "cdn_signing.private_key_secret_arns needs a secret ARN for every region in regions."
  }
}

variable "cdn_aliases" {
  description = "Custom domain names of each region's distribution, keyed by region, with an ACM certificate in us-east-1 covering them."
  type = map(object({
    aliases             = list(string)
    acm_certificate_arn = string
  }))
  default = {}
}

variable "cdn_price_class" {
  description = "CloudFront price class of the distributions: PriceClass_100, PriceClass_200 or PriceClass_All."
  type        = string
  default     = "PriceClass_100"
}

variable "allowed_countries" {
  description = "ISO 3166-1 alpha-2 codes of the only countries the platform serves, e.g. [\"US\", \"CA\"]: media at the CDN (geo restriction), the API and sign-in (a WAFv2 web ACL on each region's load balancer and user pool); anyone else gets 403 saying why. Empty serves everywhere."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.allowed_countries : can(regex("^[A-Z]{2}$", c))])
    error_message = "allowed_countries must hold ISO 3166-1 alpha-2 country codes in upper case, like US or DE."
  }
}

variable "dns" {
  description = "Latency records for the APIs: in an existing public zone (zone_id) or one created here (zone_name), named record_name, optionally health-checked. Null creates no DNS."
  type = object({
    zone_id       = optional(string)
    zone_name     = optional(string)
    record_name   = optional(string, "api")
    health_checks = optional(bool, true)
  })
  default = null
}

variable "deletion_protection" {
  description = "Protect load balancers, databases and user pools from deletion. Turn on in production; it blocks `terraform destroy`."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects and skip final database snapshots. Tests and demos only."
  type        = bool
  default     = false
}

variable "restrict_dlq_sources" {
  description = "Let only each transcode queue move messages into its DLQ. Keep true; the local emulator lacks redrive-allow policies, so the test harness turns it off there."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every taggable resource through the providers' default_tags."
  type        = map(string)
  default     = { project = "mediastack" }
}
