output "instance_id" {
  description = "Identifier of the DB instance."
  value       = module.database.instance_id
}

output "endpoint" {
  description = "Connection endpoint, host:port."
  value       = module.database.endpoint
}

output "master_user_secret_arn" {
  description = "Secret holding the master credentials."
  value       = module.database.master_user_secret_arn
}

output "app_security_group_id" {
  description = "Security group allowed to connect."
  value       = aws_security_group.app.id
}

output "database_security_group_id" {
  description = "Security group of the database."
  value       = module.database.security_group_id
}
