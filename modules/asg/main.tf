# An Auto Scaling group of instances that run one service: the upload API behind the ALB, or
# with mixed_instances and queue_backlog_scaling, the spot worker fleet. Instances are private,
# require IMDSv2, encrypt their root volume, and install the service from S3 at boot.

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_vpc" "this" {
  id = var.vpc_id
}

data "aws_ssm_parameter" "ami" {
  count = var.ami_id == null ? 1 : 0

  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

locals {
  ami_id       = var.ami_id != null ? var.ami_id : nonsensitive(data.aws_ssm_parameter.ami[0].value)
  egress_cidrs = var.egress_cidr_blocks != null ? var.egress_cidr_blocks : [data.aws_vpc.this.cidr_block]
  artifact_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.artifact.bucket}/${var.artifact.key}"
  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    service_name         = var.service.name
    stop_timeout_seconds = var.service.stop_timeout_seconds
    artifact_bucket      = var.artifact.bucket
    artifact_key         = var.artifact.key
    region               = data.aws_region.current.id
    # systemd EnvironmentFile values, double-quoted: \ " $ and ` are the characters to escape.
    environment = { for k, v in var.service.environment :
      k => format("\"%s\"", replace(replace(replace(replace(v, "\\", "\\\\"), "\"", "\\\""), "$", "\\$"), "`", "\\`"))
    }
    service_json = jsonencode({
      name        = var.service.name
      port        = var.service.port
      artifact    = "s3://${var.artifact.bucket}/${var.artifact.key}"
      environment = var.service.environment
      # The local cloud's fleet reads this line; it gives a scale-in the unit's stop timeout.
      stop_timeout_seconds = var.service.stop_timeout_seconds
    })
  })
}

################################################################################
# Instance role: read the artifact, plus what the caller grants
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-instance"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  source_policy_documents = var.policy_documents

  statement {
    sid       = "ReadServiceArtifact"
    actions   = ["s3:GetObject"]
    resources = [local.artifact_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "service"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-instance"
  role = aws_iam_role.this.name
  tags = var.tags
}

################################################################################
# Security group: the service port from the load balancer; egress inside the VPC by default
################################################################################

resource "aws_security_group" "this" {
  name        = "${var.name}-instances"
  description = "Instances of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-instances" })
}

