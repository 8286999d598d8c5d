# api.<zone> answered by the closest of two regional ALBs; the us-east-1 one is health-checked.
# The ALB DNS names are placeholders; the hosted zone IDs are the real canonical ALB zones.
module "latency_dns" {
  source = "../../modules/latency-dns"

  zone_name     = var.zone_name
  record_name   = "api"
  force_destroy = var.force_destroy

  endpoints = {
    us-east-1 = {
      alb_dns_name = "${var.name_prefix}-api-1234567890.us-east-1.elb.amazonaws.com"
      alb_zone_id  = "Z35SXDOTRQ7X7K"
      health_check = {}
    }
    eu-west-1 = {
      alb_dns_name = "${var.name_prefix}-api-0987654321.eu-west-1.elb.amazonaws.com"
      alb_zone_id  = "Z32O12XQLNTSW2"
      health_check = { path = "/healthz", request_interval = 10 }
    }
  }

  tags = {
    project = "mediastack"
    example = "latency-dns"
  }
}
