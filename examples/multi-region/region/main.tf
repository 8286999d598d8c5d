# One region of a multi-region platform, a state of its own: the region stack, the
# distribution that serves this region's media, and, outside the home region, the private
# path to the home region's database. The home region's user pool and primary come in
# through var.home; nothing here names the other regions, so adding or removing one plans no
# change in this state.

locals {
  home   = var.home == null
  labels = split("-", var.region)
  # A short code per region (eu-west-1 -> euw1) keeps names within AWS's length limits.
  code = join("", concat([local.labels[0]], [for l in slice(local.labels, 1, length(local.labels) - 1) : substr(l, 0, 1)], [local.labels[length(local.labels) - 1]]))
  name = "${var.name_prefix}-${local.code}"

  tags = {
    project = "mediastack"
    example = "multi-region"
    region  = var.region
  }
}

module "region" {
  source = "../../../modules/region-stack"

  name                 = local.name
  network              = { cidr_block = var.cidr_block }
  certificate_arn      = var.certificate_arn
  allow_plain_http     = var.certificate_arn == null
  upload_api           = { zip_path = var.upload_api_zip_path, capacity = { min = 1, max = 3, desired = 1 } }
  transcoder           = { zip_path = var.transcoder_zip_path, maximum_concurrency = 5 }
  worker_fleet         = var.transcode_worker_zip_path == null ? null : { zip_path = var.transcode_worker_zip_path }
  identity             = var.identity
  allowed_countries    = var.allowed_countries
  force_destroy        = var.force_destroy
  restrict_dlq_sources = var.restrict_dlq_sources
  originals_replication = var.originals_replica_region == null ? null : {
    destination_bucket_arn = module.originals_replica[0].arn
  }
  home = local.home ? null : { identity = var.home.identity, database = var.home.database }
  cdn = {
    base_url          = "https://${module.cdn.domain_name}"
    distribution_arns = [module.cdn.distribution_arn]
    api_base_url      = module.cdn.api_base_url
  }

  tags = local.tags
}

module "cdn" {
  source = "../../../modules/cdn"
  providers = {
    aws = aws.global
  }

  name                               = "${local.name}-media"
  origin_bucket_name                 = module.region.derivatives_bucket_id
  origin_bucket_regional_domain_name = module.region.derivatives_bucket_regional_domain_name
  geo_allowed_countries              = var.allowed_countries
  # The API's public reads cached at the edge: over plain HTTP to the load balancer without a
  # certificate (CloudFront checks an HTTPS origin's certificate against its name, which a
  # load balancer's DNS name is not covered by).
  api_origin = var.certificate_arn == null ? { domain_name = module.region.alb_dns_name, protocol = "http-only" } : null

  tags = local.tags
}

module "peering" {
  source = "../../../modules/peering"
  count  = local.home ? 0 : 1
  providers = {
    aws      = aws
    aws.home = aws.home
  }

  name            = "${local.name}-to-home"
  vpc_id          = module.region.vpc_id
  vpc_cidr_block  = module.region.vpc_cidr_block
  route_table_ids = module.region.private_route_table_ids
  home            = var.home.peering


  tags = local.tags
}

# The copies of this region's originals in another region.
module "originals_replica" {
  source = "../../../modules/private-bucket"
  count  = var.originals_replica_region == null ? 0 : 1
  providers = {
    aws = aws.replica
  }

  name          = "${local.name}-originals-replica"
  versioning    = true # S3 Replication writes into versioned buckets only
  force_destroy = var.force_destroy
  tags          = merge(local.tags, { "mediastack:role" = "originals-replica" })
}
