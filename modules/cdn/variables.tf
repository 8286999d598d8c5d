variable "name" {
  description = "Name of the distribution's resources (origin access control, signing key and key group) and its comment. 3 to 40 letters, digits, hyphens and underscores, starting with a letter."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_-]{1,38}[A-Za-z0-9]$", var.name))
    error_message = "name must be 3 to 40 letters, digits, hyphens and underscores, starting with a letter and ending with a letter or digit."
  }
}

variable "origin_bucket_name" {
  description = "Name of the S3 bucket CloudFront reads from (the derivatives bucket). Used in bucket_policy_json."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.origin_bucket_name)) && !strcontains(var.origin_bucket_name, "..")
    error_message = "origin_bucket_name must be a valid S3 bucket name: 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit."
  }
}

variable "origin_bucket_regional_domain_name" {
  description = "Regional domain name of the origin bucket, e.g. media-derivatives.s3.us-east-1.amazonaws.com (media-buckets' derivatives_bucket_regional_domain_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\.s3(\\.[a-z0-9-]+)?\\.amazonaws\\.com(\\.cn)?$", var.origin_bucket_regional_domain_name))
    error_message = "origin_bucket_regional_domain_name must be an S3 bucket domain name like <bucket>.s3.<region>.amazonaws.com."
  }

  # The policy in bucket_policy_json names origin_bucket_name: both must be the same bucket.
  validation {
    condition     = startswith(var.origin_bucket_regional_domain_name, "${var.origin_bucket_name}.s3.")
    error_message = "origin_bucket_regional_domain_name must be the domain of origin_bucket_name (<origin_bucket_name>.s3.<region>.amazonaws.com)."
  }
}

variable "viewer_protocol_policy" {
  description = "What viewers on plain HTTP get: redirect-to-https (default) or https-only. allow-all is not offered: media is only ever served over TLS."
  type        = string
  default     = "redirect-to-https"

  validation {
    condition     = contains(["redirect-to-https", "https-only"], var.viewer_protocol_policy)
    error_message = "viewer_protocol_policy must be redirect-to-https or https-only (allow-all is refused)."
  }
}

variable "acm_certificate_arn" {
  description = "ARN of an ACM certificate in us-east-1 for the aliases; served with SNI and a TLSv1.2_2021 floor. Null uses the default *.cloudfront.net certificate, whose TLS floor AWS sets (TLSv1) and cannot be raised."
  type        = string
  default     = null

  validation {
    condition     = var.acm_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]{36}$", var.acm_certificate_arn))
    error_message = "acm_certificate_arn must be an ACM certificate ARN in us-east-1 (arn:aws:acm:us-east-1:<account>:certificate/<uuid>), the only region CloudFront reads certificates from, or null."
  }
}

variable "aliases" {
  description = "Extra domain names (CNAMEs) the distribution answers for, e.g. [\"media.example.com\"]. They need acm_certificate_arn covering them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.aliases : can(regex("^(\\*\\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", a)) && length(a) <= 253])
    error_message = "aliases must be lowercase domain names like media.example.com (a leading *. wildcard is allowed)."
  }

  validation {
    condition     = length(var.aliases) == 0 || var.acm_certificate_arn != null
    error_message = "aliases require acm_certificate_arn: the default CloudFront certificate only covers *.cloudfront.net."
  }
}

variable "cache_ttls" {
  description = "Cache lifetimes in seconds (min, default, max) per kind of object: HLS playlists and DASH manifests (*.m3u8, *.mpd) change while a stream is live and stay short; segments (*.ts, *.m4s) and MP4 renditions (*.mp4) never change once written; posters (*.jpg) may be regenerated; default covers every other path. The origin's Cache-Control wins within [min, max]."
  type = object({
    playlists  = optional(object({ min = optional(number, 0), default = optional(number, 5), max = optional(number, 10) }), {})
    segments   = optional(object({ min = optional(number, 0), default = optional(number, 86400), max = optional(number, 31536000) }), {})
    renditions = optional(object({ min = optional(number, 0), default = optional(number, 86400), max = optional(number, 31536000) }), {})
    posters    = optional(object({ min = optional(number, 0), default = optional(number, 3600), max = optional(number, 86400) }), {})
    default    = optional(object({ min = optional(number, 0), default = optional(number, 3600), max = optional(number, 86400) }), {})
  })
  default = {}

  validation {
    condition = alltrue([
      for t in [var.cache_ttls.playlists, var.cache_ttls.segments, var.cache_ttls.renditions, var.cache_ttls.posters, var.cache_ttls.default] :
      floor(t.min) == t.min && floor(t.default) == t.default && floor(t.max) == t.max && 0 <= t.min && t.min <= t.default && t.default <= t.max && t.max <= 31536000
    ])
    error_message = "cache_ttls must be whole seconds with 0 <= min <= default <= max <= 31536000 (one year) for each kind."
  }
}

