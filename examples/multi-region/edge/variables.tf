variable "regions" {
  description = "Every region's output \"endpoint\", by region (set by the stamp command)."
  type = map(object({
    api_url      = string
    alb_dns_name = string
    alb_zone_id  = string
    https        = bool
    cdn_base_url = string
  }))
}

variable "zone_name" {
  description = "Domain of the public hosted zone to create for the API's latency record (api.<zone_name>). Give exactly one of zone_name and zone_id."
  type        = string
  default     = null
}

variable "zone_id" {
  description = "An existing public hosted zone for the API's latency record. Give exactly one of zone_name and zone_id."
  type        = string
  default     = null
}

variable "health_check" {
  description = "Route 53 health checks on each region's GET /readyz: a region that fails failure_threshold checks in a row, request_interval seconds apart (10 or 30), stops receiving traffic and its clients go to another region. Null: no health checks."
  type = object({
    request_interval  = optional(number, 30)
    failure_threshold = optional(number, 3)
  })
  default = {}
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the zone with records that others added (tests set it)."
  type        = bool
  default     = false
}
