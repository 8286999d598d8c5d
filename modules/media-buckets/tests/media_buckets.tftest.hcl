mock_provider "aws" {
  # The policy document data source is computed by the provider; give the mock a valid JSON
  # so that the bucket policy resource accepts it.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name_prefix = "media-test"
}

run "defaults_are_secure" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this["originals"].bucket == "media-test-originals" && aws_s3_bucket.this["derivatives"].bucket == "media-test-derivatives"
    error_message = "bucket names must be <name_prefix>-originals and <name_prefix>-derivatives"
  }
  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : b.force_destroy == false])
    error_message = "force_destroy must default to false"
  }
  assert {
    condition = alltrue([for p in aws_s3_bucket_public_access_block.this :
    p.block_public_acls && p.block_public_policy && p.ignore_public_acls && p.restrict_public_buckets])
    error_message = "public access must be blocked on both buckets"
  }
  assert {
    condition     = alltrue([for c in aws_s3_bucket_ownership_controls.this : one(c.rule).object_ownership == "BucketOwnerEnforced"])
    error_message = "ACLs must be disabled (BucketOwnerEnforced)"
  }
  assert {
    condition     = alltrue([for e in aws_s3_bucket_server_side_encryption_configuration.this : one(one(e.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"])
    error_message = "SSE-S3 must be the default encryption"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.this["originals"].versioning_configuration).status == "Enabled"
    error_message = "originals must be versioned"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.this["derivatives"].versioning_configuration).status == "Suspended"
    error_message = "derivatives are unversioned by default"
  }
  assert {
    condition     = length(aws_s3_bucket_cors_configuration.originals) == 0
    error_message = "no CORS rule without allowed origins"
  }
  assert {
    condition     = output.derivatives_storage_class == "REDUCED_REDUNDANCY"
    error_message = "derivatives default to REDUCED_REDUNDANCY"
  }
  assert {
    condition     = local.storage_class_operator == "StringNotEquals"
    error_message = "a non-STANDARD class must be required on every PUT"
  }
}

run "kms_encryption" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = alltrue([for e in aws_s3_bucket_server_side_encryption_configuration.this :
      one(one(e.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
    one(e.rule).bucket_key_enabled])
    error_message = "a KMS key switches both buckets to SSE-KMS with bucket keys"
  }
}

run "toggles" {
  command = plan

  variables {
    derivatives_versioning    = true
    derivatives_storage_class = "STANDARD"
    cors_allowed_origins      = ["https://app.example.com"]
    force_destroy             = true
    tags                      = { team = "media" }
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this["derivatives"].versioning_configuration).status == "Enabled"
    error_message = "derivatives_versioning turns versioning on"
  }
  assert {
    condition     = local.storage_class_operator == "StringNotEqualsIfExists"
    error_message = "with STANDARD, a PUT without the storage-class header must be accepted"
  }
  assert {
    condition     = one(aws_s3_bucket_cors_configuration.originals[0].cors_rule).allowed_origins == toset(["https://app.example.com"])
    error_message = "CORS must allow the given origins"
  }
  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : b.force_destroy && b.tags["team"] == "media"])
    error_message = "force_destroy and tags must reach both buckets"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Media_Bucket"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_double_hyphen_name_prefix" {
  command = plan
  variables {
    name_prefix = "media--x"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_unknown_storage_class" {
  command = plan
  variables {
    derivatives_storage_class = "GLACIER"
  }
  expect_failures = [var.derivatives_storage_class]
}

run "rejects_bad_kms_key_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/media"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_cors_origin" {
  command = plan
  variables {
    cors_allowed_origins = ["app.example.com/upload"]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "rejects_bad_distribution_arn" {
  command = plan
  variables {
    cdn_distribution_arns = ["arn:aws:s3:::not-a-distribution"]
  }
  expect_failures = [var.cdn_distribution_arns]
}
