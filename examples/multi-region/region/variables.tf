# The stamp contract: region, home_region and home are set by the stamp command per state.

variable "region" {
  description = "The region of this state."
  type        = string
}

variable "home_region" {
  description = "The home region: its user pool signs every user in, its database is the catalogue's primary."
  type        = string
}

variable "home" {
  description = "The home region's output \"home\" in every other region; null in the home region."
  type = object({
    identity = object({
      user_pool_id = string
      client_id    = string
      issuer_url   = string
    })
    database = object({
      instance_arn = string
      address      = string
      port         = number
      secret_arn   = string
      cidr_block   = string
    })
    peering = object({
      region                     = string
      vpc_id                     = string
      cidr_block                 = string
      route_table_ids            = list(string)
      database_security_group_id = string
      database_port              = number
    })
  })
  default = null

  validation {
    condition     = (var.home == null) == (var.region == var.home_region)
    error_message = "home must be null in the home region and the home region's output \"home\" in every other one."
  }
}

# The platform's settings, the same in every state.

variable "name_prefix" {
  description = "Prefix of every resource name; each region's names add its short code (us-east-1 -> use1)."
  type        = string
  default     = "mediastack"
}

variable "cidr_block" {
  description = "This region's VPC range; the regions' ranges must not overlap, since they are peered. Give each region its own (the stamp file's region_vars)."
  type        = string
}

variable "originals_replica_region" {
  description = "A region to keep copies of this region's originals in, for disaster recovery (S3 Replication into a versioned bucket there, in STANDARD_IA); null keeps none. Give it per region (the stamp file's region_vars)."
  type        = string
  default     = null

  validation {
    condition     = var.originals_replica_region == null || var.originals_replica_region != var.region
    error_message = "originals_replica_region must be another region than the state's own."
  }
}

variable "upload_api_zip_path" {
  description = "Zip of the upload API (build/upload-api.zip after scripts/setup)."
  type        = string
}

variable "transcoder_zip_path" {
  description = "Zip of the transcoder (build/transcoder.zip after scripts/setup)."
  type        = string
}

variable "transcode_worker_zip_path" {
  description = "Zip of the spot worker fleet (build/transcode-worker.zip after scripts/setup); null: no fleet in this region."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate of this region's API listener; null serves the API on plain HTTP (development only)."
  type        = string
  default     = null
}

variable "allowed_countries" {
  description = "ISO 3166-1 alpha-2 codes of the only countries served: at the CDN (geo restriction), the API and sign-in (a WAFv2 web ACL). Empty serves everywhere."
  type        = list(string)
  default     = []
}

variable "identity" {
  description = "Settings of the user pool, created in the home region only (the region stack's identity)."
  type        = any
  default     = {}
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects and skip the database's final snapshot (tests set it)."
  type        = bool
  default     = false
}

variable "restrict_dlq_sources" {
  description = "Let only each queue itself use its DLQ. The test harness sets false on the local emulator, which lacks redrive-allow policies."
  type        = bool
  default     = true
}