variable "signing_public_key_pem" {
  description = "PEM of an RSA 2048 public key (-----BEGIN PUBLIC KEY-----). When given, every path needs a URL or cookie signed with the matching private key (a public key and a key group are created and trusted by every behaviour). Null serves without signatures."
  type        = string
  default     = null

  validation {
    # The shape only (markers, base64 body of whole 4-character groups): Terraform cannot parse
    # DER, so CloudFront itself rejects a key that is not RSA.
    condition = var.signing_public_key_pem == null ? true : (
      can(regex("^-----BEGIN PUBLIC KEY-----\\r?\\n[A-Za-z0-9+/=\\r\\n]+-----END PUBLIC KEY-----$", trimspace(var.signing_public_key_pem))) &&
      length(replace(trimspace(var.signing_public_key_pem), "/-----[A-Z ]+-----|\\s/", "")) % 4 == 0
    )
    error_message = "signing_public_key_pem must be a PEM public key: -----BEGIN PUBLIC KEY-----, base64 lines, -----END PUBLIC KEY----- (not a private key or certificate), or null."
  }
}

variable "geo_allowed_countries" {
  description = "ISO 3166-1 alpha-2 codes of the only countries served, e.g. [\"US\", \"CA\"] (licensing). Empty serves everywhere."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.geo_allowed_countries : can(regex("^[A-Z]{2}$", c))])
    error_message = "geo_allowed_countries must hold ISO 3166-1 alpha-2 country codes in upper case, like US or DE."
  }
}

variable "price_class" {
  description = "Edge locations used: PriceClass_100 (North America and Europe, cheapest, the default), PriceClass_200 (adds most of Asia, Middle East and Africa) or PriceClass_All."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "logging" {
  description = "Standard (access) logging into an S3 bucket with ACLs enabled, given by its domain name (e.g. media-logs.s3.amazonaws.com). Null turns it off; the log bucket costs storage."
  type = object({
    bucket          = string
    prefix          = optional(string, "cloudfront/")
    include_cookies = optional(bool, false)
  })
  default = null

  validation {
    condition     = var.logging == null ? true : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\.s3(\\.[a-z0-9-]+)?\\.amazonaws\\.com(\\.cn)?$", var.logging.bucket))
    error_message = "logging.bucket must be an S3 bucket domain name like media-logs.s3.amazonaws.com."
  }
}

variable "web_acl_id" {
  description = "AWS WAF web ACL to attach: a WAFv2 web ACL ARN in us-east-1 (scope CLOUDFRONT). Null attaches none; WAF costs per ACL, rule and request, so it is the caller's choice."
  type        = string
  default     = null

  validation {
    condition     = var.web_acl_id == null || can(regex("^arn:aws[a-z-]*:wafv2:us-east-1:[0-9]{12}:global/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}$", var.web_acl_id))
    error_message = "web_acl_id must be a WAFv2 web ACL ARN of scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<uuid>), or null."
  }
}

variable "response_headers_policy_id" {
  description = "Response headers policy attached to every behaviour. The default is AWS's managed SecurityHeadersPolicy (67f7725c-6f97-4210-82d7-5512b31e9d03): Strict-Transport-Security max-age=31536000, X-Content-Type-Options nosniff, X-Frame-Options SAMEORIGIN, Referrer-Policy strict-origin-when-cross-origin, X-XSS-Protection. Players on another origin need CORS too: use CORS-and-SecurityHeadersPolicy (e61eb60c-9c35-4d20-a928-2b84e02af89c) or your own policy's ID. Null attaches none."
  type        = string
  default     = "67f7725c-6f97-4210-82d7-5512b31e9d03"

  validation {
    condition     = var.response_headers_policy_id == null || can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.response_headers_policy_id))
    error_message = "response_headers_policy_id must be a response headers policy ID (a lowercase UUID such as 67f7725c-6f97-4210-82d7-5512b31e9d03), or null."
  }
}

