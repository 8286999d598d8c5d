# A CloudFront distribution in front of the private derivatives bucket: reads go through Origin
# Access Control (the bucket stays private), viewers only ever get HTTPS, and each kind of media
# object is cached as long as it can be: playlists briefly, immutable segments and renditions long.
# Optionally the upload API is a second origin for its public reads (the feed, media views),
# cached as long as the API's Cache-Control allows and never for a token holder; and the web
# app's bucket a third, under /app/, with its own response headers policy.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  origin_id = "derivatives"
  signed    = var.signing_public_key_pem != null

  # Ordered: CloudFront takes the first pattern that matches (its * also matches "/").
  behaviours = [
    { path_pattern = "*.m3u8", ttl = var.cache_ttls.playlists },
    { path_pattern = "*.mpd", ttl = var.cache_ttls.playlists },
    { path_pattern = "*.ts", ttl = var.cache_ttls.segments },
    { path_pattern = "*.m4s", ttl = var.cache_ttls.segments },
    { path_pattern = "*.mp4", ttl = var.cache_ttls.renditions },
    { path_pattern = "*.jpg", ttl = var.cache_ttls.posters },
  ]
  trusted_key_groups = local.signed ? [aws_cloudfront_key_group.this[0].id] : null

  api_origin_id = "upload-api"
  # Before the media behaviours: "/v1/media/*" must not fall to "*.jpg" and the like. With the
  # web app, the app calls the whole API on its own origin: every method of /v1/*.
  api_paths   = var.api_origin == null ? [] : var.web_app == null ? ["/v1/feed", "/v1/media/*"] : ["/v1/*"]
  api_methods = var.web_app == null ? ["GET", "HEAD", "OPTIONS"] : ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]

  web_app_origin_id = "web-app"
  # Part of the cache key, as every forwarded header is with the legacy settings: a request
  # with a token is its own object (the API marks those answers private, no-store, so they are
  # never kept), and CORS answers differ by Origin and by what a preflight asks.
  api_forwarded_headers = ["Authorization", "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]

  # Built in AWS's documented form (arn:<partition>:cloudfront::<account>:distribution/<id>)
  # rather than read back: some emulators (moto 5) return it without the empty region field.
  distribution_arn = "arn:${data.aws_partition.current.partition}:cloudfront::${data.aws_caller_identity.current.account_id}:distribution/${aws_cloudfront_distribution.this.id}"
}

################################################################################
# Origin access
################################################################################

