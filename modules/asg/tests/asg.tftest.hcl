# Computed ARNs and ids get well-formed mock values: OpenTofu plans with them (Terraform
# leaves them unknown), and the provider validates what it is given.
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }
  mock_data "aws_vpc" {
    defaults = {
      cidr_block = "10.0.0.0/16"
    }
  }
  mock_data "aws_ssm_parameter" {
    defaults = {
      value = "ami-0123456789abcdef0"
    }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::111122223333:instance-profile/upload-api"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/upload-api"
    }
  }
  mock_resource "aws_launch_template" {
    defaults = {
      id = "lt-0a1b2c3d4e5f60718"
    }
  }
}

variables {
  name                      = "media-upload-api"
  vpc_id                    = "vpc-0a1b2c3d"
  subnet_ids                = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
  artifact                  = { bucket = "media-artifacts", key = "upload-api/upload-api.zip" }
  service                   = { name = "upload-api", port = 8080, environment = { LISTEN_ADDR = ":8080", TABLE = "media \"v1\"" } }
  source_security_group_ids = ["sg-0a1b2c3d"]
  target_group_arns         = ["arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/media-api/0123456789abcdef"]
}

run "defaults_are_secure" {
  command = plan

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_tokens == "required" && aws_launch_template.this.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "instances must require IMDSv2"
  }
  assert {
    condition     = aws_launch_template.this.network_interfaces[0].associate_public_ip_address == "false"
    error_message = "instances get no public IP"
  }
  assert {
    condition     = aws_launch_template.this.block_device_mappings[0].ebs[0].encrypted == "true" && aws_launch_template.this.block_device_mappings[0].ebs[0].volume_type == "gp3"
    error_message = "the root volume is encrypted gp3"
  }
  assert {
    condition     = aws_launch_template.this.image_id == "ami-0123456789abcdef0"
    error_message = "the AMI comes from the public Amazon Linux 2023 parameter by default"
  }
  assert {
    condition     = data.aws_ssm_parameter.ami[0].name == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    error_message = "the AMI parameter matches the architecture"
  }
  assert {
    condition     = strcontains(local.user_data, "s3://media-artifacts/upload-api/upload-api.zip") && strcontains(local.user_data, "systemctl restart \"$service\"") && strcontains(local.user_data, "--region \"us-east-1\"")
    error_message = "the user data installs the artifact as a service"
  }
  assert {
    condition     = strcontains(local.user_data, "TABLE=\"media \\\"v1\\\"\"")
    error_message = "environment values are quoted for systemd"
  }
  assert {
    condition     = jsondecode(trimprefix(split("\n", local.user_data)[1], "# mediastack-service: ")).port == 8080
    error_message = "the user data states what it installs as JSON on its second line"
  }
  assert {
    condition     = data.aws_iam_policy_document.this.statement[0].resources == toset(["arn:aws:s3:::media-artifacts/upload-api/upload-api.zip"])
    error_message = "the role reads exactly the artifact"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.service[0].from_port == 8080 && aws_vpc_security_group_ingress_rule.service[0].referenced_security_group_id == "sg-0a1b2c3d"
    error_message = "the service port is open to the load balancer only"
  }
  assert {
    condition     = keys(aws_vpc_security_group_egress_rule.cidr) == ["0:443", "0:5432"] && aws_vpc_security_group_egress_rule.cidr["0:5432"].cidr_ipv4 == "10.0.0.0/16" && alltrue([for r in aws_vpc_security_group_egress_rule.cidr : r.from_port == r.to_port])
    error_message = "egress stays inside the VPC by default, on HTTPS and the database port only (no range between them)"
  }
  assert {
    condition     = aws_autoscaling_group.this.health_check_type == "ELB" && aws_autoscaling_group.this.min_size == 2 && aws_autoscaling_group.this.desired_capacity == 2
    error_message = "two instances, replaced when the load balancer finds them unhealthy"
  }
  assert {
    condition     = aws_autoscaling_group.this.instance_refresh[0].strategy == "Rolling" && aws_autoscaling_group.this.instance_refresh[0].preferences[0].min_healthy_percentage == 90
    error_message = "new launch template versions roll out with 90% kept healthy"
  }
  assert {
    condition     = aws_autoscaling_policy.target_tracking[0].target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ASGAverageCPUUtilization"
    error_message = "the group tracks CPU by default"
  }
  assert {
    condition     = length(aws_autoscaling_group.this.mixed_instances_policy) == 0 && length(aws_autoscaling_policy.queue_backlog) == 0
    error_message = "no spot and no backlog scaling unless asked"
  }
}

