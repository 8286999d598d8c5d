variable "name" {
  description = "Name of the load balancer, and prefix of its security group and target group: letters, digits and hyphens, at most 29 characters (the target group adds -tg within AWS's 32)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,27}[A-Za-z0-9])?$", var.name)) && !startswith(lower(var.name), "internal-")
    error_message = "name must be 1 to 29 letters, digits and hyphens, neither starting nor ending with a hyphen, and must not start with internal-."
  }
}

variable "vpc_id" {
  description = "VPC of the load balancer, its security group and its target group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Subnets of the load balancer, in at least two availability zones: the public ones for an internet-facing load balancer, private ones when internal."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least two subnet ids (subnet-...) in different availability zones."
  }
}

variable "internal" {
  description = "true: reachable only inside the VPC (private subnets); false: internet-facing (public subnets)."
  type        = bool
  default     = false
}

variable "ingress_cidr_blocks" {
  description = "IPv4 ranges allowed to reach the listeners (80, and 443 with a certificate), e.g. [\"0.0.0.0/0\"] for a public site or the VPC range when internal."
  type        = list(string)

  validation {
    condition     = length(var.ingress_cidr_blocks) > 0 && alltrue([for c in var.ingress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "ingress_cidr_blocks needs at least one IPv4 CIDR block, e.g. 0.0.0.0/0 or 10.0.0.0/16."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener (443). With it, port 80 only redirects to HTTPS. Null needs allow_plain_http = true."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:(acm|iam):[a-z0-9-]*:[0-9]{12}:(certificate|server-certificate)/.+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or null."
  }
}

variable "allow_plain_http" {
  description = "Without a certificate, forward plain HTTP on port 80 to the targets. For local and dev stacks only: traffic is unencrypted."
  type        = bool
  default     = false

  validation {
    condition     = var.allow_plain_http || var.certificate_arn != null
    error_message = "The load balancer needs certificate_arn (an ACM certificate for HTTPS) or, for local and dev stacks only, allow_plain_http = true to serve unencrypted HTTP."
  }
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener: TLS 1.3 and 1.2 with forward secrecy by default."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"

  validation {
    condition     = startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "ssl_policy must be one of the ELBSecurityPolicy-TLS13-* policies (TLS 1.2 at least), e.g. ELBSecurityPolicy-TLS13-1-2-2021-06."
  }
}

variable "target_port" {
  description = "Port the targets (instances) serve HTTP on; the load balancer's security group may reach it inside the VPC."
  type        = number
  default     = 8080

  validation {
    condition     = var.target_port >= 1 && var.target_port <= 65535 && floor(var.target_port) == var.target_port
    error_message = "target_port must be a port number from 1 to 65535."
  }
}

variable "health_check" {
  description = "Health check of the target group: path, expected HTTP codes (matcher, e.g. \"200\" or \"200-299\"), interval and timeout in seconds, and how many checks in a row make a target healthy or unhealthy."
  type = object({
    path                = optional(string, "/healthz")
    matcher             = optional(string, "200")
    interval            = optional(number, 15)
    timeout             = optional(number, 5)
    healthy_threshold   = optional(number, 3)
    unhealthy_threshold = optional(number, 3)
  })
  default = {}

  validation {
    condition     = startswith(var.health_check.path, "/") && length(var.health_check.path) <= 1024
    error_message = "health_check.path must start with / (at most 1024 characters)."
  }

  validation {
    condition     = can(regex("^[1-5][0-9]{2}(-[1-5][0-9]{2})?(,[1-5][0-9]{2}(-[1-5][0-9]{2})?)*$", var.health_check.matcher))
    error_message = "health_check.matcher must be HTTP codes like 200, 200,204 or 200-299."
  }

  validation {
    condition     = var.health_check.interval >= 5 && var.health_check.interval <= 300 && var.health_check.timeout >= 2 && var.health_check.timeout <= 120 && var.health_check.timeout < var.health_check.interval
    error_message = "health_check.interval must be 5 to 300 seconds and timeout 2 to 120 seconds, shorter than the interval."
  }

  validation {
    condition     = var.health_check.healthy_threshold >= 2 && var.health_check.healthy_threshold <= 10 && var.health_check.unhealthy_threshold >= 2 && var.health_check.unhealthy_threshold <= 10
    error_message = "health_check.healthy_threshold and unhealthy_threshold must be from 2 to 10."
  }
}

variable "deregistration_delay" {
  description = "Seconds the target group lets in-flight requests finish on a target being removed (instance refresh, scale-in)."
  type        = number
  default     = 30

  validation {
    condition     = var.deregistration_delay >= 0 && var.deregistration_delay <= 3600
    error_message = "deregistration_delay must be from 0 to 3600 seconds."
  }
}

variable "idle_timeout" {
  description = "Seconds a connection may stay idle. Uploads stream through the API, so keep it above the slowest client's pause."
  type        = number
  default     = 60

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000
    error_message = "idle_timeout must be from 1 to 4000 seconds."
  }
}

variable "access_logs" {
  description = "Access logs to an S3 bucket (which must allow the regional ELB account or the logdelivery service to write), under an optional prefix. Null turns them off."
  type = object({
    bucket = string
    prefix = optional(string)
  })
  default = null

  validation {
    condition     = var.access_logs == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_logs.bucket))
    error_message = "access_logs.bucket must be an S3 bucket name."
  }

  validation {
    condition     = var.access_logs == null ? true : (var.access_logs.prefix == null ? true : !startswith(var.access_logs.prefix, "/") && !endswith(var.access_logs.prefix, "/") && !strcontains(lower(var.access_logs.prefix), "awslogs"))
    error_message = "access_logs.prefix must not start or end with / nor contain AWSLogs."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the load balancer until this is turned off. Recommended for production; blocks `terraform destroy`."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
