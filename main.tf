# The mediastack root stack: one region stack per region in var.regions (one or two), each
# with its own CloudFront distribution in front of its derivatives bucket, and one set of
# latency records that sends each client to the closest region's upload API. The first region
# is the home: its user pool signs every user in and its database is the catalogue's primary,
# of which the second region holds a cross-region read replica, reached over a peering.
#
# Terraform cannot create providers in a loop, so the second region has its own provider
# alias and module block; the first region is required, the second optional. For three or
# more, examples/multi-region stamps a state per region.

locals {
  # A short code per region (us-east-1 -> use1) keeps names within AWS's length limits.
  region_codes = { for r in var.regions : r => join("", concat(
    [split("-", r)[0]],
    [for part in slice(split("-", r), 1, length(split("-", r)) - 1) : substr(part, 0, 1)],
    [element(split("-", r), length(split("-", r)) - 1)],
  )) }
  second_region = length(var.regions) > 1

  # Whole module objects are never referenced: that would make every output wait on every
  # input and close the loop between the regions and their distributions.
  primary   = var.regions[0]
  secondary = local.second_region ? var.regions[1] : null
}

module "primary" {
  source = "./modules/region-stack"

  name                      = "${var.name_prefix}-${local.region_codes[local.primary]}"
  network                   = { cidr_block = "10.0.0.0/16" }
  certificate_arn           = lookup(var.certificate_arns, local.primary, null)
  allow_plain_http          = var.allow_plain_http
  upload_api                = merge(var.upload_api, { zip_path = var.upload_api_zip_path })
  transcoder                = merge(var.transcoder, { zip_path = var.transcoder_zip_path })
  worker_fleet              = var.worker_fleet == null ? null : merge(var.worker_fleet, { zip_path = var.transcode_worker_zip_path })
  database                  = var.database
  identity                  = var.identity
  derivatives_storage_class = var.derivatives_storage_class
  cors_allowed_origins      = concat(var.cors_allowed_origins, var.web_app == null ? [] : ["https://${module.cdn_primary.domain_name}"])
  notifications             = var.notifications
  allowed_countries         = var.allowed_countries
  media_event_subscriptions = lookup(var.media_event_subscriptions, local.primary, {})
  cdn                       = local.cdn_primary
  alarm_actions             = lookup(var.alarm_actions, local.primary, [])
  deletion_protection       = var.deletion_protection
  force_destroy             = var.force_destroy
  restrict_dlq_sources      = var.restrict_dlq_sources

  tags = var.tags
}

module "secondary" {
  source = "./modules/region-stack"
  count  = local.second_region ? 1 : 0
  providers = {
    aws = aws.secondary
  }

  name                      = "${var.name_prefix}-${local.region_codes[local.secondary]}"
  network                   = { cidr_block = "10.1.0.0/16" }
  certificate_arn           = lookup(var.certificate_arns, local.secondary, null)
  allow_plain_http          = var.allow_plain_http
  upload_api                = merge(var.upload_api, { zip_path = var.upload_api_zip_path })
  transcoder                = merge(var.transcoder, { zip_path = var.transcoder_zip_path })
  worker_fleet              = var.worker_fleet == null ? null : merge(var.worker_fleet, { zip_path = var.transcode_worker_zip_path })
  database                  = var.database
  identity                  = var.identity
  derivatives_storage_class = var.derivatives_storage_class
  cors_allowed_origins      = var.cors_allowed_origins
  notifications             = var.notifications
  allowed_countries         = var.allowed_countries
  media_event_subscriptions = lookup(var.media_event_subscriptions, local.secondary, {})
  cdn                       = local.cdn_secondary
  home                      = module.primary.home
  alarm_actions             = lookup(var.alarm_actions, local.secondary, [])
  deletion_protection       = var.deletion_protection
  force_destroy             = var.force_destroy
  restrict_dlq_sources      = var.restrict_dlq_sources

  tags = var.tags
}

# The second region's private path to the primary.
module "peering" {
  source = "./modules/peering"
  count  = local.second_region ? 1 : 0
  providers = {
    aws      = aws.secondary
    aws.home = aws
  }

  name            = "${var.name_prefix}-${local.region_codes[local.secondary]}-to-home"
  vpc_id          = module.secondary[0].vpc_id
  vpc_cidr_block  = module.secondary[0].vpc_cidr_block
  route_table_ids = module.secondary[0].private_route_table_ids
  home            = module.primary.peering_home


  tags = var.tags
}

################################################################################
# Global layer: a distribution per region's derivatives, latency records for the APIs
################################################################################

module "cdn_primary" {
  source = "./modules/cdn"
  providers = {
    aws = aws.global
  }

  name                               = "${var.name_prefix}-${local.region_codes[local.primary]}-media"
  origin_bucket_name                 = module.primary.derivatives_bucket_id
  origin_bucket_regional_domain_name = module.primary.derivatives_bucket_regional_domain_name
  signing_public_key_pem             = try(var.cdn_signing.public_key_pem, null)
  acm_certificate_arn                = try(var.cdn_aliases[local.primary].acm_certificate_arn, null)
  aliases                            = try(var.cdn_aliases[local.primary].aliases, [])
  price_class                        = var.cdn_price_class
  geo_allowed_countries              = var.allowed_countries
  api_origin                         = local.api_origins[local.primary]
  web_app = var.web_app == null ? null : {
    bucket_regional_domain_name = module.web_app[0].bucket_regional_domain_name
    response_headers_policy_id  = module.web_app[0].response_headers_policy_id
  }

