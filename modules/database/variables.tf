variable "name" {
  description = "Identifier of the DB instance and prefix of its subnet group, parameter group and security group: lowercase letters, digits and hyphens, starting with a letter, at most 50 characters."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,48}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 2 to 50 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "engine" {
  description = "Database engine: postgres (default) or mysql."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["postgres", "mysql"], var.engine)
    error_message = "engine must be postgres or mysql."
  }
}

variable "engine_version" {
  description = "Major (or major.minor) engine version, e.g. 16 for PostgreSQL or 8.0 for MySQL. Null: 16 for postgres, 8.0 for mysql."
  type        = string
  default     = null

  validation {
    condition     = var.engine_version == null || can(regex("^[0-9]+(\\.[0-9]+){0,2}$", var.engine_version))
    error_message = "engine_version must look like 16, 16.4 or 8.0.39."
  }
}

variable "instance_class" {
  description = "Instance class, e.g. db.t4g.micro."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.<family>.<size>, e.g. db.t4g.micro."
  }
}

variable "allocated_storage" {
  description = "Storage in GB (20 to 65536), encrypted gp3."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
    error_message = "allocated_storage must be from 20 to 65536 GB."
  }
}

variable "max_allocated_storage" {
  description = "Upper bound for storage autoscaling in GB; 0 turns autoscaling off."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage == 0 || (var.max_allocated_storage >= var.allocated_storage && var.max_allocated_storage <= 65536)
    error_message = "max_allocated_storage must be 0 (off) or from allocated_storage to 65536."
  }
}

variable "db_name" {
  description = "Name of the database created at launch: a letter, then letters, digits or underscores (at most 63 for PostgreSQL, 64 for MySQL)."
  type        = string
  default     = "media"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and hold only letters, digits and underscores, at most 63 characters."
  }
}

variable "username" {
  description = "Master user name. Its password is generated and kept by RDS in Secrets Manager (never in Terraform state)."
  type        = string
  default     = "media_admin"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,15}$", var.username)) && !contains(["admin", "postgres", "rdsadmin", "root"], lower(var.username))
    error_message = "username must start with a letter, hold letters, digits and underscores, be at most 16 characters, and not be a reserved name (admin, postgres, rdsadmin, root)."
  }
}

variable "master_user_secret_kms_key_id" {
  description = "KMS key for the managed master password secret. Null: Secrets Manager's AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.master_user_secret_kms_key_id == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.master_user_secret_kms_key_id))
    error_message = "master_user_secret_kms_key_id must be a KMS key ARN or null."
  }
}

variable "kms_key_arn" {
  description = "KMS key for storage encryption (and Performance Insights). Null: the AWS-managed aws/rds key. Storage is encrypted either way."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "replica" {
  description = "Make this instance a read replica of source_db_arn, a DB instance in this region or another (a cross-region replica, as the catalogue has in every region but the home one). A replica takes the source's engine, database, master user and password (clients keep reading the source's secret) and is read-only; its storage is encrypted with kms_key_arn or, when that is null, with a key of its own region that the module creates (AWS needs an explicit key of the replica's region across regions). An object rather than a bare ARN, so that whether there is a replica is known at plan even when the source is created in the same apply. Null: a primary."
  type = object({
    source_db_arn = string
  })
  default = null

  validation {
    condition     = var.replica == null || can(regex("^arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:db:[a-z][a-z0-9-]{0,62}$", try(var.replica.source_db_arn, "")))
    error_message = "replica.source_db_arn must be the ARN of a DB instance (arn:aws:rds:<region>:<account>:db:<identifier>); leave replica null for a primary."
  }
}

variable "allowed_cidr_blocks" {
  description = "Address ranges also allowed to the database's port: other regions' private subnets reaching the home region's primary over VPC peering, where security groups of the peer cannot be named (AWS allows that only within a region)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.allowed_cidr_blocks : can(cidrhost(c, 0)) && !startswith(c, "0.0.0.0/")])
    error_message = "allowed_cidr_blocks must hold IPv4 CIDR blocks such as 10.1.0.0/16, never 0.0.0.0/0."
  }
}

variable "vpc_id" {
  description = "VPC of the database's security group."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the DB subnet group, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids needs at least two subnet ids (subnet-...) in different availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may connect to the database port; nothing else can."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "allowed_security_group_ids must hold security group ids (sg-...)."
  }
}

variable "backup_retention_period" {
  description = "Days automated backups are kept (7 to 35)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_period >= 7 && var.backup_retention_period <= 35
    error_message = "backup_retention_period must be from 7 to 35 days."
  }
}

variable "multi_az" {
  description = "Keep a standby in another AZ (doubles the instance cost). Recommended for production."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance until this is turned off. Recommended for production; blocks `terraform destroy`."
  type        = bool
  default     = false
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot. Keep false in production; tests set it."
  type        = bool
  default     = false
}

variable "performance_insights" {
  description = "Performance Insights with this retention in days (7, or a multiple of 31 up to 731). Null turns it off; 7 days are free."
  type        = number
  default     = null

  validation {
    condition     = var.performance_insights == null ? true : (var.performance_insights == 7 || (var.performance_insights % 31 == 0 && var.performance_insights <= 731 && var.performance_insights > 0))
    error_message = "performance_insights must be null, 7, or a multiple of 31 up to 731 days."
  }
}

variable "iam_database_authentication" {
  description = "Allow IAM database authentication in addition to passwords."
  type        = bool
  default     = false
}

variable "parameters" {
  description = "Engine parameters for the module's parameter group. apply_method: immediate or pending-reboot."
  type = list(object({
    name         = string
    value        = string
    apply_method = optional(string, "immediate")
  }))
  default = []

  validation {
    condition     = alltrue([for p in var.parameters : contains(["immediate", "pending-reboot"], p.apply_method)])
    error_message = "parameters: apply_method must be immediate or pending-reboot."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
}
