mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_resource "aws_cloudfront_distribution" {
    defaults = {
      id  = "E2ABCDEF123456"
      arn = "arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456"
    }
  }
}

variables {
  name                               = "media-cdn"
  origin_bucket_name                 = "media-derivatives"
  origin_bucket_regional_domain_name = "media-derivatives.s3.us-east-1.amazonaws.com"
}

run "defaults_are_secure" {
  command = plan

  assert {
    condition = (aws_cloudfront_origin_access_control.this.origin_access_control_origin_type == "s3" &&
      aws_cloudfront_origin_access_control.this.signing_behavior == "always" &&
    aws_cloudfront_origin_access_control.this.signing_protocol == "sigv4")
    error_message = "the origin must be read through an S3 origin access control that always signs with SigV4"
  }
  assert {
    condition = (one(aws_cloudfront_distribution.this.origin).domain_name == "media-derivatives.s3.us-east-1.amazonaws.com" &&
    one(aws_cloudfront_distribution.this.origin).origin_id == "derivatives")
    error_message = "the origin must be the given bucket"
  }
  assert {
    condition = (one(aws_cloudfront_distribution.this.default_cache_behavior).viewer_protocol_policy == "redirect-to-https" &&
    alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.viewer_protocol_policy == "redirect-to-https"]))
    error_message = "every behaviour redirects HTTP to HTTPS by default"
  }
  assert {
    condition = (one(aws_cloudfront_distribution.this.viewer_certificate).cloudfront_default_certificate &&
    one(aws_cloudfront_distribution.this.viewer_certificate).acm_certificate_arn == null)
    error_message = "without a certificate the default CloudFront certificate is used"
  }
  assert {
    condition     = [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.path_pattern] == ["*.m3u8", "*.mpd", "*.ts", "*.m4s", "*.mp4", "*.jpg"]
    error_message = "playlists, segments, renditions and posters each get a behaviour, in that order"
  }
  assert {
    condition = (aws_cloudfront_distribution.this.ordered_cache_behavior[0].default_ttl == 5 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[0].max_ttl == 10 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[1].default_ttl == 5 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[2].default_ttl == 86400 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[3].max_ttl == 31536000 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[4].default_ttl == 86400 &&
    aws_cloudfront_distribution.this.ordered_cache_behavior[5].default_ttl == 3600)
    error_message = "playlists are cached 5 s by default, segments and renditions a day (up to a year), posters an hour"
  }
  assert {
    condition = (one(aws_cloudfront_distribution.this.default_cache_behavior).compress &&
      alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.compress && !one(b.forwarded_values).query_string && one(one(b.forwarded_values).cookies).forward == "none"]) &&
    alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.allowed_methods == toset(["GET", "HEAD"])]))
    error_message = "behaviours compress, forward no query string or cookie and allow only GET and HEAD"
  }
  assert {
    condition     = length(aws_cloudfront_public_key.this) == 0 && length(aws_cloudfront_key_group.this) == 0 && output.key_group_id == null && output.public_key_id == null
    error_message = "URLs are unsigned unless a public key is given"
  }
  assert {
    condition = (one(aws_cloudfront_distribution.this.default_cache_behavior).response_headers_policy_id == "67f7725c-6f97-4210-82d7-5512b31e9d03" &&
    alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.response_headers_policy_id == "67f7725c-6f97-4210-82d7-5512b31e9d03"]))
    error_message = "every behaviour adds AWS's managed security headers (SecurityHeadersPolicy: HSTS, nosniff, frame options) by default"
  }
  assert {
    condition     = aws_cloudfront_distribution.this.default_root_object == null
    error_message = "no default root object"
  }
  assert {
    condition     = one(one(aws_cloudfront_distribution.this.restrictions).geo_restriction).restriction_type == "none"
    error_message = "no geo restriction by default"
  }
  assert {
    condition = (aws_cloudfront_distribution.this.price_class == "PriceClass_100" && aws_cloudfront_distribution.this.http_version == "http2and3" &&
    aws_cloudfront_distribution.this.is_ipv6_enabled && aws_cloudfront_distribution.this.web_acl_id == null)
    error_message = "defaults: PriceClass_100, HTTP/2 and HTTP/3, IPv6, no WAF"
  }
  assert {
    condition     = length(aws_cloudfront_distribution.this.logging_config) == 0 && length(aws_cloudfront_distribution.this.aliases) == 0
    error_message = "no logging and no aliases unless asked"
  }
}

