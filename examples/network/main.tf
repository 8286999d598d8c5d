# A two-zone network without NAT: private subnets reach S3 through the gateway endpoint.
module "network" {
  source = "../../modules/network"

  name       = "${var.name_prefix}-network"
  cidr_block = "10.40.0.0/16"
}
