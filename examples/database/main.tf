# The database in two private subnets, reachable from an application security group only.
data "aws_availability_zones" "available" {
  state = "available"
}

resource "aws_vpc" "this" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "${var.name_prefix}-db-example" }
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(aws_vpc.this.cidr_block, 8, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
  tags              = { Name = "${var.name_prefix}-private-${count.index}" }
}

resource "aws_security_group" "app" {
  name        = "${var.name_prefix}-app"
  description = "Application servers that use the database"
  vpc_id      = aws_vpc.this.id
}

module "database" {
  source = "../../modules/database"

  name                       = "${var.name_prefix}-media"
  vpc_id                     = aws_vpc.this.id
  subnet_ids                 = aws_subnet.private[*].id
  allowed_security_group_ids = [aws_security_group.app.id]
  skip_final_snapshot        = var.force_destroy
}
