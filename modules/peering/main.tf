# The private path from one region to the home region: a VPC peering connection requested
# here and accepted there, routes between the two VPCs' private subnets, and the home
# database's admission of this region on its port alone. Security groups of another region
# cannot be named across an inter-region peering (AWS allows it within a region only), so the
# database admits this region's VPC range.

resource "aws_vpc_peering_connection" "this" {
  vpc_id      = var.vpc_id
  peer_vpc_id = var.home.vpc_id
  peer_region = var.home.region
  # An inter-region peering is accepted by its accepter, never on creation.
  auto_accept = false

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_vpc_peering_connection_accepter" "home" {
  provider = aws.home

  vpc_peering_connection_id = aws_vpc_peering_connection.this.id
  auto_accept               = true

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_route" "to_home" {
  count = length(var.route_table_ids)

  route_table_id            = var.route_table_ids[count.index]
  destination_cidr_block    = var.home.cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.home.id
}

resource "aws_route" "from_home" {
  provider = aws.home
  count    = length(var.home.route_table_ids)

  route_table_id            = var.home.route_table_ids[count.index]
  destination_cidr_block    = var.vpc_cidr_block
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.home.id
}

resource "aws_vpc_security_group_ingress_rule" "home_database" {
  provider = aws.home

  security_group_id = var.home.database_security_group_id
  description       = "PostgreSQL from ${var.name}'s VPC, over the peering"
  ip_protocol       = "tcp"
  from_port         = var.home.database_port
  to_port           = var.home.database_port
  cidr_ipv4         = var.vpc_cidr_block
  tags              = var.tags
}
