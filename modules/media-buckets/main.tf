# The two buckets of a regional media stack, both built by the private-bucket module:
# originals (what users upload, the only copy) and derivatives (renditions, HLS, posters,
# rebuildable from the originals).

locals {
  derivatives_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.name_prefix}-derivatives"
}

data "aws_partition" "current" {}

################################################################################
# Originals
################################################################################

module "originals" {
  source = "../private-bucket"

  name                 = "${var.name_prefix}-originals"
  versioning           = true
  kms_key_arn          = var.kms_key_arn
  cors_allowed_origins = var.cors_allowed_origins
  lifecycle_rules      = var.originals_lifecycle
  logging              = var.access_logging == null ? null : { target_bucket = var.access_logging.target_bucket, target_prefix = "${var.access_logging.target_prefix}originals/" }
  force_destroy        = var.force_destroy
  tags                 = merge(var.tags, { "mediastack:role" = "originals" })
}

# Every new original under the upload prefix becomes a message on the transcode queue. The
# queue's policy must already let this bucket send (the queue module's allowed_source_bucket_arns).
resource "aws_s3_bucket_notification" "originals" {
  count = var.transcode_notification != null ? 1 : 0

  bucket = module.originals.id
  queue {
    id            = "transcode"
    queue_arn     = var.transcode_notification.queue_arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = var.originals_upload_prefix
  }
}

# Derivatives can be made again from the originals: a lost one is reported to their maker.
resource "aws_s3_bucket_notification" "derivatives" {
  count = var.lost_derivatives_notification != null ? 1 : 0

  bucket = module.derivatives.id
  queue {
    id        = "lost-derivatives"
    queue_arn = var.lost_derivatives_notification.queue_arn
    events    = ["s3:ReducedRedundancyLostObject"]
  }
}

################################################################################
# Replication of the originals into another region (optional)
################################################################################

locals {
  replicate = var.originals_replication != null
}

data "aws_iam_policy_document" "replication_trust" {
  count = local.replicate ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

# What S3 Replication needs, and nothing more: read the rule and the versions of this bucket,
# write replicas (and delete markers) into the destination.
data "aws_iam_policy_document" "replication" {
  count = local.replicate ? 1 : 0

  statement {
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [module.originals.arn]
  }
  statement {
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
    resources = ["${module.originals.arn}/${var.originals_upload_prefix}*"]
  }
  statement {
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = ["${var.originals_replication.destination_bucket_arn}/${var.originals_upload_prefix}*"]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
  dynamic "statement" {
    for_each = try(var.originals_replication.destination_kms_key_arn, null) == null ? [] : [var.originals_replication.destination_kms_key_arn]
    content {
      actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "replication" {
  count = local.replicate ? 1 : 0

  name_prefix        = "${substr(var.name_prefix, 0, 20)}-replication-"
  assume_role_policy = data.aws_iam_policy_document.replication_trust[0].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "replication" {
  count = local.replicate ? 1 : 0

  role   = aws_iam_role.replication[0].id
  policy = data.aws_iam_policy_document.replication[0].json
}

resource "aws_s3_bucket_replication_configuration" "originals" {
  count = local.replicate ? 1 : 0

  bucket = module.originals.id
  role   = aws_iam_role.replication[0].arn

  rule {
    id     = "originals-to-replica"
    status = "Enabled"
    filter {
      prefix = var.originals_upload_prefix
    }
    delete_marker_replication {
      status = "Enabled"
    }
    destination {
      bucket        = var.originals_replication.destination_bucket_arn
      storage_class = var.originals_replication.storage_class
      dynamic "encryption_configuration" {
        for_each = try(var.originals_replication.destination_kms_key_arn, null) == null ? [] : [var.originals_replication.destination_kms_key_arn]
        content {
          replica_kms_key_id = encryption_configuration.value
        }
      }
    }
    dynamic "source_selection_criteria" {
      for_each = var.kms_key_arn == null ? [] : [1]
      content {
        sse_kms_encrypted_objects {
          status = "Enabled"
        }
      }
    }
  }

  # S3 refuses a rule on a bucket not versioned yet, and the first replicas fail while the
  # role cannot act.
  depends_on = [module.originals, aws_iam_role_policy.replication]
}

################################################################################
# Derivatives
################################################################################

# A write naming another storage class is refused. A write naming none is not: S3 authorises
# every UploadPart as s3:PutObject, and a part never carries the header (the class is set
# once, by CreateMultipartUpload), so denying an absent header refused every multipart
# upload. The writers (the transcoder) name the class on every PutObject and
# CreateMultipartUpload; the README says what this leaves to them.
data "aws_iam_policy_document" "derivatives" {
  statement {
    sid       = "DenyOtherStorageClasses"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.derivatives_arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-storage-class"
      values   = [var.derivatives_storage_class]
    }
    condition {
      test     = "Null"
      variable = "s3:x-amz-storage-class"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = length(var.cdn_distribution_arns) > 0 ? [1] : []
    content {
      sid       = "AllowCloudFrontOriginAccessControl"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${local.derivatives_arn}/*"]
      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = var.cdn_distribution_arns
      }
    }
  }
}

#tfsec:ignore:aws-s3-enable-versioning Derivatives are rebuilt from the originals, so old versions would only add cost; derivatives_versioning turns them on.
module "derivatives" {
  source = "../private-bucket"

  name             = "${var.name_prefix}-derivatives"
  versioning       = var.derivatives_versioning
  kms_key_arn      = var.kms_key_arn
  policy_documents = [data.aws_iam_policy_document.derivatives.json]
  lifecycle_rules  = var.derivatives_lifecycle
  logging          = var.access_logging == null ? null : { target_bucket = var.access_logging.target_bucket, target_prefix = "${var.access_logging.target_prefix}derivatives/" }
  force_destroy    = var.force_destroy
  tags             = merge(var.tags, { "mediastack:role" = "derivatives" })
}
