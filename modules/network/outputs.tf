output "vpc_id" {
  description = "Id of the VPC."
  value       = local.create ? aws_vpc.this[0].id : var.existing_vpc.vpc_id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the VPC (null for an existing VPC)."
  value       = local.create ? aws_vpc.this[0].cidr_block : null
}

output "public_subnet_ids" {
  description = "Ids of the public subnets (load balancers, NAT), one per zone."
  value       = local.create ? aws_subnet.public[*].id : var.existing_vpc.public_subnet_ids
}

output "private_subnet_ids" {
  description = "Ids of the private subnets (instances, functions, database), one per zone."
  value       = local.create ? aws_subnet.private[*].id : var.existing_vpc.private_subnet_ids
}

output "availability_zones" {
  description = "Zones the subnets are in (empty for an existing VPC)."
  value       = local.azs
}

output "private_route_table_ids" {
  description = "Ids of the private route tables, for more VPC endpoints."
  value       = aws_route_table.private[*].id
}

output "s3_prefix_list_id" {
  description = "Prefix list of the S3 gateway endpoint, for security group egress (null for an existing VPC)."
  value       = one(aws_vpc_endpoint.s3[*].prefix_list_id)
}