run "worker_fleet" {
  command = plan

  variables {
    name                   = "media-workers"
    architecture           = "arm64"
    ami_id                 = "ami-0fedcba987654321f"
    target_group_arns      = []
    capacity               = { min = 0, max = 20, desired = 0 }
    scaling                = null
    egress_cidr_blocks     = ["0.0.0.0/0"]
    egress_prefix_list_ids = ["pl-63a5400a"]
    mixed_instances        = { instance_types = ["c7g.xlarge", "c6g.xlarge"], on_demand_base_capacity = 1 }
    queue_backlog_scaling  = { queue_name = "media-transcode", target_backlog_per_instance = 2 }
    root_volume            = { size_gb = 100, kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
    policy_documents       = ["{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Consume\",\"Effect\":\"Allow\",\"Action\":\"sqs:ReceiveMessage\",\"Resource\":\"arn:aws:sqs:us-east-1:111122223333:media-transcode\"}]}"]
    tags                   = { team = "media" }
  }

  assert {
    condition     = aws_launch_template.this.image_id == "ami-0fedcba987654321f" && length(data.aws_ssm_parameter.ami) == 0
    error_message = "a given AMI is used as is"
  }
  assert {
    condition     = aws_autoscaling_group.this.health_check_type == "EC2" && length(aws_autoscaling_group.this.launch_template) == 0
    error_message = "without target groups, EC2 health checks; with mixed instances, no plain launch template"
  }
  assert {
    condition     = aws_autoscaling_group.this.mixed_instances_policy[0].instances_distribution[0].spot_allocation_strategy == "price-capacity-optimized" && length(aws_autoscaling_group.this.mixed_instances_policy[0].launch_template[0].override) == 2
    error_message = "spot capacity spreads over the given types"
  }
  assert {
    condition     = aws_autoscaling_policy.queue_backlog[0].target_tracking_configuration[0].target_value == 2 && length(aws_autoscaling_policy.target_tracking) == 0
    error_message = "the fleet scales on backlog per instance"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.cidr["0:443"].cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_egress_rule.prefix_list[0].prefix_list_id == "pl-63a5400a"
    error_message = "egress can be widened explicitly"
  }
  assert {
    condition     = aws_launch_template.this.block_device_mappings[0].ebs[0].volume_size == 100
    error_message = "the root volume takes the given size and key"
  }
}

run "alb_request_scaling" {
  command = plan

  variables {
    scaling = { metric = "alb_requests", target_value = 500, alb_resource_label = "app/media/0123456789abcdef/targetgroup/media-api/0123456789abcdef" }
  }

  assert {
    condition     = aws_autoscaling_policy.target_tracking[0].target_tracking_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ALBRequestCountPerTarget"
    error_message = "the group can track requests per target"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "1-media"
  }
  expect_failures = [var.name]
}

run "rejects_bad_vpc" {
  command = plan
  variables {
    vpc_id = "default"
  }
  expect_failures = [var.vpc_id]
}

run "rejects_single_subnet" {
  command = plan
  variables {
    subnet_ids = ["subnet-0a1b2c3d"]
  }
  expect_failures = [var.subnet_ids]
}

run "rejects_bad_architecture" {
  command = plan
  variables {
    architecture = "amd64"
  }
  expect_failures = [var.architecture]
}

run "rejects_bad_instance_type" {
  command = plan
  variables {
    instance_type = "large"
  }
  expect_failures = [var.instance_type]
}

run "rejects_bad_ami" {
  command = plan
  variables {
    ami_id = "al2023"
  }
  expect_failures = [var.ami_id]
}

run "rejects_non_zip_artifact" {
  command = plan
  variables {
    artifact = { bucket = "media-artifacts", key = "upload-api" }
  }
  expect_failures = [var.artifact]
}

run "rejects_bad_service_name" {
  command = plan
  variables {
    service = { name = "Upload API", port = 8080 }
  }
  expect_failures = [var.service]
}

run "rejects_privileged_port" {
  command = plan
  variables {
    service = { name = "upload-api", port = 80 }
  }
  expect_failures = [var.service]
}

run "rejects_bad_environment_key" {
  command = plan
  variables {
    service = { name = "upload-api", port = 8080, environment = { "listen-addr" = ":8080" } }
  }
  expect_failures = [var.service]
}

run "rejects_bad_source_group" {
  command = plan
  variables {
    source_security_group_ids = ["0.0.0.0/0"]
  }
  expect_failures = [var.source_security_group_ids]
}

run "rejects_bad_egress_cidr" {
  command = plan
  variables {
    egress_cidr_blocks = ["anywhere"]
  }
  expect_failures = [var.egress_cidr_blocks]
}

run "rejects_bad_egress_port" {
  command = plan
  variables {
    egress_ports = [443, 70000]
  }
  expect_failures = [var.egress_ports]
}

run "rejects_bad_prefix_list" {
  command = plan
  variables {
    egress_prefix_list_ids = ["s3"]
  }
  expect_failures = [var.egress_prefix_list_ids]
}

run "rejects_bad_target_group" {
  command = plan
  variables {
    target_group_arns = ["media-api"]
  }
  expect_failures = [var.target_group_arns]
}

run "rejects_desired_above_max" {
  command = plan
  variables {
    capacity = { min = 1, max = 2, desired = 3 }
  }
  expect_failures = [var.capacity]
}

run "rejects_unknown_scaling_metric" {
  command = plan
  variables {
    scaling = { metric = "memory", target_value = 70 }
  }
  expect_failures = [var.scaling]
}

run "rejects_alb_scaling_without_label" {
  command = plan
  variables {
    scaling = { metric = "alb_requests", target_value = 500 }
  }
  expect_failures = [var.scaling]
}

run "rejects_non_positive_target" {
  command = plan
  variables {
    scaling = { metric = "cpu", target_value = 0 }
  }
  expect_failures = [var.scaling]
}

run "rejects_bad_backlog_scaling" {
  command = plan
  variables {
    queue_backlog_scaling = { queue_name = "media transcode", target_backlog_per_instance = 2 }
  }
  expect_failures = [var.queue_backlog_scaling]
}

run "rejects_empty_instance_types" {
  command = plan
  variables {
    mixed_instances = { instance_types = [] }
  }
  expect_failures = [var.mixed_instances]
}

run "rejects_bad_on_demand_share" {
  command = plan
  variables {
    mixed_instances = { instance_types = ["c7g.xlarge"], on_demand_percentage_above_base_capacity = 150 }
  }
  expect_failures = [var.mixed_instances]
}

run "rejects_bad_spot_strategy" {
  command = plan
  variables {
    mixed_instances = { instance_types = ["c7g.xlarge"], spot_allocation_strategy = "cheapest" }
  }
  expect_failures = [var.mixed_instances]
}

run "rejects_bad_refresh_percentage" {
  command = plan
  variables {
    instance_refresh_min_healthy_percentage = 101
  }
  expect_failures = [var.instance_refresh_min_healthy_percentage]
}

run "rejects_bad_policy_document" {
  command = plan
  variables {
    policy_documents = ["sqs:ReceiveMessage"]
  }
  expect_failures = [var.policy_documents]
}

run "rejects_small_root_volume" {
  command = plan
  variables {
    root_volume = { size_gb = 4 }
  }
  expect_failures = [var.root_volume]
}

run "rejects_bad_root_volume_key" {
  command = plan
  variables {
    root_volume = { kms_key_arn = "alias/aws/ebs" }
  }
  expect_failures = [var.root_volume]
}

run "metadata_hop_limit_for_containers" {
  command = plan

  variables {
    metadata_hop_limit = 2
  }

  assert {
    condition     = aws_launch_template.this.metadata_options[0].http_put_response_hop_limit == 2 && aws_launch_template.this.metadata_options[0].http_tokens == "required"
    error_message = "hop limit 2 is allowed for containers, still with IMDSv2"
  }
}

run "environment_is_escaped_for_systemd" {
  command = plan

  variables {
    service = {
      name        = "upload-api"
      port        = 8080
      environment = { URL = "https://x.test/?a=1&b=<2>", PRICE = "$5 `now` \\ok" }
    }
  }

  assert {
    condition     = strcontains(local.user_data, "URL=\"https://x.test/?a=1&b=<2>\"\n")
    error_message = "& < > stay as they are (no JSON unicode escapes, which systemd would not decode)"
  }
  assert {
    condition     = strcontains(local.user_data, "PRICE=\"\\$5 \\`now\\` \\\\ok\"\n")
    error_message = "$ ` and \\ are escaped inside the double quotes"
  }
}

run "stop_timeout_reaches_the_unit_and_the_service_line" {
  command = plan

  variables {
    service = { name = "transcode-worker", port = 9090, stop_timeout_seconds = 300 }
  }

  assert {
    condition     = strcontains(local.user_data, "\nTimeoutStopSec=300\n")
    error_message = "the unit gives the service the stop timeout asked for"
  }
  assert {
    condition     = jsondecode(trimprefix(split("\n", local.user_data)[1], "# mediastack-service: ")).stop_timeout_seconds == 300
    error_message = "the service line states it, for the local cloud's fleet"
  }
}

run "stop_timeout_defaults_to_two_minutes" {
  command = plan

  assert {
    condition     = strcontains(local.user_data, "\nTimeoutStopSec=120\n")
    error_message = "120 s by default: a worker's 90 s grace and its 20 s long poll fit inside"
  }
}

run "rejects_bad_stop_timeout" {
  command = plan

  variables {
    service = { name = "upload-api", port = 8080, stop_timeout_seconds = 2 }
  }

  expect_failures = [var.service]
}

run "rejects_bad_hop_limit" {
  command = plan

  variables {
    metadata_hop_limit = 3
  }

  expect_failures = [var.metadata_hop_limit]
}

run "rejects_multiline_environment_value" {
  command = plan

  variables {
    service = { name = "upload-api", port = 8080, environment = { KEY = "line1\nline2" } }
  }

  expect_failures = [var.service]
}