resource "aws_cloudfront_origin_access_control" "this" {
  name                              = var.name
  description                       = "CloudFront ${var.name} reads ${var.origin_bucket_name} with SigV4."
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

################################################################################
# Signed URLs (optional)
################################################################################

resource "aws_cloudfront_public_key" "this" {
  count = local.signed ? 1 : 0

  # A prefix, so that a new key can exist beside the old one while the key group switches.
  # No comment on this key or the key group: moto drops comments and implements neither
  # UpdatePublicKey nor UpdateKeyGroup, so every later plan would try an update it refuses.
  name_prefix = "${var.name}-"
  encoded_key = "${trimspace(var.signing_public_key_pem)}\n"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudfront_key_group" "this" {
  count = local.signed ? 1 : 0

  name  = "${var.name}-signing"
  items = [aws_cloudfront_public_key.this[0].id]
}

################################################################################
# Distribution
################################################################################

#tfsec:ignore:aws-cloudfront-enable-logging Standard logging needs a log bucket with ACLs enabled, which this module does not own; the logging input turns it on.
resource "aws_cloudfront_distribution" "this" {
  enabled         = true
  comment         = "${var.name}: media from ${var.origin_bucket_name}"
  aliases         = var.aliases
  price_class     = var.price_class
  http_version    = "http2and3"
  is_ipv6_enabled = true
  web_acl_id      = var.web_acl_id
  # No default_root_object: "/" is not a media object, so it gets the bucket's 403, not a file.

  origin {
    origin_id                = local.origin_id
    domain_name              = var.origin_bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.this.id
  }

  dynamic "origin" {
    for_each = var.web_app == null ? [] : [var.web_app]
    content {
      origin_id                = local.web_app_origin_id
      domain_name              = origin.value.bucket_regional_domain_name
      origin_access_control_id = aws_cloudfront_origin_access_control.this.id
    }
  }

  dynamic "origin" {
    for_each = var.api_origin == null ? [] : [var.api_origin]
    content {
      origin_id   = local.api_origin_id
      domain_name = origin.value.domain_name
      custom_origin_config {
        origin_protocol_policy = origin.value.protocol
        http_port              = origin.value.http_port
        https_port             = origin.value.https_port
        origin_ssl_protocols   = ["TLSv1.2"]
      }
    }
  }

  default_cache_behavior {
    target_origin_id       = local.origin_id
    viewer_protocol_policy = var.viewer_protocol_policy
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    # CloudFront only compresses text types (the playlists); segments and renditions pass as is.
    compress           = true
    trusted_key_groups = local.trusted_key_groups
    # Attached by ID rather than created: the default is an AWS-managed policy, and moto (the
    # local target) has no response headers policy API at all.
    response_headers_policy_id = var.response_headers_policy_id
    min_ttl                    = var.cache_ttls.default.min
    default_ttl                = var.cache_ttls.default.default
    max_ttl                    = var.cache_ttls.default.max

    # Legacy cache settings (TTLs above, forwarded_values) rather than a cache policy: every
    # CloudFront API accepts them, and moto has no cache policy API. Media URLs carry no
    # meaningful query string or cookie.
    forwarded_values {
      query_string = false
      cookies {
        forward = "none"
      }
    }
  }

  # The app's files, never behind signatures: the page must load before it holds cookies. Its
  # index and config are revalidated on every view, its hashed assets kept (they say so).
  dynamic "ordered_cache_behavior" {
    for_each = var.web_app == null ? [] : [var.web_app]
    content {
      path_pattern               = "/app/*"
      target_origin_id           = local.web_app_origin_id
      viewer_protocol_policy     = "redirect-to-https"
      allowed_methods            = ["GET", "HEAD"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      response_headers_policy_id = ordered_cache_behavior.value.response_headers_policy_id
      min_ttl                    = 0
      default_ttl                = 300
      max_ttl                    = 31536000

      forwarded_values {
        query_string = false
        cookies {
          forward = "none"
        }
      }
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.api_paths
    content {
      path_pattern           = ordered_cache_behavior.value
      target_origin_id       = local.api_origin_id
      viewer_protocol_policy = var.viewer_protocol_policy
      # Reads and CORS preflights; writes only for the web app (else they go to the API's own
      # address). Only GET and HEAD are ever cached.
      allowed_methods            = local.api_methods
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      response_headers_policy_id = var.api_origin.response_headers_policy_id
      # Nothing is kept that the API does not mark cacheable, and nothing longer than max_ttl.
      min_ttl     = 0
      default_ttl = 0
      max_ttl     = var.api_origin.max_ttl

      forwarded_values {
        query_string = true # limit and cursor
        headers      = local.api_forwarded_headers
        cookies {
          forward = "none"
        }
      }
    }
  }

  dynamic "ordered_cache_behavior" {
    for_each = local.behaviours
    content {
      path_pattern               = ordered_cache_behavior.value.path_pattern
      target_origin_id           = local.origin_id
      viewer_protocol_policy     = var.viewer_protocol_policy
      allowed_methods            = ["GET", "HEAD"]
      cached_methods             = ["GET", "HEAD"]
      compress                   = true
      trusted_key_groups         = local.trusted_key_groups
      response_headers_policy_id = var.response_headers_policy_id
      min_ttl                    = ordered_cache_behavior.value.ttl.min
      default_ttl                = ordered_cache_behavior.value.ttl.default
      max_ttl                    = ordered_cache_behavior.value.ttl.max

      forwarded_values {
        query_string = false
        cookies {
          forward = "none"
        }
      }
    }
  }

  restrictions {
    geo_restriction {
      restriction_type = length(var.geo_allowed_countries) > 0 ? "whitelist" : "none"
      locations        = var.geo_allowed_countries
    }
  }

  # With the default *.cloudfront.net certificate AWS fixes the TLS floor itself (TLSv1) whatever
  # is asked, so the floor is only set with a certificate of our own.
  viewer_certificate {
    cloudfront_default_certificate = var.acm_certificate_arn == null
    acm_certificate_arn            = var.acm_certificate_arn
    ssl_support_method             = var.acm_certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.acm_certificate_arn == null ? null : "TLSv1.2_2021"
  }

  dynamic "logging_config" {
    for_each = var.logging == null ? [] : [var.logging]
    content {
      bucket          = logging_config.value.bucket
      prefix          = logging_config.value.prefix
      include_cookies = logging_config.value.include_cookies
    }
  }

  tags = var.tags
}

################################################################################
# Bucket policy statement for the origin
################################################################################

# Only this distribution may read the bucket's objects; the caller merges this into the bucket
# policy (media-buckets builds the same statement from cdn_distribution_arns).
data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "AllowCloudFrontOriginAccessControl"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${var.origin_bucket_name}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [local.distribution_arn]
    }
  }
}
