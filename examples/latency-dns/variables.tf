variable "name_prefix" {
  description = "Prefix of every resource name; lowercase letters, digits and hyphens."
  type        = string
  default     = "mediastack-example"
}

variable "region" {
  description = "AWS region to deploy to (Route 53 is global; this only sets the provider)."
  type        = string
  default     = "us-east-1"
}

variable "zone_name" {
  description = "Domain of the hosted zone the example creates."
  type        = string
  default     = "mediastack-example.test"
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the zone even if it holds other records (tests set it)."
  type        = bool
  default     = false
}