run "bucket_policy_names_this_distribution" {
  # apply (against the mock) so that the distribution's ARN is known
  command = apply

  assert {
    condition = (data.aws_iam_policy_document.bucket.statement[0].actions == toset(["s3:GetObject"]) &&
      data.aws_iam_policy_document.bucket.statement[0].resources == toset(["arn:aws:s3:::media-derivatives/*"]) &&
    one(data.aws_iam_policy_document.bucket.statement[0].principals).identifiers == toset(["cloudfront.amazonaws.com"]))
    error_message = "the policy lets the CloudFront service read the bucket's objects only"
  }
  assert {
    condition = (one(data.aws_iam_policy_document.bucket.statement[0].condition).variable == "AWS:SourceArn" &&
    toset(one(data.aws_iam_policy_document.bucket.statement[0].condition).values) == toset(["arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456"]))
    error_message = "the policy is limited to this distribution"
  }
  assert {
    condition     = length(one(aws_cloudfront_distribution.this.default_cache_behavior).trusted_key_groups) == 0
    error_message = "unsigned by default: no behaviour trusts a key group"
  }
  assert {
    condition     = output.distribution_arn == "arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456"
    error_message = "the distribution ARN has AWS's form arn:aws:cloudfront::<account>:distribution/<id>"
  }
}

run "custom_certificate_and_aliases" {
  command = plan

  variables {
    acm_certificate_arn = "arn:aws:acm:us-east-1:111122223333:certificate/12345678-1234-1234-1234-123456789012"
    aliases             = ["media.example.com", "*.cdn.example.com"]
  }

  assert {
    condition = (one(aws_cloudfront_distribution.this.viewer_certificate).acm_certificate_arn == "arn:aws:acm:us-east-1:111122223333:certificate/12345678-1234-1234-1234-123456789012" &&
      !one(aws_cloudfront_distribution.this.viewer_certificate).cloudfront_default_certificate &&
      one(aws_cloudfront_distribution.this.viewer_certificate).ssl_support_method == "sni-only" &&
    one(aws_cloudfront_distribution.this.viewer_certificate).minimum_protocol_version == "TLSv1.2_2021")
    error_message = "a certificate is served with SNI and a TLSv1.2_2021 floor"
  }
  assert {
    condition     = aws_cloudfront_distribution.this.aliases == toset(["media.example.com", "*.cdn.example.com"])
    error_message = "aliases reach the distribution"
  }
}

run "https_only" {
  command = plan

  variables {
    viewer_protocol_policy = "https-only"
  }

  assert {
    condition = (one(aws_cloudfront_distribution.this.default_cache_behavior).viewer_protocol_policy == "https-only" &&
    alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.viewer_protocol_policy == "https-only"]))
    error_message = "https-only reaches every behaviour"
  }
}

run "signed_urls" {
  command = apply

  variables {
    signing_public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n-----END PUBLIC KEY-----\n"
  }

  assert {
    condition = (length(aws_cloudfront_public_key.this) == 1 && length(aws_cloudfront_key_group.this) == 1 &&
      aws_cloudfront_key_group.this[0].name == "media-cdn-signing" &&
      aws_cloudfront_key_group.this[0].items == toset([aws_cloudfront_public_key.this[0].id]) &&
    endswith(aws_cloudfront_public_key.this[0].encoded_key, "-----END PUBLIC KEY-----\n"))
    error_message = "a public key creates the key and a key group holding it"
  }
  assert {
    condition = (one(aws_cloudfront_distribution.this.default_cache_behavior).trusted_key_groups == tolist([aws_cloudfront_key_group.this[0].id]) &&
    alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.trusted_key_groups == tolist([aws_cloudfront_key_group.this[0].id])]))
    error_message = "every behaviour trusts the key group"
  }
  assert {
    condition     = output.key_group_id == aws_cloudfront_key_group.this[0].id && output.public_key_id == aws_cloudfront_public_key.this[0].id
    error_message = "the key group and public key IDs are output"
  }
}

