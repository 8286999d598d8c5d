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
}

variables {
  name = "media-test"
}

run "defaults_are_secure" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this.bucket == "media-test" && aws_s3_bucket.this.force_destroy == false
    error_message = "the bucket takes the given name and refuses to be destroyed with objects by default"
  }
  assert {
    condition = (aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.block_public_policy &&
    aws_s3_bucket_public_access_block.this.ignore_public_acls && aws_s3_bucket_public_access_block.this.restrict_public_buckets)
    error_message = "public access must be blocked"
  }
  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "SSE-S3 must be the default encryption"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "versioning must be on by default"
  }
  assert {
    condition     = length(aws_s3_bucket_cors_configuration.this) == 0 && length(aws_s3_bucket_logging.this) == 0
    error_message = "no CORS rule and no logging unless asked"
  }
  assert {
    condition = (length(aws_s3_bucket_lifecycle_configuration.this) == 1 &&
      [for r in aws_s3_bucket_lifecycle_configuration.this[0].rule : r.id] == ["expire-noncurrent-versions", "abort-incomplete-multipart-uploads"] &&
      one(aws_s3_bucket_lifecycle_configuration.this[0].rule[0].noncurrent_version_expiration).noncurrent_days == 30 &&
    one(aws_s3_bucket_lifecycle_configuration.this[0].rule[1].abort_incomplete_multipart_upload).days_after_initiation == 7)
    error_message = "noncurrent versions expire after 30 days and incomplete multipart uploads are aborted after 7 by default"
  }
  assert {
    condition     = local.arn == "arn:aws:s3:::media-test"
    error_message = "the policy must name the bucket's ARN"
  }
  assert {
    condition     = contains(data.aws_iam_policy_document.this.statement[*].sid, "DenyInsecureTransport")
    error_message = "the policy must deny requests without TLS"
  }
}

run "kms_and_toggles" {
  command = plan

  variables {
    kms_key_arn          = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    versioning           = false
    cors_allowed_origins = ["https://app.example.com"]
    logging              = { target_bucket = "media-logs", target_prefix = "s3/" }
    lifecycle_rules      = { noncurrent_version_expiration_days = 0, abort_incomplete_multipart_days = 3 }
    policy_documents     = ["{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Extra\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:DeleteBucket\",\"Resource\":\"arn:aws:s3:::media-test\"}]}"]
    force_destroy        = true
    tags                 = { team = "media" }
  }

  assert {
    condition = (one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" &&
    one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled)
    error_message = "a KMS key switches to SSE-KMS with bucket keys"
  }
  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Suspended"
    error_message = "versioning = false suspends versioning"
  }
  assert {
    condition     = one(aws_s3_bucket_cors_configuration.this[0].cors_rule).allowed_origins == toset(["https://app.example.com"])
    error_message = "CORS must allow the given origins"
  }
  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "media-logs" && aws_s3_bucket_logging.this[0].target_prefix == "s3/"
    error_message = "logging must go to the given bucket and prefix"
  }
  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.this[0].rule : r.id] == ["abort-incomplete-multipart-uploads"]
    error_message = "a rule with 0 days is left out"
  }
  assert {
    condition     = aws_s3_bucket.this.force_destroy && aws_s3_bucket.this.tags["team"] == "media"
    error_message = "force_destroy and tags must reach the bucket"
  }
}

run "lifecycle_off" {
  command = plan

  variables {
    lifecycle_rules = null
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this) == 0
    error_message = "lifecycle_rules = null turns lifecycle management off"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "Media_Bucket"
  }
  expect_failures = [var.name]
}

run "rejects_ip_address_name" {
  command = plan
  variables {
    name = "192.168.10.1"
  }
  expect_failures = [var.name]
}

run "rejects_bad_kms_key_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/media"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_non_policy_document" {
  command = plan
  variables {
    policy_documents = ["{\"Version\":\"2012-10-17\"}"]
  }
  expect_failures = [var.policy_documents]
}

run "rejects_bad_cors_origin" {
  command = plan
  variables {
    cors_allowed_origins = ["app.example.com/upload"]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "rejects_bad_lifecycle_days" {
  command = plan
  variables {
    lifecycle_rules = { noncurrent_version_expiration_days = 0.5 }
  }
  expect_failures = [var.lifecycle_rules]
}
