variable "name" {
  description = "Name of the Auto Scaling group, and prefix of its launch template, role and security group: letters, digits and hyphens, at most 48 characters."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,47}$", var.name))
    error_message = "name must be 1 to 48 letters, digits and hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the instances' security group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets the instances run in, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least two subnet ids (subnet-...) in different availability zones."
  }
}

variable "architecture" {
  description = "Instruction set of the instances and of the binary: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "instance_type" {
  description = "Instance type (with mixed_instances, the list there is used instead)."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t3.small or c7g.large."
  }
}

variable "ami_id" {
  description = "AMI of the instances. Null: the latest Amazon Linux 2023 for the architecture, from AWS's public SSM parameter."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]+$", var.ami_id))
    error_message = "ami_id must be an AMI id (ami-...) or null."
  }
}

variable "metadata_hop_limit" {
  description = "Hops an IMDSv2 token may travel: 1 keeps it on the instance; 2 lets containers on the instance (docker's bridge network) reach the metadata service."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2], var.metadata_hop_limit)
    error_message = "metadata_hop_limit must be 1 (the instance only) or 2 (containers on the instance too)."
  }
}

variable "artifact" {
  description = "The S3 object holding the service: a zip with an executable named bootstrap (as scripts/artifacts builds it). The instance role may read this object and nothing else in the bucket."
  type = object({
    bucket = string
    key    = string
  })

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifact.bucket)) && endswith(var.artifact.key, ".zip")
    error_message = "artifact needs a bucket name and the key of a .zip object."
  }
}

variable "service" {
  description = "The service the user data installs: its name (system user, unit and /opt folder), the port it listens on, its environment (written to /etc/<name>.env, readable by the service only), and stop_timeout_seconds, the unit's TimeoutStopSec: how long the service has, from SIGTERM at a scale-in or shutdown, to finish the work in hand before it is killed. A transcode worker needs its SHUTDOWN_GRACE_SECONDS (90 by default) plus its 20 s long poll inside it."
  type = object({
    name                 = string
    port                 = number
    environment          = optional(map(string), {})
    stop_timeout_seconds = optional(number, 120)
  })

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.service.name))
    error_message = "service.name must be 1 to 31 lowercase letters, digits and hyphens, starting with a letter (it names a system user)."
  }

  validation {
    condition     = var.service.port >= 1024 && var.service.port <= 65535
    error_message = "service.port must be from 1024 to 65535 (the service does not run as root)."
  }

  validation {
    condition     = alltrue([for k in keys(var.service.environment) : can(regex("^[A-Z_][A-Z0-9_]*$", k))])
    error_message = "service.environment keys must be upper-case letters, digits and underscores."
  }

  validation {
    condition     = alltrue([for v in values(var.service.environment) : !strcontains(v, "\n") && !strcontains(v, "\r")])
    error_message = "service.environment values must be single lines (no newline characters)."
  }

  validation {
    condition     = var.service.stop_timeout_seconds >= 5 && var.service.stop_timeout_seconds <= 3600 && floor(var.service.stop_timeout_seconds) == var.service.stop_timeout_seconds
    error_message = "service.stop_timeout_seconds must be a whole number of seconds from 5 to 3600: long enough for the service to finish the work in hand (a worker's SHUTDOWN_GRACE_SECONDS plus its 20 s long poll), short enough that a scale-in ends."
  }
}

variable "source_security_group_ids" {
  description = "Security groups (the load balancer's) allowed to reach the service port."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.source_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "source_security_group_ids must hold security group ids (sg-...)."
  }
}

variable "egress_cidr_blocks" {
  description = "Where instances may connect on egress_ports. Default: the VPC only (VPC endpoints, database); add 0.0.0.0/0 only when the instances reach AWS through a NAT gateway."
  type        = list(string)
  default     = null

  validation {
    condition     = var.egress_cidr_blocks == null ? true : alltrue([for c in var.egress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "egress_cidr_blocks must hold IPv4 CIDR blocks."
  }
}

variable "egress_ports" {
  description = "TCP ports instances may connect to in egress_cidr_blocks: HTTPS for AWS APIs through VPC endpoints and the database port by default."
  type        = list(number)
  default     = [443, 5432]

  validation {
    condition     = length(var.egress_ports) > 0 && alltrue([for p in var.egress_ports : p == floor(p) && p >= 1 && p <= 65535])
    error_message = "egress_ports must hold at least one whole TCP port number between 1 and 65535."
  }
}

variable "egress_prefix_list_ids" {
  description = "Managed prefix lists instances may reach on 443, e.g. the S3 gateway endpoint's."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.egress_prefix_list_ids : can(regex("^pl-[0-9a-f]+$", p))])
    error_message = "egress_prefix_list_ids must hold prefix list ids (pl-...)."
  }
}

variable "target_group_arns" {
  description = "Target groups the instances register with; when given, the group replaces instances the load balancer finds unhealthy."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.target_group_arns : can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/.+$", a))])
    error_message = "target_group_arns must hold target group ARNs."
  }
}

