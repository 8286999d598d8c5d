# The platform's web app: its built files and its deploy-time configuration in a private bucket
# that only the given distributions read (through origin access control), and the response
# headers policy its behaviour attaches: a Content-Security-Policy naming only the stack's own
# origins, HSTS, nosniff, no framing.

data "aws_partition" "current" {}

locals {
  # Every object sits under the path the distribution serves the app at (modules/cdn: /app/*).
  prefix = "app/"
  files  = fileset(var.source_dir, "**")
  config = merge(var.config, { region = var.region, cognito_endpoint = var.cognito_endpoint })

  content_types = {
    html = "text/html; charset=utf-8"
    js   = "text/javascript; charset=utf-8"
    css  = "text/css; charset=utf-8"
    json = "application/json"
    svg  = "image/svg+xml"
    png  = "image/png"
    ico  = "image/x-icon"
    txt  = "text/plain; charset=utf-8"
    map  = "application/json"
  }

  # The origins the page may call or load from besides its own, which serves the app, the API
  # through the edge and the region's media: Cognito, the uploads bucket, an API or media
  # elsewhere. Built from inputs that do not come from the distribution, which depends on it.
  cognito_origin = var.cognito_endpoint == null ? "https://cognito-idp.${var.region}.amazonaws.com" : regex("^https://[^/]+", var.cognito_endpoint)
  connect_src    = distinct(concat(["'self'", local.cognito_origin], var.upload_origins, var.api_origins, var.media_origins))
  media_src      = distinct(concat(["'self'", "blob:"], var.media_origins))
  content_security_policy = join("; ", [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src ${join(" ", concat(local.media_src, ["data:"]))}",
    "media-src ${join(" ", local.media_src)}",
    "connect-src ${join(" ", local.connect_src)}",
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ])
}

#tfsec:ignore:aws-s3-enable-versioning The app's files are the build's output, put again from the repository by every deploy: old versions would only add cost.
module "bucket" {
  source = "../private-bucket"

  name = "${var.name}-web-app"
  # The files are the build's output, put again from the repository by every deploy, one
  # PutObject each: no old versions or multipart uploads to keep house of.
  versioning       = false
  policy_documents = [data.aws_iam_policy_document.read.json]
  lifecycle_rules  = null
  force_destroy    = var.force_destroy
  tags             = merge(var.tags, { "mediastack:role" = "web-app" })
}

# Only the distributions may read the app, each through its origin access control.
data "aws_iam_policy_document" "read" {
  statement {
    sid       = "AllowCloudFrontOriginAccessControl"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${var.name}-web-app/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = var.distribution_arns
    }
  }
}

resource "aws_s3_object" "files" {
  for_each = local.files

  bucket       = module.bucket.id
  key          = "${local.prefix}${each.value}"
  source       = "${var.source_dir}/${each.value}"
  source_hash  = filemd5("${var.source_dir}/${each.value}")
  content_type = lookup(local.content_types, lower(reverse(split(".", each.value))[0]), "application/octet-stream")
  # Hashed file names under assets/ never change content; the rest is revalidated on each view.
  cache_control = startswith(each.value, "assets/") ? "public, max-age=31536000, immutable" : "no-cache"
}

# The page again under the folder's own key, so that https://<domain>/app/ serves it: S3's REST
# endpoint (what origin access control reads) has no index documents.
resource "aws_s3_object" "folder_index" {
  bucket        = module.bucket.id
  key           = local.prefix
  source        = "${var.source_dir}/index.html"
  source_hash   = filemd5("${var.source_dir}/index.html")
  content_type  = local.content_types.html
  cache_control = "no-cache"
}

# Written at deploy time, so the built files hold no stack's names.
resource "aws_s3_object" "config" {
  bucket        = module.bucket.id
  key           = "${local.prefix}config.json"
  content       = jsonencode(local.config)
  content_type  = local.content_types.json
  cache_control = "no-cache"
}

resource "aws_cloudfront_response_headers_policy" "this" {
  name    = "${var.name}-web-app"
  comment = "The ${var.name} web app: its own origins only, HTTPS only."

  security_headers_config {
    content_security_policy {
      content_security_policy = local.content_security_policy
      override                = true
    }
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
  }
}
