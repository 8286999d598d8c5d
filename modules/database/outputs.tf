output "instance_id" {
  description = "Identifier of the DB instance."
  value       = aws_db_instance.this.identifier
}

output "instance_arn" {
  description = "ARN of the DB instance."
  value       = aws_db_instance.this.arn
}

output "endpoint" {
  description = "Connection endpoint, host:port."
  value       = aws_db_instance.this.endpoint
}

output "address" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Name of the database created at launch."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "engine" {
  description = "Engine of the instance."
  value       = aws_db_instance.this.engine
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret in which RDS keeps the master user's credentials; null for a read replica, whose clients read its source's."
  value       = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}

output "replicate_source_db" {
  description = "ARN of the instance this one replicates, or null for a primary."
  value       = try(var.replica.source_db_arn, null)
}

output "security_group_id" {
  description = "Security group of the database; the allowed groups reach it on its port."
  value       = aws_security_group.this.id
}