variable "capacity" {
  description = "Size of the group: min, max and desired number of instances. desired is the size at creation: the scaling policies own it afterwards, and a later change of it is not applied."
  type = object({
    min     = number
    max     = number
    desired = number
  })
  default = { min = 2, max = 6, desired = 2 }

  validation {
    condition     = var.capacity.min >= 0 && var.capacity.min <= var.capacity.desired && var.capacity.desired <= var.capacity.max && var.capacity.max >= 1
    error_message = "capacity must satisfy 0 <= min <= desired <= max, with max >= 1."
  }
}

variable "scaling" {
  description = "Target tracking: cpu (average CPU % of the group) or alb_requests (requests per target, with the target group's alb_resource_label: app/<alb>/<id>/targetgroup/<tg>/<id>). Null: fixed size."
  type = object({
    metric             = string
    target_value       = number
    alb_resource_label = optional(string)
  })
  default = { metric = "cpu", target_value = 60 }

  validation {
    condition     = var.scaling == null ? true : contains(["cpu", "alb_requests"], var.scaling.metric)
    error_message = "scaling.metric must be cpu or alb_requests."
  }

  validation {
    condition     = var.scaling == null ? true : (var.scaling.metric != "alb_requests" || var.scaling.alb_resource_label != null)
    error_message = "scaling with alb_requests needs alb_resource_label (app/<alb-name>/<id>/targetgroup/<tg-name>/<id>)."
  }

  validation {
    condition     = var.scaling == null ? true : var.scaling.target_value > 0
    error_message = "scaling.target_value must be positive."
  }
}

variable "queue_backlog_scaling" {
  description = "For a worker fleet: track the backlog of an SQS queue per in-service instance (messages visible / instances) at target_backlog_per_instance."
  type = object({
    queue_name                  = string
    target_backlog_per_instance = number
  })
  default = null

  validation {
    condition     = var.queue_backlog_scaling == null ? true : (can(regex("^[A-Za-z0-9_-]{1,80}$", var.queue_backlog_scaling.queue_name)) && var.queue_backlog_scaling.target_backlog_per_instance > 0)
    error_message = "queue_backlog_scaling needs an SQS queue name and a positive target_backlog_per_instance."
  }
}

variable "mixed_instances" {
  description = "For a worker fleet: several instance types, an on-demand base and spot above it."
  type = object({
    instance_types                           = list(string)
    on_demand_base_capacity                  = optional(number, 0)
    on_demand_percentage_above_base_capacity = optional(number, 0)
    spot_allocation_strategy                 = optional(string, "price-capacity-optimized")
  })
  default = null

  validation {
    condition     = var.mixed_instances == null ? true : length(var.mixed_instances.instance_types) >= 1
    error_message = "mixed_instances.instance_types needs at least one instance type (several spread the spot risk)."
  }

  validation {
    condition     = var.mixed_instances == null ? true : (var.mixed_instances.on_demand_percentage_above_base_capacity >= 0 && var.mixed_instances.on_demand_percentage_above_base_capacity <= 100 && var.mixed_instances.on_demand_base_capacity >= 0)
    error_message = "mixed_instances: on_demand_base_capacity must be >= 0 and on_demand_percentage_above_base_capacity from 0 to 100."
  }

  validation {
    condition     = var.mixed_instances == null ? true : contains(["price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"], var.mixed_instances.spot_allocation_strategy)
    error_message = "mixed_instances.spot_allocation_strategy must be price-capacity-optimized, capacity-optimized, capacity-optimized-prioritized or lowest-price."
  }
}

variable "instance_refresh_min_healthy_percentage" {
  description = "Share of the group kept in service while a new launch template version rolls out."
  type        = number
  default     = 90

  validation {
    condition     = var.instance_refresh_min_healthy_percentage >= 0 && var.instance_refresh_min_healthy_percentage <= 100
    error_message = "instance_refresh_min_healthy_percentage must be from 0 to 100."
  }
}

variable "policy_documents" {
  description = "Extra IAM policy documents (JSON) for the instance role, e.g. what the service needs of S3, SQS or Secrets Manager."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for d in var.policy_documents : can(jsondecode(d).Statement)])
    error_message = "policy_documents must hold JSON policy documents with a Statement list."
  }
}

variable "root_volume" {
  description = "Root volume: size in GB (8 to 1024) and the KMS key that encrypts it (null: the AWS-managed EBS key). Encrypted either way."
  type = object({
    size_gb     = optional(number, 16)
    kms_key_arn = optional(string)
  })
  default = {}

  validation {
    condition     = var.root_volume.size_gb >= 8 && var.root_volume.size_gb <= 1024
    error_message = "root_volume.size_gb must be from 8 to 1024."
  }

  validation {
    condition     = var.root_volume.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.root_volume.kms_key_arn))
    error_message = "root_volume.kms_key_arn must be a KMS key ARN or null."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource, instances and volumes included."
  type        = map(string)
  default     = {}
}