  tags = var.tags
}

# The platform's web app, on the home region's distribution under /app/: it signs users in at
# the home pool and calls the home API on its own origin. Media of the second region plays from
# that region's distribution, which its policy names.
module "web_app" {
  source = "./modules/web-app"
  count  = var.web_app == null ? 0 : 1

  name       = "${var.name_prefix}-${local.region_codes[local.primary]}"
  source_dir = coalesce(var.web_app.source_dir, "${path.module}/build/web")
  config = {
    api_url             = coalesce(module.cdn_primary.api_base_url, module.primary.api_url)
    user_pool_id        = module.primary.user_pool_id
    user_pool_client_id = module.primary.user_pool_client_id
    cdn_base_url        = "https://${module.cdn_primary.domain_name}"
  }
  region           = local.primary
  cognito_endpoint = var.web_app.aws_endpoint
  # Without an API origin on the distribution the app calls the API at its own (HTTPS) name.
  api_origins = local.api_origins[local.primary] == null ? [module.primary.api_url] : []
  # Presigned uploads go to the bucket's regional virtual-hosted name, or the emulator.
  upload_origins    = [coalesce(var.web_app.aws_endpoint, "https://${module.primary.originals_bucket_id}.s3.${local.primary}.amazonaws.com")]
  media_origins     = [for cdn in module.cdn_secondary : "https://${cdn.domain_name}"]
  distribution_arns = [module.cdn_primary.distribution_arn]

  tags = var.tags
}

module "cdn_secondary" {
  source = "./modules/cdn"
  count  = local.second_region ? 1 : 0
  providers = {
    aws = aws.global
  }

  name                               = "${var.name_prefix}-${local.region_codes[local.secondary]}-media"
  origin_bucket_name                 = module.secondary[0].derivatives_bucket_id
  origin_bucket_regional_domain_name = module.secondary[0].derivatives_bucket_regional_domain_name
  signing_public_key_pem             = try(var.cdn_signing.public_key_pem, null)
  acm_certificate_arn                = try(var.cdn_aliases[local.secondary].acm_certificate_arn, null)
  aliases                            = try(var.cdn_aliases[local.secondary].aliases, [])
  price_class                        = var.cdn_price_class
  geo_allowed_countries              = var.allowed_countries
  api_origin                         = local.api_origins[local.secondary]

  tags = var.tags
}

locals {
  # Handed back to each region: where its media is served from, and which distribution may
  # read its derivatives.
  cdn_primary = {
    base_url          = "https://${module.cdn_primary.domain_name}"
    distribution_arns = [module.cdn_primary.distribution_arn]
    api_base_url      = module.cdn_primary.api_base_url
    signing = var.cdn_signing == null ? null : {
      key_pair_id            = module.cdn_primary.public_key_id
      private_key_secret_arn = var.cdn_signing.private_key_secret_arns[local.primary]
    }
  }
  cdn_secondary = local.second_region ? {
    base_url          = "https://${module.cdn_secondary[0].domain_name}"
    distribution_arns = [module.cdn_secondary[0].distribution_arn]
    api_base_url      = module.cdn_secondary[0].api_base_url
    signing = var.cdn_signing == null ? null : {
      key_pair_id            = module.cdn_secondary[0].public_key_id
      private_key_secret_arn = var.cdn_signing.private_key_secret_arns[local.secondary]
    }
  } : null

  # Each region's API behind its distribution, for the public reads cached at the edge.
  # CloudFront checks an HTTPS origin's certificate against the origin's name, which a load
  # balancer's DNS name is not covered by: with a certificate the origin is the latency
  # record's name (which needs var.dns); without one the load balancer's plain HTTP.
  api_origins = { for r, api in local.api_endpoints : r => (
    lookup(var.certificate_arns, r, null) == null ? { domain_name = api.dns_name, protocol = "http-only" } :
    var.dns == null ? null : { domain_name = one(module.latency_dns[*].fqdn), protocol = "https-only" }
  ) }

  # The APIs the latency records point at, by region.
  api_endpoints = merge(
    { (local.primary) = { dns_name = module.primary.alb_dns_name, zone_id = module.primary.alb_zone_id } },
    local.second_region ? { (local.secondary) = { dns_name = module.secondary[0].alb_dns_name, zone_id = module.secondary[0].alb_zone_id } } : {},
  )
}

module "latency_dns" {
  source = "./modules/latency-dns"
  count  = var.dns == null ? 0 : 1
  providers = {
    aws = aws.global
  }

  zone_id       = var.dns.zone_id
  zone_name     = var.dns.zone_name
  record_name   = var.dns.record_name
  force_destroy = var.force_destroy
  endpoints = { for r, api in local.api_endpoints : r => {
    alb_dns_name = api.dns_name
    alb_zone_id  = api.zone_id
    health_check = var.dns.health_checks ? { protocol = lookup(var.certificate_arns, r, null) == null ? "HTTP" : "HTTPS", port = lookup(var.certificate_arns, r, null) == null ? 80 : 443, path = "/readyz" } : null
  } }

  tags = var.tags
}
