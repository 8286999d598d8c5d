# Everything in one region: the region stack (network, upload API fleet behind its load
# balancer, buckets, transcode queue and function, media events, database, user pool), its
# CloudFront distribution, latency records for the API, and a queue subscribed to the media
# events, as an application that reacts to ready and failed media would have.

module "region" {
  source = "../../modules/region-stack"

  name             = var.name_prefix
  certificate_arn  = var.certificate_arn
  allow_plain_http = var.certificate_arn == null
  upload_api       = { zip_path = var.upload_api_zip_path, capacity = { min = 1, max = 3, desired = 1 }, multipart_threshold_bytes = var.multipart_threshold_bytes }
  transcoder = {
    zip_path            = var.transcoder_zip_path
    timeout             = var.transcoder_timeout
    maximum_concurrency = var.transcoder_maximum_concurrency
    chunking            = var.chunking
    reconcile           = var.reconcile
  }
  worker_fleet         = var.worker_fleet
  identity             = { allow_password_auth = true }
  force_destroy        = var.force_destroy
  restrict_dlq_sources = var.restrict_dlq_sources
  notifications        = { email_from = var.notification_email_from }
  allowed_countries    = var.allowed_countries
  # The web app uploads from its page on the distribution straight to the originals bucket.
  cors_allowed_origins = var.web_app == null ? [] : ["https://${module.cdn.domain_name}"]
  cdn = {
    base_url          = "https://${module.cdn.domain_name}"
    distribution_arns = [module.cdn.distribution_arn]
    api_base_url      = module.cdn.api_base_url
    signing = var.cdn_signing == null ? null : {
      key_pair_id            = module.cdn.public_key_id
      private_key_secret_arn = var.cdn_signing.private_key_secret_arn
    }
  }
  media_event_subscriptions = {
    app = { protocol = "sqs", endpoint = module.media_events_inbox.queue_arn, raw_message_delivery = true }
  }

  tags = local.tags
}

module "cdn" {
  source = "../../modules/cdn"

  name                               = "${var.name_prefix}-media"
  origin_bucket_name                 = module.region.derivatives_bucket_id
  origin_bucket_regional_domain_name = module.region.derivatives_bucket_regional_domain_name
  signing_public_key_pem             = try(var.cdn_signing.public_key_pem, null)
  api_origin                         = local.api_origin
  geo_allowed_countries              = var.allowed_countries
  web_app = var.web_app == null ? null : {
    bucket_regional_domain_name = module.web_app[0].bucket_regional_domain_name
    response_headers_policy_id  = module.web_app[0].response_headers_policy_id
  }

  tags = local.tags
}

# The platform's web app on the distribution, under /app/. It calls the API on its own origin
# (the distribution sends every /v1/* request to the API), so it needs an API origin: without a
# certificate the load balancer's plain HTTP, with one the API's record (zone_name).
module "web_app" {
  source = "../../modules/web-app"
  count  = var.web_app == null ? 0 : 1

  name       = var.name_prefix
  source_dir = coalesce(var.web_app.source_dir, "${path.module}/../../build/web")
  config = {
    api_url             = coalesce(module.cdn.api_base_url, module.region.api_url)
    user_pool_id        = module.region.user_pool_id
    user_pool_client_id = module.region.user_pool_client_id
    cdn_base_url        = "https://${module.cdn.domain_name}"
  }
  region           = var.region
  cognito_endpoint = var.web_app.aws_endpoint
  # Without an API origin on the distribution the app calls the API at its own (HTTPS) name.
  api_origins = local.api_origin == null ? [module.region.api_url] : []
  # Presigned uploads go to the bucket's regional virtual-hosted name, or the emulator.
  upload_origins    = [coalesce(var.web_app.aws_endpoint, "https://${module.region.originals_bucket_id}.s3.${var.region}.amazonaws.com")]
  distribution_arns = [module.cdn.distribution_arn]
  force_destroy     = true

  tags = local.tags
}

module "latency_dns" {
  source = "../../modules/latency-dns"
  count  = var.zone_name == null ? 0 : 1

  zone_name     = var.zone_name
  record_name   = "api"
  force_destroy = var.force_destroy
  endpoints = {
    (var.region) = {
      alb_dns_name = module.region.alb_dns_name
      alb_zone_id  = module.region.alb_zone_id
    }
  }

  tags = local.tags
}

module "media_events_inbox" {
  source = "../../modules/queue"

  name                      = "${var.name_prefix}-media-inbox"
  consumer_timeout_seconds  = 30
  allowed_source_topic_arns = [module.region.media_events_topic_arn]
  restrict_dlq_sources      = var.restrict_dlq_sources

  tags = local.tags
}

locals {
  # The API's public reads, cached at the edge. CloudFront checks an HTTPS origin's certificate
  # against the origin's name, which the certificate of the API's own name does not cover for
  # the load balancer's DNS name: with a certificate the origin is the API's record (so it needs
  # zone_name); without one the load balancer serves plain HTTP, and so does the origin.
  api_origin = (
    var.certificate_arn == null ? { domain_name = module.region.alb_dns_name, protocol = "http-only" } :
    var.zone_name == null ? null : { domain_name = "api.${trimsuffix(var.zone_name, ".")}", protocol = "https-only" }
  )

  tags = {
    project = "mediastack"
    example = "complete"
  }
}
