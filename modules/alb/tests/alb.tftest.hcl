mock_provider "aws" {
  mock_data "aws_vpc" {
    defaults = {
      cidr_block = "10.0.0.0/16"
    }
  }
  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/media-api/0123456789abcdef"
      arn_suffix = "app/media-api/0123456789abcdef"
      dns_name   = "media-api-123456.us-east-1.elb.amazonaws.com"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/media-api-tg/0123456789abcdef"
      arn_suffix = "targetgroup/media-api-tg/0123456789abcdef"
    }
  }
}

variables {
  name                = "media-api"
  vpc_id              = "vpc-0a1b2c3d"
  subnet_ids          = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
  ingress_cidr_blocks = ["0.0.0.0/0"]
  certificate_arn     = "arn:aws:acm:us-east-1:111122223333:certificate/0f1e2d3c-4b5a-6978-8091-a2b3c4d5e6f7"
}

run "https_with_redirect" {
  command = apply

  assert {
    condition     = aws_lb_listener.https[0].protocol == "HTTPS" && aws_lb_listener.https[0].port == 443 && aws_lb_listener.https[0].ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    error_message = "with a certificate, 443 serves HTTPS with the TLS 1.3 policy"
  }
  assert {
    condition     = aws_lb_listener.https[0].certificate_arn == var.certificate_arn && aws_lb_listener.https[0].default_action[0].type == "forward"
    error_message = "the HTTPS listener uses the certificate and forwards to the target group"
  }
  assert {
    condition = (
      aws_lb_listener.http.default_action[0].type == "redirect" &&
      aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS" &&
      aws_lb_listener.http.default_action[0].redirect[0].port == "443" &&
      aws_lb_listener.http.default_action[0].redirect[0].status_code == "HTTP_301"
    )
    error_message = "with a certificate, port 80 only redirects to HTTPS"
  }
  assert {
    condition     = aws_lb.this.drop_invalid_header_fields && !aws_lb.this.internal && !aws_lb.this.enable_deletion_protection
    error_message = "invalid headers are dropped; internet-facing and deletable by default"
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.https) == 1 && aws_vpc_security_group_ingress_rule.https[0].from_port == 443 && length(aws_vpc_security_group_ingress_rule.http) == 1
    error_message = "the security group opens 443 and 80 to the ingress ranges"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.targets.cidr_ipv4 == "10.0.0.0/16" && aws_vpc_security_group_egress_rule.targets.from_port == 8080 && aws_vpc_security_group_egress_rule.targets.to_port == 8080
    error_message = "the load balancer reaches only the targets' port, inside the VPC"
  }
  assert {
    condition     = output.url == "https://media-api-123456.us-east-1.elb.amazonaws.com"
    error_message = "the url is https:// with a certificate"
  }
  assert {
    condition     = output.https_listener_arn != null
    error_message = "the HTTPS listener is an output"
  }
  assert {
    condition     = output.resource_label == "app/media-api/0123456789abcdef/targetgroup/media-api-tg/0123456789abcdef"
    error_message = "resource_label is what ALBRequestCountPerTarget scaling needs"
  }
}

run "target_group_and_health_check" {
  command = plan

  variables {
    target_port = 9000
    health_check = {
      path                = "/ready"
      matcher             = "200-299"
      interval            = 10
      timeout             = 4
      healthy_threshold   = 2
      unhealthy_threshold = 5
    }
  }

  assert {
    condition     = aws_lb_target_group.this.protocol == "HTTP" && aws_lb_target_group.this.target_type == "instance" && aws_lb_target_group.this.port == 9000 && aws_lb_target_group.this.name == "media-api-tg"
    error_message = "the target group forwards HTTP to instances on target_port"
  }
  assert {
    condition = (
      aws_lb_target_group.this.health_check[0].path == "/ready" &&
      aws_lb_target_group.this.health_check[0].matcher == "200-299" &&
      aws_lb_target_group.this.health_check[0].interval == 10 &&
      aws_lb_target_group.this.health_check[0].timeout == 4 &&
      aws_lb_target_group.this.health_check[0].healthy_threshold == 2 &&
      aws_lb_target_group.this.health_check[0].unhealthy_threshold == 5
    )
    error_message = "the health check takes its inputs"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.targets.from_port == 9000
    error_message = "egress follows target_port"
  }
}

