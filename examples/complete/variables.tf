variable "name_prefix" {
  description = "Prefix of every resource name (the region stack's name): 3 to 20 lowercase letters, digits and single hyphens; bucket names derive from it."
  type        = string
  default     = "mediastack-demo"
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "upload_api_zip_path" {
  description = "Zip of the upload API (build/upload-api.zip after scripts/setup)."
  type        = string
}

variable "transcoder_zip_path" {
  description = "Zip of the transcoder (build/transcoder.zip after scripts/setup)."
  type        = string
}

variable "worker_fleet" {
  description = "The spot worker fleet for the jobs the function cannot hold: the zip of transcode-worker (build/transcode-worker.zip), the largest fleet, and the size above which originals go to it (null: a third of the function's storage). Null: no fleet."
  type = object({
    zip_path          = string
    max_instances     = optional(number, 2)
    route_above_bytes = optional(number)
  })
  default = null
}

variable "transcoder_timeout" {
  description = "Seconds a transcode invocation may run; the transcode queue's visibility timeout is six times this, so it also bounds how soon a failed job is retried."
  type        = number
  default     = 300
}

variable "transcoder_maximum_concurrency" {
  description = "How many transcodes run at once at most (the event source mapping's maximum concurrency, 2 to 1000); more queue in SQS until one ends, which keeps each within transcoder_timeout where CPU is scarce."
  type        = number
  default     = 5
}

variable "chunking" {
  description = "Videos longer than above_seconds are transcoded in parallel chunks of about chunk_seconds (a multiple of 4, at most half of transcoder_timeout); enabled = false transcodes every video in one pass."
  type = object({
    enabled       = optional(bool, true)
    chunk_seconds = optional(number, 20)
    above_seconds = optional(number, 60)
  })
  default = {}
}

variable "reconcile" {
  description = "How often (a rate or cron expression) and over how many ready media per run the transcoder looks for lost derivatives and makes them again; enabled = false leaves that to S3's lost-object notifications."
  type = object({
    enabled  = optional(bool, true)
    schedule = optional(string, "rate(1 hour)")
    limit    = optional(number, 100)
  })
  default = {}
}

variable "multipart_threshold_bytes" {
  description = "Uploads larger than this many bytes go to S3 in parts (presigned UploadPart URLs and a completion call); 5 MiB at least (S3's smallest part)."
  type        = number
  default     = 104857600
}

variable "cdn_signing" {
  description = "Require signed CDN URLs or cookies: the RSA public key PEM the distribution trusts and the Secrets Manager secret holding the private key PEM the API signs with (created outside Terraform, so that the key never enters state). Null serves unsigned."
  type = object({
    public_key_pem         = string
    private_key_secret_arn = string
  })
  default = null
}

variable "certificate_arn" {
  description = "ACM certificate for the API's HTTPS listener. Null serves the API on plain HTTP (development only)."
  type        = string
  default     = null
}

variable "zone_name" {
  description = "Domain of a public hosted zone to create for the API's latency record (api.<zone_name>). Null creates no DNS."
  type        = string
  default     = null
}

variable "notification_email_from" {
  description = "Sender address of the emails that tell uploaders their media is ready or failed (SES; the module creates its identity, which SES asks the address to verify). Null sends no email."
  type        = string
  default     = null
}

variable "allowed_countries" {
  description = "ISO 3166-1 alpha-2 codes of the only countries served: media at the CDN, the API and sign-in through a WAFv2 web ACL. Empty serves everywhere."
  type        = list(string)
  default     = []
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

variable "web_app" {
  description = <<-EOT
    The platform's web app, served by the distribution at /app/; null serves none.
    - source_dir: the built app (default: the repository's build/web, which scripts/setup builds).
    - aws_endpoint: an emulator's endpoint, which browsers reach Cognito and presigned uploads at instead of AWS's (e.g. https://127.0.0.1:4566); null on AWS.
  EOT
  type = object({
    source_dir   = optional(string)
    aws_endpoint = optional(string)
  })
  default = {}
}
