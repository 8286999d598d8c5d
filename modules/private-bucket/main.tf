# A private S3 bucket with everything a bucket of user data needs by default: ACLs off, public
# access blocked, encryption, versioning, a TLS-only policy and housekeeping lifecycle rules.

locals {
  # Built from the name rather than read from the bucket so that the policy is known at plan
  # time, where reviewers and the policy checks can read it.
  arn = "arn:${data.aws_partition.current.partition}:s3:::${var.name}"

  expire_noncurrent_days = var.lifecycle_rules == null ? 0 : var.lifecycle_rules.noncurrent_version_expiration_days
  abort_multipart_days   = var.lifecycle_rules == null ? 0 : var.lifecycle_rules.abort_incomplete_multipart_days
  lifecycle_enabled      = local.expire_noncurrent_days > 0 || local.abort_multipart_days > 0
}

data "aws_partition" "current" {}

#trivy:ignore:AWS-0089 (tfsec's reason below)
#tfsec:ignore:aws-s3-enable-bucket-logging Access logging is the `logging` input: it needs a separate log bucket, which the caller owns.
resource "aws_s3_bucket" "this" {
  bucket        = var.name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

#tfsec:ignore:aws-s3-encryption-customer-key SSE-S3 is the default so that CloudFront OAC can read without a key policy; pass kms_key_arn for a customer key.
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = var.versioning ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_cors_configuration" "this" {
  count = length(var.cors_allowed_origins) > 0 ? 1 : 0

  bucket = aws_s3_bucket.this.id
  cors_rule {
    allowed_methods = ["PUT", "POST"]
    allowed_origins = var.cors_allowed_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = local.lifecycle_enabled ? 1 : 0

  bucket = aws_s3_bucket.this.id

  dynamic "rule" {
    for_each = local.expire_noncurrent_days > 0 ? [local.expire_noncurrent_days] : []
    content {
      id     = "expire-noncurrent-versions"
      status = "Enabled"
      filter {}
      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }
    }
  }

  dynamic "rule" {
    for_each = local.abort_multipart_days > 0 ? [local.abort_multipart_days] : []
    content {
      id     = "abort-incomplete-multipart-uploads"
      status = "Enabled"
      filter {}
      abort_incomplete_multipart_upload {
        days_after_initiation = rule.value
      }
    }
  }

  # Rules on noncurrent versions need versioning to be in place first.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  count = var.logging != null ? 1 : 0

  bucket        = aws_s3_bucket.this.id
  target_bucket = var.logging.target_bucket
  target_prefix = var.logging.target_prefix
}

################################################################################
# Policy: TLS only, plus the caller's statements
################################################################################

data "aws_iam_policy_document" "this" {
  source_policy_documents = var.policy_documents

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.arn, "${local.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.this.json

  # A policy put before the public access block could be judged public in between.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
