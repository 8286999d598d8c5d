mock_provider "aws" {
  mock_data "aws_route53_zone" {
    defaults = {
      name         = "media.example.com."
      name_servers = ["ns-1.awsdns-01.org"]
    }
  }
}

variables {
  zone_name   = "media.example.com"
  record_name = "api"
  endpoints = {
    us-east-1 = { alb_dns_name = "media-api-1.us-east-1.elb.amazonaws.com", alb_zone_id = "Z35SXDOTRQ7X7K", health_check = {} }
    eu-west-1 = { alb_dns_name = "media-api-2.eu-west-1.elb.amazonaws.com", alb_zone_id = "Z32O12XQLNTSW2" }
  }
}

run "defaults" {
  command = plan

  assert {
    condition     = length(aws_route53_zone.this) == 1 && aws_route53_zone.this[0].name == "media.example.com" && !aws_route53_zone.this[0].force_destroy
    error_message = "zone_name creates the zone, which refuses to be destroyed with foreign records"
  }
  assert {
    condition     = output.fqdn == "api.media.example.com"
    error_message = "the records are named <record_name>.<zone>"
  }
  assert {
    condition     = toset(keys(aws_route53_record.this)) == toset(["us-east-1-A", "us-east-1-AAAA", "eu-west-1-A", "eu-west-1-AAAA"])
    error_message = "each region gets an A and an AAAA record by default"
  }
  assert {
    condition = alltrue([for k, r in aws_route53_record.this :
      r.set_identifier == trimsuffix(trimsuffix(k, "-AAAA"), "-A") &&
      one(r.latency_routing_policy).region == r.set_identifier &&
      one(r.alias).evaluate_target_health &&
    r.name == "api.media.example.com"])
    error_message = "records are latency-routed by region, identified by the region, and evaluate the target's health"
  }
  assert {
    condition = (one(aws_route53_record.this["eu-west-1-A"].alias).name == "media-api-2.eu-west-1.elb.amazonaws.com" &&
    one(aws_route53_record.this["eu-west-1-A"].alias).zone_id == "Z32O12XQLNTSW2")
    error_message = "each record aliases its region's load balancer"
  }
  assert {
    condition = (keys(aws_route53_health_check.this) == ["us-east-1"] &&
      aws_route53_health_check.this["us-east-1"].type == "HTTPS" && aws_route53_health_check.this["us-east-1"].port == 443 &&
      aws_route53_health_check.this["us-east-1"].resource_path == "/readyz" && aws_route53_health_check.this["us-east-1"].failure_threshold == 3 &&
      aws_route53_health_check.this["us-east-1"].request_interval == 30 && aws_route53_health_check.this["us-east-1"].enable_sni &&
    aws_route53_health_check.this["us-east-1"].fqdn == "media-api-1.us-east-1.elb.amazonaws.com")
    error_message = "a health check defaults to HTTPS GET /readyz (readiness, not liveness) on 443 every 30 s, 3 failures, against the ALB"
  }
  assert {
    condition     = aws_route53_record.this["eu-west-1-A"].health_check_id == null
    error_message = "a region without a health check gets no health check id"
  }
}

run "health_check_ids_attached" {
  # apply (against the mock) so that the health check ids are known
  command = apply

  assert {
    condition = (aws_route53_record.this["us-east-1-A"].health_check_id == aws_route53_health_check.this["us-east-1"].id &&
      aws_route53_record.this["us-east-1-AAAA"].health_check_id == aws_route53_health_check.this["us-east-1"].id &&
    output.health_check_ids == { us-east-1 = aws_route53_health_check.this["us-east-1"].id })
    error_message = "both records of a checked region carry its health check, and the ids are output by region"
  }
  assert {
    condition     = output.zone_id == aws_route53_zone.this[0].zone_id
    error_message = "zone_id is the created zone"
  }
}

