# The derivatives bucket served through CloudFront. No dependency cycle although each module
# reads the other: the distribution needs only the bucket's name and domain, and the bucket's
# policy (a separate resource inside media-buckets) is written after the distribution exists,
# naming its ARN.
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
  signing_public_key_pem             = var.signing_public_key_path == null ? null : file(var.signing_public_key_path)

  tags = local.tags
}

locals {
  tags = {
    project = "mediastack"
    example = "cdn"
  }
}
