# An Application Load Balancer in front of the upload API: HTTPS with a TLS 1.3 policy when a
# certificate is given (port 80 then only redirects), plain HTTP only when asked for, one
# target group of instances with a health check, and invalid headers dropped.

data "aws_vpc" "this" {
  id = var.vpc_id
}

locals {
  https = var.certificate_arn != null
  # Port 80 forwards only without a certificate and with allow_plain_http; otherwise it
  # redirects. The validation of allow_plain_http refuses the case of neither.
  forward_http = !local.https && var.allow_plain_http
}

################################################################################
# Security group: the listeners from the given ranges, the targets inside the VPC
################################################################################

resource "aws_security_group" "this" {
  name        = "${var.name}-alb"
  description = "Load balancer ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

#tfsec:ignore:aws-ec2-no-public-ingress-sgr An internet-facing load balancer is reached from the internet; ingress_cidr_blocks narrows it.
resource "aws_vpc_security_group_ingress_rule" "http" {
  count = length(var.ingress_cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = local.https ? "HTTP, redirected to HTTPS" : "HTTP"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = var.ingress_cidr_blocks[count.index]
  tags              = var.tags
}

#tfsec:ignore:aws-ec2-no-public-ingress-sgr An internet-facing load balancer is reached from the internet; ingress_cidr_blocks narrows it.
resource "aws_vpc_security_group_ingress_rule" "https" {
  count = local.https ? length(var.ingress_cidr_blocks) : 0

  security_group_id = aws_security_group.this.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.ingress_cidr_blocks[count.index]
  tags              = var.tags
}

# Requests and health checks go to the targets' port, and only inside the VPC.
resource "aws_vpc_security_group_egress_rule" "targets" {
  security_group_id = aws_security_group.this.id
  description       = "Targets and their health checks"
  ip_protocol       = "tcp"
  from_port         = var.target_port
  to_port           = var.target_port
  cidr_ipv4         = data.aws_vpc.this.cidr_block
  tags              = var.tags
}

################################################################################
# Load balancer and target group
################################################################################

#tfsec:ignore:aws-elb-alb-not-public The internal input chooses; the upload API is internet-facing by design.
resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = var.internal
  subnets                    = var.subnet_ids
  security_groups            = [aws_security_group.this.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = var.idle_timeout

  dynamic "access_logs" {
    for_each = var.access_logs == null ? [] : [var.access_logs]
    content {
      enabled = true
      bucket  = access_logs.value.bucket
      prefix  = access_logs.value.prefix
    }
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_lb_target_group" "this" {
  name                 = "${var.name}-tg"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  protocol             = "HTTP"
  port                 = var.target_port
  deregistration_delay = var.deregistration_delay

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.health_check.path
    matcher             = var.health_check.matcher
    interval            = var.health_check.interval
    timeout             = var.health_check.timeout
    healthy_threshold   = var.health_check.healthy_threshold
    unhealthy_threshold = var.health_check.unhealthy_threshold
  }

  tags = merge(var.tags, { Name = "${var.name}-tg" })
}

################################################################################
# Listeners
################################################################################

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}

# With a certificate, port 80 answers with a permanent redirect to HTTPS; without one it
# forwards (allowed only by allow_plain_http).
#tfsec:ignore:aws-elb-http-not-used Plain HTTP forwards only with allow_plain_http (local and dev); otherwise port 80 redirects to HTTPS.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.forward_http ? "forward" : "redirect"
    target_group_arn = local.forward_http ? aws_lb_target_group.this.arn : null

    dynamic "redirect" {
      for_each = local.forward_http ? [] : [1]
      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }
  }

  tags = var.tags
}
