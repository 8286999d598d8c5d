mock_provider "aws" {}

mock_provider "aws" {
  alias = "home"
}

variables {
  name            = "media-euw1-to-home"
  vpc_id          = "vpc-0a1b2c3d4e5f60718"
  vpc_cidr_block  = "10.1.0.0/16"
  route_table_ids = ["rtb-0a000000000000001", "rtb-0a000000000000002"]
  home = {
    region                     = "us-east-1"
    vpc_id                     = "vpc-0f1e2d3c4b5a60789"
    cidr_block                 = "10.0.0.0/16"
    route_table_ids            = ["rtb-0b000000000000001", "rtb-0b000000000000002", "rtb-0b000000000000003"]
    database_security_group_id = "sg-0123456789abcdef0"
  }
}

run "routes_both_ways_and_admits_the_region_on_the_database_port_only" {
  command = plan
  providers = {
    aws      = aws
    aws.home = aws.home
  }

  assert {
    condition     = aws_vpc_peering_connection.this.peer_region == "us-east-1" && !aws_vpc_peering_connection.this.auto_accept && aws_vpc_peering_connection_accepter.home.auto_accept
    error_message = "requested here for the home region, accepted there"
  }
  assert {
    condition     = length(aws_route.to_home) == 2 && alltrue([for r in aws_route.to_home : r.destination_cidr_block == "10.0.0.0/16"])
    error_message = "each private route table here reaches the home VPC"
  }
  assert {
    condition     = length(aws_route.from_home) == 3 && alltrue([for r in aws_route.from_home : r.destination_cidr_block == "10.1.0.0/16"])
    error_message = "each of the home's private route tables reaches this VPC"
  }
  assert {
    condition = (aws_vpc_security_group_ingress_rule.home_database.from_port == 5432 && aws_vpc_security_group_ingress_rule.home_database.to_port == 5432 &&
    aws_vpc_security_group_ingress_rule.home_database.cidr_ipv4 == "10.1.0.0/16" && aws_vpc_security_group_ingress_rule.home_database.security_group_id == "sg-0123456789abcdef0")
    error_message = "the home database admits this VPC on its port alone"
  }
}

run "rejects_a_home_open_to_the_world" {
  command = plan
  providers = {
    aws      = aws
    aws.home = aws.home
  }
  variables {
    home = {
      region                     = "us-east-1"
      vpc_id                     = "vpc-0f1e2d3c4b5a60789"
      cidr_block                 = "0.0.0.0/0"
      route_table_ids            = []
      database_security_group_id = "sg-0123456789abcdef0"
    }
  }
  expect_failures = [var.home]
}

run "rejects_a_vpc_range_that_is_not_one" {
  command = plan
  providers = {
    aws      = aws
    aws.home = aws.home
  }
  variables {
    vpc_cidr_block = "10.1.0.0"
  }
  expect_failures = [var.vpc_cidr_block]
}
