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

variable "force_destroy" {
  description = "Let `terraform destroy` delete the originals bucket while it still holds objects (tests set it)."
  type        = bool
  default     = false
}

variable "restrict_dlq_sources" {
  description = "Let only the queue itself use its DLQ. The test harness sets false on the local emulator, which lacks redrive-allow policies."
  type        = bool
  default     = true
}