resource "aws_vpc_security_group_ingress_rule" "service" {
  count = length(var.source_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "Service port from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = var.service.port
  to_port                      = var.service.port
  referenced_security_group_id = var.source_security_group_ids[count.index]
  tags                         = var.tags
}

# Trivy's AWS-0104 (unrestricted egress) is accepted: the destinations are the caller's
# egress_cidr_blocks (the VPC's range by default), 0.0.0.0/0 only where the caller asks for
# HTTPS to AWS APIs through a NAT gateway.
#trivy:ignore:AWS-0104
resource "aws_vpc_security_group_egress_rule" "cidr" {
  # One rule per destination and port: a port range would open everything in between. Keyed
  # by position, since the default destination (the VPC's range) is unknown until apply.
  for_each = { for pair in setproduct(range(length(local.egress_cidrs)), var.egress_ports) : "${pair[0]}:${pair[1]}" => [local.egress_cidrs[pair[0]], pair[1]] }

  security_group_id = aws_security_group.this.id
  description       = "Port ${each.value[1]} (HTTPS or a service dependency)"
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
  cidr_ipv4         = each.value[0]
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "prefix_list" {
  count = length(var.egress_prefix_list_ids)

  security_group_id = aws_security_group.this.id
  description       = "HTTPS to a managed prefix list (e.g. S3)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.egress_prefix_list_ids[count.index]
  tags              = var.tags
}

################################################################################
# Launch template
################################################################################

resource "aws_launch_template" "this" {
  name                   = var.name
  image_id               = local.ami_id
  instance_type          = var.instance_type
  user_data              = base64encode(local.user_data)
  update_default_version = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  network_interfaces {
    associate_public_ip_address = false
    security_groups             = [aws_security_group.this.id]
    delete_on_termination       = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = var.metadata_hop_limit
    instance_metadata_tags      = "disabled"
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.root_volume.size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = var.root_volume.kms_key_arn
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = true
  }

  dynamic "tag_specifications" {
    for_each = ["instance", "volume"]
    content {
      resource_type = tag_specifications.value
      tags          = merge(var.tags, { Name = var.name })
    }
  }

  tags = var.tags
}

################################################################################
# Auto Scaling group
################################################################################

resource "aws_autoscaling_group" "this" {
  name                      = var.name
  vpc_zone_identifier       = var.subnet_ids
  min_size                  = var.capacity.min
  max_size                  = var.capacity.max
  desired_capacity          = var.capacity.desired
  target_group_arns         = var.target_group_arns
  health_check_type         = length(var.target_group_arns) > 0 ? "ELB" : "EC2"
  health_check_grace_period = 120

  dynamic "launch_template" {
    for_each = var.mixed_instances == null ? [1] : []
    content {
      id      = aws_launch_template.this.id
      version = aws_launch_template.this.latest_version
    }
  }

  dynamic "mixed_instances_policy" {
    for_each = var.mixed_instances == null ? [] : [var.mixed_instances]
    content {
      instances_distribution {
        on_demand_base_capacity                  = mixed_instances_policy.value.on_demand_base_capacity
        on_demand_percentage_above_base_capacity = mixed_instances_policy.value.on_demand_percentage_above_base_capacity
        spot_allocation_strategy                 = mixed_instances_policy.value.spot_allocation_strategy
      }
      launch_template {
        launch_template_specification {
          launch_template_id = aws_launch_template.this.id
          version            = aws_launch_template.this.latest_version
        }
        dynamic "override" {
          for_each = mixed_instances_policy.value.instance_types
          content {
            instance_type = override.value
          }
        }
      }
    }
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = var.instance_refresh_min_healthy_percentage
    }
  }

  dynamic "tag" {
    for_each = merge(var.tags, { Name = var.name })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }

  # The scaling policies own the size once the group exists; an apply must not undo them.
  lifecycle {
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_policy" "target_tracking" {
  count = var.scaling == null ? 0 : 1

  name                   = "${var.name}-${var.scaling.metric}"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.scaling.target_value
    predefined_metric_specification {
      predefined_metric_type = var.scaling.metric == "cpu" ? "ASGAverageCPUUtilization" : "ALBRequestCountPerTarget"
      resource_label         = var.scaling.metric == "cpu" ? null : var.scaling.alb_resource_label
    }
  }
}

# Backlog per instance: visible messages divided by in-service instances, as AWS recommends
# for scaling on SQS.
resource "aws_autoscaling_policy" "queue_backlog" {
  count = var.queue_backlog_scaling == null ? 0 : 1

  name                   = "${var.name}-queue-backlog"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    target_value = var.queue_backlog_scaling.target_backlog_per_instance
    customized_metric_specification {
      metrics {
        id          = "visible"
        return_data = false
        metric_stat {
          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"
            dimensions {
              name  = "QueueName"
              value = var.queue_backlog_scaling.queue_name
            }
          }
          stat = "Sum"
        }
      }
      metrics {
        id          = "instances"
        return_data = false
        metric_stat {
          metric {
            namespace   = "AWS/AutoScaling"
            metric_name = "GroupInServiceInstances"
            dimensions {
              name  = "AutoScalingGroupName"
              value = aws_autoscaling_group.this.name
            }
          }
          stat = "Average"
        }
      }
      metrics {
        id          = "backlog_per_instance"
        label       = "Messages visible per in-service instance"
        expression  = "visible / IF(instances > 0, instances, 1)"
        return_data = true
      }
    }
  }
}