run "geo_allow_list" {
  command = plan

  variables {
    geo_allowed_countries = ["US", "CA"]
  }

  assert {
    condition = (one(one(aws_cloudfront_distribution.this.restrictions).geo_restriction).restriction_type == "whitelist" &&
    one(one(aws_cloudfront_distribution.this.restrictions).geo_restriction).locations == toset(["US", "CA"]))
    error_message = "only the allowed countries are served"
  }
}

run "standard_logging" {
  command = plan

  variables {
    logging = { bucket = "media-logs.s3.amazonaws.com" }
  }

  assert {
    condition = (one(aws_cloudfront_distribution.this.logging_config).bucket == "media-logs.s3.amazonaws.com" &&
    one(aws_cloudfront_distribution.this.logging_config).prefix == "cloudfront/" && !one(aws_cloudfront_distribution.this.logging_config).include_cookies)
    error_message = "logging goes to the given bucket under cloudfront/, without cookies"
  }
}

run "price_class_waf_and_tags" {
  command = plan

  variables {
    price_class = "PriceClass_All"
    web_acl_id  = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/media/12345678-1234-1234-1234-123456789012"
    tags        = { team = "media" }
  }

  assert {
    condition = (aws_cloudfront_distribution.this.price_class == "PriceClass_All" &&
      aws_cloudfront_distribution.this.web_acl_id == "arn:aws:wafv2:us-east-1:111122223333:global/webacl/media/12345678-1234-1234-1234-123456789012" &&
    aws_cloudfront_distribution.this.tags["team"] == "media")
    error_message = "price class, web ACL and tags reach the distribution"
  }
}

run "custom_ttls" {
  command = plan

  variables {
    cache_ttls = { playlists = { default = 2, max = 4 } }
  }

  assert {
    condition = (aws_cloudfront_distribution.this.ordered_cache_behavior[0].min_ttl == 0 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[0].default_ttl == 2 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[0].max_ttl == 4 &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[1].default_ttl == 2 &&
    aws_cloudfront_distribution.this.ordered_cache_behavior[2].default_ttl == 86400)
    error_message = "cache_ttls override one kind and keep the others' defaults"
  }
}

run "cors_response_headers_policy" {
  command = plan

  variables {
    response_headers_policy_id = "e61eb60c-9c35-4d20-a928-2b84e02af89c"
  }

  assert {
    condition = (one(aws_cloudfront_distribution.this.default_cache_behavior).response_headers_policy_id == "e61eb60c-9c35-4d20-a928-2b84e02af89c" &&
    alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.response_headers_policy_id == "e61eb60c-9c35-4d20-a928-2b84e02af89c"]))
    error_message = "another response headers policy (here CORS-and-SecurityHeadersPolicy) reaches every behaviour"
  }
}

run "no_response_headers_policy" {
  command = plan

  variables {
    response_headers_policy_id = null
  }

  assert {
    condition = (one(aws_cloudfront_distribution.this.default_cache_behavior).response_headers_policy_id == null &&
    alltrue([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.response_headers_policy_id == null]))
    error_message = "response_headers_policy_id = null attaches no policy"
  }
}