run "existing_zone_apex_ipv4_custom_check" {
  command = plan

  variables {
    zone_name   = null
    zone_id     = "Z0123456789ABCDEFGHIJ"
    record_name = ""
    ipv6        = false
    endpoints = {
      us-east-1 = { alb_dns_name = "media-api-1.us-east-1.elb.amazonaws.com", alb_zone_id = "Z35SXDOTRQ7X7K", health_check = { path = "/ready", port = 80, protocol = "HTTP", failure_threshold = 2, request_interval = 10 } }
    }
    tags = { team = "media" }
  }

  assert {
    condition     = length(aws_route53_zone.this) == 0 && output.zone_id == "Z0123456789ABCDEFGHIJ" && output.name_servers == tolist(["ns-1.awsdns-01.org"])
    error_message = "zone_id uses the existing zone and creates none"
  }
  assert {
    condition     = output.fqdn == "media.example.com" && aws_route53_record.this["us-east-1-A"].name == "media.example.com"
    error_message = "an empty record_name puts the records at the apex of the given zone"
  }
  assert {
    condition     = keys(aws_route53_record.this) == ["us-east-1-A"]
    error_message = "ipv6 = false creates A records only"
  }
  assert {
    condition = (aws_route53_health_check.this["us-east-1"].type == "HTTP" && aws_route53_health_check.this["us-east-1"].port == 80 &&
      aws_route53_health_check.this["us-east-1"].resource_path == "/ready" && aws_route53_health_check.this["us-east-1"].request_interval == 10 &&
    !aws_route53_health_check.this["us-east-1"].enable_sni && aws_route53_health_check.this["us-east-1"].tags["team"] == "media")
    error_message = "health check settings and tags are taken as given"
  }
}

run "rejects_both_zone_inputs" {
  command = plan
  variables {
    zone_id = "Z0123456789ABCDEFGHIJ"
  }
  expect_failures = [var.zone_id]
}

run "rejects_no_zone_input" {
  command = plan
  variables {
    zone_name = null
  }
  expect_failures = [var.zone_id]
}

run "rejects_bad_zone_id" {
  command = plan
  variables {
    zone_name = null
    zone_id   = "/hostedzone/Z012"
  }
  expect_failures = [var.zone_id]
}

run "rejects_bad_zone_name" {
  command = plan
  variables {
    zone_name = "Media.Example.com."
  }
  expect_failures = [var.zone_name]
}

run "rejects_bad_record_name" {
  command = plan
  variables {
    record_name = "api.media.example.com."
  }
  expect_failures = [var.record_name]
}

run "rejects_non_region_key" {
  command = plan
  variables {
    endpoints = {
      virginia = { alb_dns_name = "media-api-1.us-east-1.elb.amazonaws.com", alb_zone_id = "Z35SXDOTRQ7X7K" }
    }
  }
  expect_failures = [var.endpoints]
}

run "rejects_no_endpoints" {
  command = plan
  variables {
    endpoints = {}
  }
  expect_failures = [var.endpoints]
}

run "rejects_bad_alb_dns_name" {
  command = plan
  variables {
    endpoints = {
      us-east-1 = { alb_dns_name = "https://api.example.com", alb_zone_id = "Z35SXDOTRQ7X7K" }
    }
  }
  expect_failures = [var.endpoints]
}

run "rejects_bad_alb_zone_id" {
  command = plan
  variables {
    endpoints = {
      us-east-1 = { alb_dns_name = "media-api-1.us-east-1.elb.amazonaws.com", alb_zone_id = "z35sxdotrq7x7k" }
    }
  }
  expect_failures = [var.endpoints]
}

run "rejects_bad_health_check" {
  command = plan
  variables {
    endpoints = {
      us-east-1 = { alb_dns_name = "media-api-1.us-east-1.elb.amazonaws.com", alb_zone_id = "Z35SXDOTRQ7X7K", health_check = { request_interval = 20 } }
    }
  }
  expect_failures = [var.endpoints]
}

run "rejects_bad_health_check_protocol" {
  command = plan
  variables {
    endpoints = {
      us-east-1 = { alb_dns_name = "media-api-1.us-east-1.elb.amazonaws.com", alb_zone_id = "Z35SXDOTRQ7X7K", health_check = { protocol = "TCP" } }
    }
  }
  expect_failures = [var.endpoints]
}
