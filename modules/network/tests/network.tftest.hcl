# Computed ARNs and ids get well-formed mock values: OpenTofu plans with them (Terraform
# leaves them unknown), and the provider validates what it is given.
mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]
    }
  }
  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:111122223333:log-group:flow-logs"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/flow-logs"
    }
  }
}

variables {
  name = "media"
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_vpc.this[0].cidr_block == "10.0.0.0/16" && aws_vpc.this[0].enable_dns_hostnames
    error_message = "a 10.0.0.0/16 VPC with DNS host names"
  }
  assert {
    condition     = [for s in aws_subnet.public : s.cidr_block] == ["10.0.0.0/20", "10.0.16.0/20"] && [for s in aws_subnet.private : s.cidr_block] == ["10.0.128.0/20", "10.0.144.0/20"]
    error_message = "one public and one private subnet per zone, carved from separate halves"
  }
  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["us-east-1a", "us-east-1b"]
    error_message = "subnets spread over two zones by default"
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : s.map_public_ip_on_launch == false])
    error_message = "nothing gets a public IP by default, even in public subnets"
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_route.private_nat) == 0
    error_message = "no NAT gateway unless asked: it costs money"
  }
  assert {
    condition     = aws_vpc_endpoint.s3[0].service_name == "com.amazonaws.us-east-1.s3" && aws_vpc_endpoint.s3[0].vpc_endpoint_type == "Gateway"
    error_message = "private subnets reach S3 through a gateway endpoint"
  }
  assert {
    condition     = length(aws_default_security_group.this[0].ingress) == 0 && length(aws_default_security_group.this[0].egress) == 0
    error_message = "the default security group allows nothing"
  }
  assert {
    condition     = aws_flow_log.this[0].traffic_type == "ALL" && aws_cloudwatch_log_group.flow_logs[0].retention_in_days == 30
    error_message = "flow logs are on, kept 30 days"
  }
}

run "nat_per_zone_and_three_zones" {
  command = plan

  variables {
    cidr_block               = "172.20.0.0/20"
    az_count                 = 3
    enable_nat_gateway       = true
    single_nat_gateway       = false
    flow_logs_retention_days = 0
    tags                     = { team = "media" }
  }

  assert {
    condition     = length(aws_subnet.private) == 3 && length(aws_nat_gateway.this) == 3 && length(aws_route.private_nat) == 3
    error_message = "one NAT gateway per zone when asked"
  }
  assert {
    condition     = aws_subnet.private[0].cidr_block == "172.20.8.0/24"
    error_message = "subnets are carved from any /16 to /24 range"
  }
  assert {
    condition     = length(aws_flow_log.this) == 0
    error_message = "retention 0 turns flow logs off"
  }
  assert {
    condition     = aws_vpc.this[0].tags["team"] == "media"
    error_message = "tags reach the VPC"
  }
}

run "single_nat" {
  command = plan
  variables {
    enable_nat_gateway = true
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_nat) == 2
    error_message = "one shared NAT gateway routes every private subnet"
  }
}

run "explicit_zones" {
  command = plan

  variables {
    availability_zones = ["us-east-1c", "us-east-1d", "us-east-1f"]
    enable_nat_gateway = true
    single_nat_gateway = false
  }

  assert {
    condition     = length(data.aws_availability_zones.available) == 0
    error_message = "explicit zones need no zone lookup"
  }
  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["us-east-1c", "us-east-1d", "us-east-1f"] && [for s in aws_subnet.public : s.availability_zone] == ["us-east-1c", "us-east-1d", "us-east-1f"]
    error_message = "one public and one private subnet in each given zone, in order"
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_route_table.private) == 3
    error_message = "a NAT gateway and a private route table per given zone"
  }
  assert {
    condition     = output.availability_zones == tolist(["us-east-1c", "us-east-1d", "us-east-1f"])
    error_message = "the zones are an output"
  }
}

run "rejects_one_zone" {
  command = plan
  variables {
    availability_zones = ["us-east-1a"]
  }
  expect_failures = [var.availability_zones]
}

run "rejects_repeated_zone" {
  command = plan
  variables {
    availability_zones = ["us-east-1a", "us-east-1a"]
  }
  expect_failures = [var.availability_zones]
}

run "rejects_bad_zone_name" {
  command = plan
  variables {
    availability_zones = ["us-east-1a", "east"]
  }
  expect_failures = [var.availability_zones]
}

run "existing_vpc" {
  command = plan

  variables {
    existing_vpc = {
      vpc_id             = "vpc-0a1b2c3d"
      public_subnet_ids  = ["subnet-0a0a0a0a", "subnet-0b0b0b0b"]
      private_subnet_ids = ["subnet-0c0c0c0c", "subnet-0d0d0d0d"]
    }
  }

  assert {
    condition     = length(aws_vpc.this) == 0 && length(aws_subnet.private) == 0 && length(aws_flow_log.this) == 0
    error_message = "nothing is created for an existing VPC"
  }
  assert {
    condition     = output.vpc_id == "vpc-0a1b2c3d" && output.private_subnet_ids == tolist(["subnet-0c0c0c0c", "subnet-0d0d0d0d"])
    error_message = "the given ids pass through"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "media network"
  }
  expect_failures = [var.name]
}

run "rejects_bad_cidr" {
  command = plan
  variables {
    cidr_block = "10.0.0.0/8"
  }
  expect_failures = [var.cidr_block]
}

run "rejects_bad_az_count" {
  command = plan
  variables {
    az_count = 1
  }
  expect_failures = [var.az_count]
}

run "rejects_bad_flow_log_retention" {
  command = plan
  variables {
    flow_logs_retention_days = 10
  }
  expect_failures = [var.flow_logs_retention_days]
}

run "rejects_existing_vpc_with_one_private_subnet" {
  command = plan
  variables {
    existing_vpc = { vpc_id = "vpc-0a1b2c3d", public_subnet_ids = [], private_subnet_ids = ["subnet-0c0c0c0c"] }
  }
  expect_failures = [var.existing_vpc]
}