run "api_origin_serves_public_reads" {
  command = plan
  variables {
    api_origin = { domain_name = "media-api-123456789.us-east-1.elb.amazonaws.com", protocol = "http-only", max_ttl = 30 }
  }

  assert {
    condition = anytrue([for o in aws_cloudfront_distribution.this.origin :
      o.domain_name == "media-api-123456789.us-east-1.elb.amazonaws.com" &&
      one(o.custom_origin_config).origin_protocol_policy == "http-only" && one(o.custom_origin_config).http_port == 80
      if o.origin_id == "upload-api"
    ])
    error_message = "the API's load balancer is a custom origin reached as asked"
  }
  assert {
    condition     = [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.path_pattern] == ["/v1/feed", "/v1/media/*", "*.m3u8", "*.mpd", "*.ts", "*.m4s", "*.mp4", "*.jpg"]
    error_message = "the API's paths come first, so that no media pattern takes them"
  }
  assert {
    condition = alltrue([for b in slice(aws_cloudfront_distribution.this.ordered_cache_behavior, 0, 2) :
      b.target_origin_id == "upload-api" && b.min_ttl == 0 && b.default_ttl == 0 && b.max_ttl == 30 &&
      toset(b.allowed_methods) == toset(["GET", "HEAD", "OPTIONS"]) && toset(b.cached_methods) == toset(["GET", "HEAD"]) &&
      one(b.forwarded_values).query_string && contains(one(b.forwarded_values).headers, "Authorization") &&
      contains(one(b.forwarded_values).headers, "Origin") && b.trusted_key_groups == null
    ])
    error_message = "the API's reads keep only what the API marks cacheable (no minimum, no default), at most max_ttl, keyed on the query and the token, and never need a signed URL"
  }
  assert {
    condition     = output.api_base_url == "https://${aws_cloudfront_distribution.this.domain_name}"
    error_message = "api_base_url is the distribution's own address"
  }
}

run "no_api_origin_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudfront_distribution.this.origin) == 1 && output.api_base_url == null
    error_message = "without api_origin only the media bucket is served"
  }
}

run "rejects_api_origin_with_scheme" {
  command = plan
  variables {
    api_origin = { domain_name = "https://media-api.example.com" }
  }
  expect_failures = [var.api_origin]
}

run "rejects_api_origin_match_viewer" {
  command = plan
  variables {
    api_origin = { domain_name = "api.example.com", protocol = "match-viewer" }
  }
  expect_failures = [var.api_origin]
}

run "rejects_api_origin_long_ttl" {
  command = plan
  variables {
    api_origin = { domain_name = "api.example.com", max_ttl = 86400 }
  }
  expect_failures = [var.api_origin]
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "media cdn!"
  }
  expect_failures = [var.name]
}

run "rejects_bad_origin_bucket_name" {
  command = plan
  variables {
    origin_bucket_name = "Media_Derivatives"
  }
  expect_failures = [var.origin_bucket_name]
}

run "rejects_bad_origin_domain" {
  command = plan
  variables {
    origin_bucket_regional_domain_name = "media-derivatives.example.com"
  }
  expect_failures = [var.origin_bucket_regional_domain_name]
}

run "rejects_origin_domain_of_another_bucket" {
  command = plan
  variables {
    origin_bucket_regional_domain_name = "media-originals.s3.us-east-1.amazonaws.com"
  }
  expect_failures = [var.origin_bucket_regional_domain_name]
}

run "rejects_allow_all" {
  command = plan
  variables {
    viewer_protocol_policy = "allow-all"
  }
  expect_failures = [var.viewer_protocol_policy]
}

run "rejects_certificate_outside_us_east_1" {
  command = plan
  variables {
    acm_certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/12345678-1234-1234-1234-123456789012"
  }
  expect_failures = [var.acm_certificate_arn]
}

run "rejects_bad_alias" {
  command = plan
  variables {
    acm_certificate_arn = "arn:aws:acm:us-east-1:111122223333:certificate/12345678-1234-1234-1234-123456789012"
    aliases             = ["https://media.example.com"]
  }
  expect_failures = [var.aliases]
}

