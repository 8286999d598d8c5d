# A small upload-API fleet in two private subnets, installed from an artifacts bucket.
data "aws_availability_zones" "available" {
  state = "available"
}

resource "aws_vpc" "this" {
  cidr_block           = "10.30.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "${var.name_prefix}-asg-example" }
}

resource "aws_subnet" "private" {
  count = 2

  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(aws_vpc.this.cidr_block, 8, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
  tags              = { Name = "${var.name_prefix}-private-${count.index}" }
}

module "artifacts" {
  source = "../../modules/private-bucket"

  name          = "${var.name_prefix}-artifacts"
  force_destroy = var.force_destroy
}

resource "aws_s3_object" "upload_api" {
  bucket      = module.artifacts.id
  key         = "upload-api/upload-api.zip"
  source      = var.artifact_path
  source_hash = filemd5(var.artifact_path)
}

module "upload_api" {
  source = "../../modules/asg"

  name       = "${var.name_prefix}-upload-api"
  vpc_id     = aws_vpc.this.id
  subnet_ids = aws_subnet.private[*].id
  artifact   = { bucket = module.artifacts.id, key = aws_s3_object.upload_api.key }
  service = {
    name        = "upload-api"
    port        = 8080
    environment = { LISTEN_ADDR = ":8080", LOG_LEVEL = "info" }
  }
  capacity = { min = 1, max = 3, desired = 1 }
}
