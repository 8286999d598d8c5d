# A private, encrypted RDS instance (PostgreSQL by default, MySQL too) whose master password
# RDS generates and keeps in Secrets Manager, reachable only from the given security groups
# and only over TLS.

locals {
  is_postgres    = var.engine == "postgres"
  engine_version = coalesce(var.engine_version, local.is_postgres ? "16" : "8.0")
  # Parameter group families: postgres16, mysql8.0.
  family = local.is_postgres ? "postgres${split(".", local.engine_version)[0]}" : "mysql${join(".", slice(split(".", local.engine_version), 0, 2))}"
  port   = local.is_postgres ? 5432 : 3306

  # Connections without TLS are refused by the server itself.
  tls_parameter = local.is_postgres ? { name = "rds.force_ssl", value = "1", apply_method = "immediate" } : { name = "require_secure_transport", value = "ON", apply_method = "immediate" }
  parameters    = concat([local.tls_parameter], [for p in var.parameters : p if p.name != local.tls_parameter.name])
  log_exports   = local.is_postgres ? ["postgresql", "upgrade"] : ["error", "slowquery"]

  replica     = var.replica != null
  kms_key_arn = local.replica && var.kms_key_arn == null ? aws_kms_key.replica[0].arn : var.kms_key_arn
}

# A replica in another region cannot use the source's key, nor the aws/rds key implicitly:
# one of its own region, rotated yearly.
resource "aws_kms_key" "replica" {
  count = local.replica && var.kms_key_arn == null ? 1 : 0

  description             = "Storage of ${var.name}, a read replica of ${var.replica.source_db_arn}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = var.tags
}

################################################################################
# Network
################################################################################

resource "aws_db_subnet_group" "this" {
  name        = "${var.name}-subnets"
  description = "Private subnets of ${var.name}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-db"
  description = "Database ${var.name}: its port, from the allowed security groups only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-db" })
}

# count, not for_each: the groups' ids are often unknown until apply, their number is not.
resource "aws_vpc_security_group_ingress_rule" "this" {
  count = length(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "Database port from an allowed security group"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  tags                         = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "cidr" {
  for_each = toset(var.allowed_cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = "Database port from a peered region's private subnets"
  ip_protocol       = "tcp"
  from_port         = local.port
  to_port           = local.port
  cidr_ipv4         = each.value
  tags              = var.tags
}

################################################################################
# Instance
################################################################################

resource "aws_db_parameter_group" "this" {
  name        = "${var.name}-${replace(local.family, ".", "-")}"
  family      = local.family
  description = "Parameters of ${var.name}"

  dynamic "parameter" {
    for_each = local.parameters
    content {
      name         = parameter.value.name
      value        = parameter.value.value
      apply_method = parameter.value.apply_method
    }
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# Three tfsec findings are inputs, ignored on their lines: deletion protection (on in
# production, off where stacks are torn down), IAM authentication (the platform uses the
# RDS-managed secret) and Performance Insights (it costs beyond 7 days).
resource "aws_db_instance" "this" {
  identifier          = var.name
  replicate_source_db = try(var.replica.source_db_arn, null)
  # A replica takes its engine, version, size, database and master user from its source.
  engine         = local.replica ? null : var.engine
  engine_version = local.replica ? null : local.engine_version
  instance_class = var.instance_class
  port           = local.port

  allocated_storage     = local.replica ? null : var.allocated_storage
  max_allocated_storage = var.max_allocated_storage == 0 ? null : var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = local.kms_key_arn

  db_name                       = local.replica ? null : var.db_name
  username                      = local.replica ? null : var.username
  manage_master_user_password   = local.replica ? null : true
  master_user_secret_kms_key_id = local.replica ? null : var.master_user_secret_kms_key_id

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  multi_az               = var.multi_az

  backup_retention_period    = var.backup_retention_period
  copy_tags_to_snapshot      = true
  auto_minor_version_upgrade = true
  deletion_protection        = var.deletion_protection #tfsec:ignore:aws-rds-enable-deletion-protection
  skip_final_snapshot        = var.skip_final_snapshot
  final_snapshot_identifier  = var.skip_final_snapshot ? null : "${var.name}-final"

  performance_insights_enabled          = var.performance_insights != null #tfsec:ignore:aws-rds-enable-performance-insights
  performance_insights_retention_period = var.performance_insights
  performance_insights_kms_key_id       = var.performance_insights != null ? local.kms_key_arn : null

  iam_database_authentication_enabled = var.iam_database_authentication #tfsec:ignore:aws-rds-enable-iam-auth
  enabled_cloudwatch_logs_exports     = local.log_exports

  tags = var.tags
}
