# An internet-facing load balancer in the public subnets of a two-zone network, forwarding to
# a target group of instances on port 8080. Without a certificate it serves plain HTTP, which
# the module allows only because allow_plain_http says so: give certificate_arn for HTTPS.
module "network" {
  source = "../../modules/network"

  name       = "${var.name_prefix}-alb-net"
  cidr_block = "10.41.0.0/16"
}

module "alb" {
  source = "../../modules/alb"

  name                = "${var.name_prefix}-api"
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.public_subnet_ids
  ingress_cidr_blocks = ["0.0.0.0/0"]
  certificate_arn     = var.certificate_arn
  allow_plain_http    = var.certificate_arn == null && var.allow_plain_http
  target_port         = 8080
  health_check        = { path = "/healthz", matcher = "200" }
}
