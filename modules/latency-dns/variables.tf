variable "zone_id" {
  description = "ID of an existing public hosted zone to put the records in. Give exactly one of zone_id and zone_name."
  type        = string
  default     = null

  validation {
    # AWS's IDs start with Z; emulators (moto) issue others of the same alphabet.
    condition     = var.zone_id == null || can(regex("^[A-Z0-9]{1,32}$", var.zone_id))
    error_message = "zone_id must be a Route 53 hosted zone ID (up to 32 upper-case letters and digits, like Z0123456789ABCDEFGHIJ, without /hostedzone/), or null."
  }

  validation {
    condition     = (var.zone_id == null) != (var.zone_name == null)
    error_message = "Give exactly one of zone_id (use an existing zone) and zone_name (create the zone)."
  }
}

variable "zone_name" {
  description = "Domain name of a public hosted zone to create, e.g. media.example.com. Give exactly one of zone_id and zone_name."
  type        = string
  default     = null

  validation {
    condition     = var.zone_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.zone_name))
    error_message = "zone_name must be a lowercase domain name like media.example.com, without a trailing dot, or null."
  }
}

variable "force_destroy" {
  description = "When this module creates the zone: let `terraform destroy` delete it with records that others added. Keep false in production; tests set it."
  type        = bool
  default     = false
}

variable "record_name" {
  description = "Name of the records relative to the zone, e.g. \"api\" for api.<zone>; empty puts them at the zone apex."
  type        = string
  default     = ""

  validation {
    condition     = var.record_name == "" || can(regex("^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$", var.record_name))
    error_message = "record_name must be empty (the apex) or lowercase DNS labels separated by dots, like api or api.eu, without the zone name or a trailing dot."
  }
}

variable "endpoints" {
  description = "Regional load balancers, keyed by AWS region name (e.g. us-east-1): the ALB's DNS name and canonical hosted zone ID, and an optional Route 53 health check (HTTPS GET /readyz, the API's readiness: database and bucket reachable, on 443 every 30 s, unhealthy after 3 failures). A region whose check fails stops receiving traffic."
  type = map(object({
    alb_dns_name = string
    alb_zone_id  = string
    health_check = optional(object({
      path              = optional(string, "/readyz")
      port              = optional(number, 443)
      protocol          = optional(string, "HTTPS")
      failure_threshold = optional(number, 3)
      request_interval  = optional(number, 30)
    }))
  }))

  validation {
    condition     = length(var.endpoints) > 0 && alltrue([for region in keys(var.endpoints) : can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$", region))])
    error_message = "endpoints must have at least one entry, each keyed by an AWS region name like us-east-1 or eu-west-1."
  }

  validation {
    condition     = alltrue([for e in values(var.endpoints) : can(regex("^([A-Za-z0-9-]+\\.)+elb\\.amazonaws\\.com(\\.cn)?$", e.alb_dns_name))])
    error_message = "endpoints[*].alb_dns_name must be a load balancer DNS name like my-alb-123.us-east-1.elb.amazonaws.com."
  }

  validation {
    condition     = alltrue([for e in values(var.endpoints) : can(regex("^Z[A-Z0-9]{1,31}$", e.alb_zone_id))])
    error_message = "endpoints[*].alb_zone_id must be the load balancer's canonical hosted zone ID, like Z35SXDOTRQ7X7K."
  }

  validation {
    condition = alltrue([for e in values(var.endpoints) : e.health_check == null ? true : (
      can(regex("^/[^\\s]{0,254}$", e.health_check.path)) &&
      floor(e.health_check.port) == e.health_check.port && e.health_check.port >= 1 && e.health_check.port <= 65535 &&
      contains(["HTTP", "HTTPS"], e.health_check.protocol) &&
      floor(e.health_check.failure_threshold) == e.health_check.failure_threshold && e.health_check.failure_threshold >= 1 && e.health_check.failure_threshold <= 10 &&
      contains([10, 30], e.health_check.request_interval)
    )])
    error_message = "endpoints[*].health_check: path must start with / (at most 255 characters, no spaces), port 1 to 65535, protocol HTTP or HTTPS, failure_threshold a whole number from 1 to 10, request_interval 10 or 30 seconds."
  }
}

variable "ipv6" {
  description = "Also create AAAA alias records, so that IPv6 clients reach the load balancers. Needs dual-stack ALBs; an IPv4-only ALB simply answers no AAAA."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to every taggable resource (the zone it creates, the health checks)."
  type        = map(string)
  default     = {}
}
