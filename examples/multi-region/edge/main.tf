# The global edge over every region: one latency record per region under one name, each with
# a health check of the region's readiness. The only state that names every region: adding
# one changes this state and the new region's alone.

module "latency_dns" {
  source = "../../../modules/latency-dns"
  # Empty when the regions' states are gone (the stamp command destroys this one first).
  count = length(var.regions) > 0 ? 1 : 0

  zone_name     = var.zone_name
  zone_id       = var.zone_id
  record_name   = "api"
  force_destroy = var.force_destroy
  endpoints = { for region, e in var.regions : region => {
    alb_dns_name = e.alb_dns_name
    alb_zone_id  = e.alb_zone_id
    health_check = var.health_check == null ? null : {
      protocol          = e.https ? "HTTPS" : "HTTP"
      port              = e.https ? 443 : 80
      path              = "/readyz"
      request_interval  = var.health_check.request_interval
      failure_threshold = var.health_check.failure_threshold
    }
  } }
}
