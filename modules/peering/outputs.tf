output "peering_connection_id" {
  description = "ID of the VPC peering connection (active once accepted)."
  value       = aws_vpc_peering_connection_accepter.home.id
}

output "accept_status" {
  description = "The connection's status as the accepter sees it: active when traffic flows."
  value       = aws_vpc_peering_connection_accepter.home.accept_status
}
