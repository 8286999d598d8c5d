variable "name_prefix" {
  description = "Prefix of every resource name; lowercase letters, digits and hyphens."
  type        = string
  default     = "mediastack-example"
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "function_zip_path" {
  description = "Zip of the transcoder (build/transcoder.zip after scripts/setup)."
  type        = string
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects (tests set it)."
  type        = bool
  default     = false
}

variable "restrict_dlq_sources" {
  description = "Let only the queue itself use its DLQ. The test harness sets false on the local emulator, which lacks redrive-allow policies."
  type        = bool
  default     = true
}
