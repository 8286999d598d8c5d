# Computed ARNs and ids get well-formed mock values: OpenTofu plans with them (Terraform
# leaves them unknown), and the provider validates what it is given.
mock_provider "aws" {
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    }
  }
}

variables {
  name                       = "media-db"
  vpc_id                     = "vpc-0a1b2c3d"
  subnet_ids                 = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]
  allowed_security_group_ids = ["sg-0123abcd"]
}

run "defaults_are_secure" {
  command = plan

  assert {
    condition     = aws_db_instance.this.engine == "postgres" && aws_db_instance.this.engine_version == "16" && aws_db_instance.this.port == 5432
    error_message = "PostgreSQL 16 on 5432 by default"
  }
  assert {
    condition     = aws_db_instance.this.publicly_accessible == false && aws_db_instance.this.storage_encrypted
    error_message = "the database is private and encrypted"
  }
  assert {
    condition     = aws_db_instance.this.manage_master_user_password && aws_db_instance.this.password == null
    error_message = "RDS manages the master password; none is in the configuration or the state"
  }
  assert {
    condition     = aws_db_instance.this.backup_retention_period == 7 && aws_db_instance.this.copy_tags_to_snapshot
    error_message = "backups are kept 7 days"
  }
  assert {
    condition     = aws_db_instance.this.skip_final_snapshot == false && aws_db_instance.this.final_snapshot_identifier == "media-db-final"
    error_message = "a final snapshot is taken by default"
  }
  assert {
    condition     = !aws_db_instance.this.multi_az && !aws_db_instance.this.deletion_protection && !aws_db_instance.this.performance_insights_enabled
    error_message = "the costly or blocking options are off by default"
  }
  assert {
    condition     = aws_db_parameter_group.this.family == "postgres16" && contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "rds.force_ssl=1")
    error_message = "the server refuses connections without TLS"
  }
  assert {
    condition     = aws_db_instance.this.enabled_cloudwatch_logs_exports == toset(["postgresql", "upgrade"])
    error_message = "logs go to CloudWatch"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.this[0].from_port == 5432 && aws_vpc_security_group_ingress_rule.this[0].referenced_security_group_id == "sg-0123abcd"
    error_message = "only the allowed security groups reach the port"
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.this) == 1
    error_message = "no other ingress"
  }
}

run "mysql_and_toggles" {
  command = plan

  variables {
    engine                        = "mysql"
    engine_version                = "8.0.39"
    instance_class                = "db.r7g.large"
    allocated_storage             = 100
    max_allocated_storage         = 0
    multi_az                      = true
    deletion_protection           = true
    skip_final_snapshot           = true
    performance_insights          = 7
    iam_database_authentication   = true
    backup_retention_period       = 14
    kms_key_arn                   = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    master_user_secret_kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    parameters                    = [{ name = "max_connections", value = "500", apply_method = "pending-reboot" }, { name = "require_secure_transport", value = "OFF" }]
    tags                          = { team = "media" }
  }

  assert {
    condition     = aws_db_instance.this.port == 3306 && aws_db_parameter_group.this.family == "mysql8.0"
    error_message = "MySQL gets its port and parameter family"
  }
  assert {
    condition     = contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "require_secure_transport=ON") && !contains([for p in aws_db_parameter_group.this.parameter : "${p.name}=${p.value}"], "require_secure_transport=OFF")
    error_message = "TLS stays required: a parameter cannot turn it off"
  }
  assert {
    condition     = contains([for p in aws_db_parameter_group.this.parameter : p.name], "max_connections")
    error_message = "other parameters are applied"
  }
  assert {
    condition     = aws_db_instance.this.multi_az && aws_db_instance.this.deletion_protection && aws_db_instance.this.performance_insights_enabled && aws_db_instance.this.iam_database_authentication_enabled
    error_message = "the toggles reach the instance"
  }
  assert {
    condition     = aws_db_instance.this.skip_final_snapshot && aws_db_instance.this.final_snapshot_identifier == null
    error_message = "no final snapshot when skipped"
  }
  assert {
    condition     = aws_db_instance.this.max_allocated_storage == null && aws_db_instance.this.backup_retention_period == 14
    error_message = "storage autoscaling off, 14 days of backups"
  }
}

