variable "name" {
  description = "Name (and Name tag prefix) of the VPC and everything in it: letters, digits and hyphens, at most 40 characters."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1 to 40 letters, digits and hyphens, starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 range of the VPC, /16 to /24. Public and private subnets are carved from it, one of each per availability zone."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 24
    error_message = "cidr_block must be an IPv4 CIDR block from /16 to /24, e.g. 10.0.0.0/16."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread subnets over (2 to 6), when availability_zones is null."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 2 to 6."
  }
}

variable "availability_zones" {
  description = "Zones to spread subnets over, by name (2 to 6, e.g. [\"us-east-1a\", \"us-east-1b\"]). Null: the first az_count zones available in the region."
  type        = list(string)
  default     = null

  validation {
    condition = var.availability_zones == null ? true : (
      length(var.availability_zones) >= 2 && length(var.availability_zones) <= 6 &&
      length(distinct(var.availability_zones)) == length(var.availability_zones) &&
      alltrue([for z in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", z))])
    )
    error_message = "availability_zones must be 2 to 6 distinct zone names such as us-east-1a, or null to use az_count."
  }
}

variable "enable_nat_gateway" {
  description = "NAT gateways for the private subnets (about 32 USD a month each, plus traffic). Off by default: private subnets then reach AWS services only through VPC endpoints (S3 is always there)."
  type        = bool
  default     = false
}

variable "single_nat_gateway" {
  description = "With NAT: one gateway for all zones (cheaper) instead of one per zone (survives a zone outage)."
  type        = bool
  default     = true
}

variable "flow_logs_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs; 0 turns flow logs off."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be 0 (off) or one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "existing_vpc" {
  description = "Bring your own network: the module then creates nothing and passes these ids through."
  type = object({
    vpc_id             = string
    public_subnet_ids  = list(string)
    private_subnet_ids = list(string)
  })
  default = null

  validation {
    condition = var.existing_vpc == null ? true : (
      can(regex("^vpc-[0-9a-f]+$", var.existing_vpc.vpc_id)) &&
      length(var.existing_vpc.private_subnet_ids) >= 2 &&
      alltrue([for s in concat(var.existing_vpc.public_subnet_ids, var.existing_vpc.private_subnet_ids) : can(regex("^subnet-[0-9a-f]+$", s))])
    )
    error_message = "existing_vpc needs a vpc-... id, subnet-... ids, and at least two private subnets (in different zones)."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
