# One name, many regions: a latency-based alias record per region to that region's load
# balancer, so each client is answered with the closest healthy region.

locals {
  create_zone = var.zone_name != null
  zone_id     = local.create_zone ? aws_route53_zone.this[0].zone_id : var.zone_id
  zone_name   = local.create_zone ? var.zone_name : trimsuffix(data.aws_route53_zone.given[0].name, ".")
  fqdn        = var.record_name == "" ? local.zone_name : "${var.record_name}.${local.zone_name}"

  record_types = var.ipv6 ? ["A", "AAAA"] : ["A"]
  records = {
    for pair in setproduct(keys(var.endpoints), local.record_types) :
    "${pair[0]}-${pair[1]}" => { region = pair[0], type = pair[1] }
  }
  health_checked = { for region, e in var.endpoints : region => e if e.health_check != null }
}

################################################################################
# Zone
################################################################################

resource "aws_route53_zone" "this" {
  count = local.create_zone ? 1 : 0

  name          = var.zone_name
  comment       = "Latency-routed entry point of the media stack."
  force_destroy = var.force_destroy
  tags          = var.tags
}

data "aws_route53_zone" "given" {
  count = local.create_zone ? 0 : 1

  zone_id = var.zone_id
}

################################################################################
# Health checks
################################################################################

resource "aws_route53_health_check" "this" {
  for_each = local.health_checked

  fqdn              = each.value.alb_dns_name
  type              = each.value.health_check.protocol
  port              = each.value.health_check.port
  resource_path     = each.value.health_check.path
  failure_threshold = each.value.health_check.failure_threshold
  request_interval  = each.value.health_check.request_interval
  enable_sni        = each.value.health_check.protocol == "HTTPS"
  tags              = merge(var.tags, { Name = "${local.fqdn}-${each.key}" })
}

################################################################################
# Latency records
################################################################################

resource "aws_route53_record" "this" {
  for_each = local.records

  zone_id         = local.zone_id
  name            = local.fqdn
  type            = each.value.type
  set_identifier  = each.value.region
  health_check_id = contains(keys(local.health_checked), each.value.region) ? aws_route53_health_check.this[each.value.region].id : null

  latency_routing_policy {
    region = each.value.region
  }

  alias {
    name                   = var.endpoints[each.value.region].alb_dns_name
    zone_id                = var.endpoints[each.value.region].alb_zone_id
    evaluate_target_health = true
  }
}
