variable "name_prefix" {
  description = "Prefix of every resource name; lowercase letters, digits and hyphens (at most 25 characters: the load balancer's name adds -api)."
  type        = string
  default     = "mediastack-example"
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on 443 (port 80 then redirects). Null: plain HTTP, when allow_plain_http is true."
  type        = string
  default     = null
}

variable "allow_plain_http" {
  description = "Without a certificate, serve plain HTTP (local and dev only). Set false to make a missing certificate an error."
  type        = bool
  default     = true
}
