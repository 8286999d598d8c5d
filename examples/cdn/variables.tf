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

variable "signing_public_key_path" {
  description = "Path of a PEM RSA public key (e.g. from `openssl genrsa 2048 | openssl rsa -pubout`) to require signed URLs; null (the default) serves unsigned."
  type        = string
  default     = null

  validation {
    condition     = var.signing_public_key_path == null ? true : try(fileexists(var.signing_public_key_path), false)
    error_message = "signing_public_key_path must be the path of an existing PEM file, or null."
  }
}