variable "api_origin" {
  description = <<-EOT
    The upload API as a second origin, for its public reads: GET /v1/feed and GET /v1/media/* go to it, with the query string and the Authorization, Origin and CORS preflight headers forwarded (each part of the cache key). Only what the API marks cacheable is kept (its public views say public, max-age; anything for a token holder says private, no-store), at most max_ttl seconds. Writes are refused at the edge: clients send them to the API itself.
    - domain_name: the API's load balancer DNS name, or a name its certificate covers (CloudFront checks the origin's certificate against it).
    - protocol: https-only (default), or http-only for a load balancer without a certificate.
    - http_port, https_port: the load balancer's listener ports (80, 443).
    - max_ttl: the longest a public answer is kept (60 s), whatever the API says.
    - response_headers_policy_id: attached to the API's behaviours; AWS's managed SecurityHeadersPolicy by default (not a CORS policy: the API answers CORS itself).
    Null (the default) serves media only.
  EOT
  type = object({
    domain_name                = string
    protocol                   = optional(string, "https-only")
    http_port                  = optional(number, 80)
    https_port                 = optional(number, 443)
    max_ttl                    = optional(number, 60)
    response_headers_policy_id = optional(string, "67f7725c-6f97-4210-82d7-5512b31e9d03")
  })
  default = null

  validation {
    condition     = var.api_origin == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", lower(var.api_origin.domain_name)))
    error_message = "api_origin.domain_name must be a domain name such as mediastack-api-123.us-east-1.elb.amazonaws.com (no scheme, port or path)."
  }
  validation {
    condition     = var.api_origin == null || contains(["https-only", "http-only"], try(var.api_origin.protocol, ""))
    error_message = "api_origin.protocol must be https-only or http-only (match-viewer would let a plain HTTP viewer decide how tokens travel to the origin)."
  }
  validation {
    condition = var.api_origin == null || alltrue([
      for p in [try(var.api_origin.http_port, 0), try(var.api_origin.https_port, 0)] : floor(p) == p && (p == 80 || p == 443 || (p >= 1024 && p <= 65535))
    ])
    error_message = "api_origin.http_port and https_port must be 80, 443 or 1024 to 65535, the ports CloudFront connects to."
  }
  validation {
    condition     = var.api_origin == null || (floor(try(var.api_origin.max_ttl, -1)) == try(var.api_origin.max_ttl, -1) && try(var.api_origin.max_ttl, -1) >= 0 && try(var.api_origin.max_ttl, -1) <= 3600)
    error_message = "api_origin.max_ttl must be whole seconds from 0 (never cache the API) to 3600."
  }
  validation {
    condition     = var.api_origin == null || try(var.api_origin.response_headers_policy_id, null) == null || can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.api_origin.response_headers_policy_id))
    error_message = "api_origin.response_headers_policy_id must be a response headers policy ID (a lowercase UUID), or null."
  }
}

variable "web_app" {
  description = <<-EOT
    The platform's web app (modules/web-app), served under /app/ from its bucket through the origin access control, with its response headers policy (the app's Content-Security-Policy, HSTS, nosniff). It never requires signed URLs: the page loads before it holds the signed cookies it sets for media.
    With api_origin as well, every /v1/* request, writes included, goes to the API through the edge (only GET and HEAD are ever cached, and only what the API marks public): the app calls the API on its own origin, over the edge's TLS, whether or not the load balancer has a certificate.
    - bucket_regional_domain_name: the app bucket's regional domain name.
    - response_headers_policy_id: the app's policy (modules/web-app's output).
    Null (the default) serves no app.
  EOT
  type = object({
    bucket_regional_domain_name = string
    response_headers_policy_id  = string
  })
  default = null

  validation {
    condition     = var.web_app == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\\.s3(\\.[a-z0-9-]+)?\\.amazonaws\\.com(\\.cn)?$", try(var.web_app.bucket_regional_domain_name, "")))
    error_message = "web_app.bucket_regional_domain_name must be an S3 bucket's regional domain name, such as media-web-app.s3.us-east-1.amazonaws.com."
  }
}

variable "tags" {
  description = "Tags applied to every taggable resource (the distribution)."
  type        = map(string)
  default     = {}
}
