variable "name_prefix" {
  description = "Prefix of every resource name in the stack; lowercase letters, digits and hyphens."
  type        = string
  default     = "mediastack"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 24 lowercase letters, digits or hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1 or eu-west-2."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects. Keep false in production."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every taggable resource through the provider's default_tags."
  type        = map(string)
  default     = { project = "mediastack" }
}
