output "vpc_id" {
  description = "Id of the VPC."
  value       = module.network.vpc_id
}

output "public_subnet_ids" {
  description = "Ids of the public subnets."
  value       = module.network.public_subnet_ids
}

output "private_subnet_ids" {
  description = "Ids of the private subnets."
  value       = module.network.private_subnet_ids
}

output "private_route_table_ids" {
  description = "Ids of the private route tables."
  value       = module.network.private_route_table_ids
}
