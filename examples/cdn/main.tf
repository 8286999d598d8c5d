# The derivatives bucket served through CloudFront. No cycle: the distribution needs only the
# bucket's domain name, and the bucket policy (a separate resource) then names the distribution.
module "media_buckets" {
  source = "../../modules/media-buckets"

  name_prefix           = var.name_prefix
  cdn_distribution_arns = [module.cdn.distribution_arn]
  force_destroy         = var.force_destroy

  tags = local.tags
}

module "cdn" {
  source = "../../modules/cdn"

  name                               = "${var.name_prefix}-cdn"
  origin_bucket_name                 = module.media_buckets.derivatives_bucket_id
  origin_bucket_regional_domain_name = module.media_buckets.derivatives_bucket_regional_domain_name
  signing_public_key_pem             = var.signing_public_key_pem

  tags = local.tags
}

locals {
  tags = {
    project = "mediastack"
    example = "cdn"
  }
}
