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
  description = "Let `terraform destroy` delete buckets that still hold objects (tests set it)."
  type        = bool
  default     = false
}

variable "signing_public_key_pem" {
  description = "PEM of an RSA 2048 public key to require signed URLs; null serves unsigned."
  type        = string
  default     = null
}
