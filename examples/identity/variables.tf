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

variable "allow_password_auth" {
  description = "Let scripts sign in with a password (USER_PASSWORD_AUTH); tests and demos set it."
  type        = bool
  default     = false
}