run "cross_region_read_replica" {
  command = plan

  variables {
    name                = "media-db-euw1"
    replica             = { source_db_arn = "arn:aws:rds:us-east-1:111122223333:db:media-db" }
    allowed_cidr_blocks = ["10.1.0.0/16"]
  }

  assert {
    condition     = aws_db_instance.this.replicate_source_db == "arn:aws:rds:us-east-1:111122223333:db:media-db" && aws_db_instance.this.manage_master_user_password == null
    error_message = "a replica takes its engine, database and master user (and its password) from its source"
  }
  assert {
    condition     = length(aws_kms_key.replica) == 1 && aws_kms_key.replica[0].enable_key_rotation && aws_db_instance.this.storage_encrypted
    error_message = "a replica is encrypted with a rotated key of its own region"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.cidr["10.1.0.0/16"].from_port == 5432 && aws_vpc_security_group_ingress_rule.cidr["10.1.0.0/16"].cidr_ipv4 == "10.1.0.0/16"
    error_message = "a peered region's private subnets reach the port"
  }
}

run "primary_has_no_replica_key" {
  command = plan

  assert {
    condition     = length(aws_kms_key.replica) == 0 && aws_db_instance.this.replicate_source_db == null
    error_message = "a primary uses the key it is given, or aws/rds"
  }
}

run "rejects_bad_source_db" {
  command = plan
  variables {
    replica = { source_db_arn = "media-db" }
  }
  expect_failures = [var.replica]
}

run "rejects_open_cidr" {
  command = plan
  variables {
    allowed_cidr_blocks = ["0.0.0.0/0"]
  }
  expect_failures = [var.allowed_cidr_blocks]
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "Media_DB"
  }
  expect_failures = [var.name]
}

run "rejects_bad_engine" {
  command = plan
  variables {
    engine = "oracle-ee"
  }
  expect_failures = [var.engine]
}

run "rejects_bad_engine_version" {
  command = plan
  variables {
    engine_version = "latest"
  }
  expect_failures = [var.engine_version]
}

run "rejects_bad_instance_class" {
  command = plan
  variables {
    instance_class = "t4g.micro"
  }
  expect_failures = [var.instance_class]
}

run "rejects_small_storage" {
  command = plan
  variables {
    allocated_storage = 10
  }
  expect_failures = [var.allocated_storage]
}

run "rejects_max_storage_below_allocated" {
  command = plan
  variables {
    allocated_storage     = 50
    max_allocated_storage = 40
  }
  expect_failures = [var.max_allocated_storage]
}

run "rejects_bad_db_name" {
  command = plan
  variables {
    db_name = "media-db"
  }
  expect_failures = [var.db_name]
}

run "rejects_reserved_username" {
  command = plan
  variables {
    username = "postgres"
  }
  expect_failures = [var.username]
}

run "rejects_bad_secret_key" {
  command = plan
  variables {
    master_user_secret_kms_key_id = "alias/rds"
  }
  expect_failures = [var.master_user_secret_kms_key_id]
}

run "rejects_bad_kms_key" {
  command = plan
  variables {
    kms_key_arn = "alias/rds"
  }
  expect_failures = [var.kms_key_arn]
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

run "rejects_bad_security_group" {
  command = plan
  variables {
    allowed_security_group_ids = ["0.0.0.0/0"]
  }
  expect_failures = [var.allowed_security_group_ids]
}

run "rejects_short_backups" {
  command = plan
  variables {
    backup_retention_period = 1
  }
  expect_failures = [var.backup_retention_period]
}

run "rejects_bad_insights_retention" {
  command = plan
  variables {
    performance_insights = 30
  }
  expect_failures = [var.performance_insights]
}

run "rejects_bad_apply_method" {
  command = plan
  variables {
    parameters = [{ name = "max_connections", value = "500", apply_method = "later" }]
  }
  expect_failures = [var.parameters]
}