run "plain_http_for_dev" {
  command = apply

  variables {
    certificate_arn     = null
    allow_plain_http    = true
    internal            = true
    ingress_cidr_blocks = ["10.0.0.0/16", "10.1.0.0/16"]
  }

  assert {
    condition     = length(aws_lb_listener.https) == 0 && output.https_listener_arn == null
    error_message = "no HTTPS listener without a certificate"
  }
  assert {
    condition     = aws_lb_listener.http.default_action[0].type == "forward" && length(aws_lb_listener.http.default_action[0].redirect) == 0
    error_message = "with allow_plain_http, port 80 forwards to the targets"
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.https) == 0 && length(aws_vpc_security_group_ingress_rule.http) == 2
    error_message = "only port 80 is open, to each ingress range"
  }
  assert {
    condition     = aws_lb.this.internal
    error_message = "internal is an input"
  }
  assert {
    condition     = output.url == "http://media-api-123456.us-east-1.elb.amazonaws.com"
    error_message = "the url is http:// without a certificate"
  }
}

run "access_logs_and_deletion_protection" {
  command = plan

  variables {
    access_logs         = { bucket = "media-lb-logs", prefix = "api" }
    deletion_protection = true
  }

  assert {
    condition     = aws_lb.this.access_logs[0].enabled && aws_lb.this.access_logs[0].bucket == "media-lb-logs" && aws_lb.this.access_logs[0].prefix == "api"
    error_message = "access logs go to the given bucket and prefix"
  }
  assert {
    condition     = aws_lb.this.enable_deletion_protection
    error_message = "deletion protection is an input"
  }
}

run "no_access_logs_by_default" {
  command = plan

  assert {
    condition     = length(aws_lb.this.access_logs) == 0
    error_message = "access logs are off unless given"
  }
}

# ---- validation -------------------------------------------------------------------------

run "rejects_neither_certificate_nor_plain_http" {
  command = plan

  variables {
    certificate_arn = null
  }

  expect_failures = [var.allow_plain_http]
}

run "rejects_bad_certificate_arn" {
  command = plan

  variables {
    certificate_arn = "not-an-arn"
  }

  expect_failures = [var.certificate_arn]
}

run "rejects_long_name" {
  command = plan

  variables {
    name = "a-load-balancer-name-that-is-too-long"
  }

  expect_failures = [var.name]
}

run "rejects_internal_prefix" {
  command = plan

  variables {
    name = "internal-api"
  }

  expect_failures = [var.name]
}

run "rejects_bad_vpc_id" {
  command = plan

  variables {
    vpc_id = "my-vpc"
  }

  expect_failures = [var.vpc_id]
}

run "rejects_one_subnet" {
  command = plan

  variables {
    subnet_ids = ["subnet-0a1b2c3d"]
  }

  expect_failures = [var.subnet_ids]
}

run "rejects_no_ingress" {
  command = plan

  variables {
    ingress_cidr_blocks = []
  }

  expect_failures = [var.ingress_cidr_blocks]
}

run "rejects_bad_cidr" {
  command = plan

  variables {
    ingress_cidr_blocks = ["everyone"]
  }

  expect_failures = [var.ingress_cidr_blocks]
}

run "rejects_old_tls_policy" {
  command = plan

  variables {
    ssl_policy = "ELBSecurityPolicy-2016-08"
  }

  expect_failures = [var.ssl_policy]
}

run "rejects_bad_port" {
  command = plan

  variables {
    target_port = 70000
  }

  expect_failures = [var.target_port]
}

run "rejects_relative_health_path" {
  command = plan

  variables {
    health_check = { path = "healthz" }
  }

  expect_failures = [var.health_check]
}

run "rejects_bad_matcher" {
  command = plan

  variables {
    health_check = { matcher = "ok" }
  }

  expect_failures = [var.health_check]
}

run "rejects_timeout_not_below_interval" {
  command = plan

  variables {
    health_check = { interval = 10, timeout = 10 }
  }

  expect_failures = [var.health_check]
}

run "rejects_bad_thresholds" {
  command = plan

  variables {
    health_check = { healthy_threshold = 1 }
  }

  expect_failures = [var.health_check]
}

run "rejects_bad_deregistration_delay" {
  command = plan

  variables {
    deregistration_delay = 4000
  }

  expect_failures = [var.deregistration_delay]
}

run "rejects_bad_idle_timeout" {
  command = plan

  variables {
    idle_timeout = 0
  }

  expect_failures = [var.idle_timeout]
}

run "rejects_bad_log_bucket" {
  command = plan

  variables {
    access_logs = { bucket = "Not_A_Bucket" }
  }

  expect_failures = [var.access_logs]
}

run "rejects_bad_log_prefix" {
  command = plan

  variables {
    access_logs = { bucket = "media-lb-logs", prefix = "api/" }
  }

  expect_failures = [var.access_logs]
}