run "rejects_aliases_without_certificate" {
  command = plan
  variables {
    aliases = ["media.example.com"]
  }
  expect_failures = [var.aliases]
}

run "rejects_bad_ttls" {
  command = plan
  variables {
    cache_ttls = { playlists = { min = 10, default = 5 } }
  }
  expect_failures = [var.cache_ttls]
}

run "rejects_private_key_as_public_key" {
  command = plan
  variables {
    signing_public_key_pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
  }
  expect_failures = [var.signing_public_key_pem]
}

run "rejects_truncated_public_key" {
  command = plan
  variables {
    signing_public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2M\n-----END PUBLIC KEY-----\n"
  }
  expect_failures = [var.signing_public_key_pem]
}

run "rejects_bad_country_code" {
  command = plan
  variables {
    geo_allowed_countries = ["USA"]
  }
  expect_failures = [var.geo_allowed_countries]
}

run "rejects_unknown_price_class" {
  command = plan
  variables {
    price_class = "PriceClass_300"
  }
  expect_failures = [var.price_class]
}

run "rejects_bad_logging_bucket" {
  command = plan
  variables {
    logging = { bucket = "media-logs" }
  }
  expect_failures = [var.logging]
}

run "rejects_bad_web_acl" {
  command = plan
  variables {
    web_acl_id = "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/media/12345678-1234-1234-1234-123456789012"
  }
  expect_failures = [var.web_acl_id]
}

run "rejects_bad_response_headers_policy_id" {
  command = plan
  variables {
    response_headers_policy_id = "Managed-SecurityHeadersPolicy"
  }
  expect_failures = [var.response_headers_policy_id]
}

run "web_app_has_its_own_behaviour_and_calls_the_api_on_its_origin" {
  command = plan

  variables {
    api_origin             = { domain_name = "mediastack-api-123.us-east-1.elb.amazonaws.com", protocol = "http-only" }
    signing_public_key_pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n-----END PUBLIC KEY-----\n"
    web_app = {
      bucket_regional_domain_name = "media-web-app.s3.us-east-1.amazonaws.com"
      response_headers_policy_id  = "0b4e5a9e-1111-4222-8333-444455556666"
    }
  }

  assert {
    condition     = [for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.path_pattern] == ["/app/*", "/v1/*", "*.m3u8", "*.mpd", "*.ts", "*.m4s", "*.mp4", "*.jpg"]
    error_message = "the app and the whole API come before the media behaviours"
  }
  assert {
    condition = (aws_cloudfront_distribution.this.ordered_cache_behavior[0].target_origin_id == "web-app" &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[0].response_headers_policy_id == "0b4e5a9e-1111-4222-8333-444455556666" &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[0].trusted_key_groups == null &&
      aws_cloudfront_distribution.this.ordered_cache_behavior[2].trusted_key_groups != null &&
    aws_cloudfront_distribution.this.ordered_cache_behavior[0].viewer_protocol_policy == "redirect-to-https")
    error_message = "the app is served from its bucket with its headers policy, HTTPS only, never behind signatures"
  }
  assert {
    condition = (toset(aws_cloudfront_distribution.this.ordered_cache_behavior[1].allowed_methods) == toset(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]) &&
    toset(aws_cloudfront_distribution.this.ordered_cache_behavior[1].cached_methods) == toset(["GET", "HEAD"]))
    error_message = "with the app, every method of the API goes through the edge, and only reads are cached"
  }
  assert {
    condition     = contains([for o in aws_cloudfront_distribution.this.origin : o.domain_name], "media-web-app.s3.us-east-1.amazonaws.com")
    error_message = "the app's bucket is an origin"
  }
}

run "web_app_bucket_must_be_a_bucket" {
  command = plan

  variables {
    web_app = {
      bucket_regional_domain_name = "https://media-web-app.s3.us-east-1.amazonaws.com/"
      response_headers_policy_id  = "0b4e5a9e-1111-4222-8333-444455556666"
    }
  }
  expect_failures = [var.web_app]
}
