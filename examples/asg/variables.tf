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

variable "artifact_path" {
  description = "Local zip of the service (a bootstrap executable), uploaded to the artifacts bucket."
  type        = string
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the artifacts bucket with its objects (tests set it)."
  type        = bool
  default     = false
}
