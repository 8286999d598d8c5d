variable "name" {
  description = "Name of the peering connection (its Name tag), e.g. acme-euw1-to-home."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,127}$", var.name))
    error_message = "name must be 1 to 128 letters, digits and hyphens, starting with a letter or digit."
  }
}

variable "vpc_id" {
  description = "This region's VPC (the region stack's vpc_id): the side that requests the peering."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID like vpc-0123456789abcdef0."
  }
}

variable "vpc_cidr_block" {
  description = "This region's VPC range (the region stack's vpc_cidr_block): the home region routes it over the peering and its database admits it."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0)) && !startswith(var.vpc_cidr_block, "0.0.0.0/")
    error_message = "vpc_cidr_block must be the VPC's IPv4 range, such as 10.1.0.0/16."
  }
}

variable "route_table_ids" {
  description = "This region's private route tables (the region stack's private_route_table_ids), which gain a route to the home VPC."
  type        = list(string)
}

variable "home" {
  description = <<-EOF
    The home region's side, from its region stack's outputs: region, vpc_id, cidr_block (vpc_cidr_block), route_table_ids (private_route_table_ids), database_security_group_id and database_port.
    Nothing of the home region's own configuration names this region: the accepter, the home's routes back and the database's ingress rule are this peering's resources, so adding or removing a region plans no change in the home region's state.
  EOF
  type = object({
    region                     = string
    vpc_id                     = string
    cidr_block                 = string
    route_table_ids            = list(string)
    database_security_group_id = string
    database_port              = optional(number, 5432)
  })

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.home.vpc_id)) && can(regex("^sg-[0-9a-f]+$", var.home.database_security_group_id))
    error_message = "home.vpc_id must be a VPC ID (vpc-...) and home.database_security_group_id a security group ID (sg-...)."
  }

  validation {
    condition     = can(cidrhost(var.home.cidr_block, 0)) && !startswith(var.home.cidr_block, "0.0.0.0/")
    error_message = "home.cidr_block must be the home VPC's IPv4 range, such as 10.0.0.0/16."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
