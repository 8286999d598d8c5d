# The bucket settings themselves are tested in modules/private-bucket; these runs check what
# this module adds: names, the derivatives policy, the queue notification and the validations.

# Computed ARNs and ids get well-formed mock values: OpenTofu plans with them (Terraform
# leaves them unknown), and the provider validates what it is given.
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
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/replication"
    }
  }
}

variables {
  name_prefix = "media-test"
}

run "defaults" {
  command = apply

  assert {
    condition     = output.originals_bucket_arn == "arn:aws:s3:::media-test-originals" || output.originals_bucket_id != ""
    error_message = "the originals bucket must exist"
  }
  assert {
    condition     = local.derivatives_arn == "arn:aws:s3:::media-test-derivatives"
    error_message = "the derivatives policy must target <name_prefix>-derivatives"
  }
  assert {
    condition = (data.aws_iam_policy_document.derivatives.statement[0].sid == "DenyOtherStorageClasses" &&
      toset(flatten([for c in data.aws_iam_policy_document.derivatives.statement[0].condition : c.values if c.test == "StringNotEquals"])) == toset(["REDUCED_REDUNDANCY"]) &&
    toset(flatten([for c in data.aws_iam_policy_document.derivatives.statement[0].condition : c.values if c.test == "Null"])) == toset(["false"]))
    error_message = "derivatives must refuse writes naming another class than REDUCED_REDUNDANCY, and only those (a multipart upload's parts name none)"
  }
  assert {
    condition     = length(data.aws_iam_policy_document.derivatives.statement) == 1
    error_message = "nothing may read derivatives unless a distribution is given"
  }
  assert {
    condition     = length(aws_s3_bucket_notification.originals) == 0 && length(aws_s3_bucket_notification.derivatives) == 0
    error_message = "no notification without a queue"
  }
  assert {
    condition     = output.derivatives_storage_class == "REDUCED_REDUNDANCY" && output.originals_upload_prefix == "uploads/"
    error_message = "defaults: REDUCED_REDUNDANCY derivatives, uploads/ prefix"
  }
}

run "wired_to_queue_and_cdn" {
  command = plan

  variables {
    transcode_notification        = { queue_arn = "arn:aws:sqs:us-east-1:111122223333:media-transcode" }
    lost_derivatives_notification = { queue_arn = "arn:aws:sqs:us-east-1:111122223333:media-transcode" }
    cdn_distribution_arns         = ["arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456"]
    derivatives_storage_class     = "STANDARD"
    originals_upload_prefix       = "incoming/"
  }

  assert {
    condition = (one(aws_s3_bucket_notification.originals[0].queue).queue_arn == "arn:aws:sqs:us-east-1:111122223333:media-transcode" &&
      one(aws_s3_bucket_notification.originals[0].queue).filter_prefix == "incoming/" &&
    one(aws_s3_bucket_notification.originals[0].queue).events == toset(["s3:ObjectCreated:*"]))
    error_message = "new originals under the upload prefix must notify the queue"
  }
  assert {
    condition = (one(aws_s3_bucket_notification.derivatives[0].queue).queue_arn == "arn:aws:sqs:us-east-1:111122223333:media-transcode" &&
    one(aws_s3_bucket_notification.derivatives[0].queue).events == toset(["s3:ReducedRedundancyLostObject"]))
    error_message = "derivatives lost from reduced-redundancy storage must be reported to the queue that makes them again"
  }
  assert {
    condition = (data.aws_iam_policy_document.derivatives.statement[1].sid == "AllowCloudFrontOriginAccessControl" &&
    toset(one(data.aws_iam_policy_document.derivatives.statement[1].condition).values) == toset(["arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456"]))
    error_message = "only the given distributions may read derivatives"
  }
  assert {
    condition     = toset(flatten([for c in data.aws_iam_policy_document.derivatives.statement[0].condition : c.values if c.test == "StringNotEquals"])) == toset(["STANDARD"])
    error_message = "with STANDARD, writes naming another class must be refused"
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

run "rejects_bad_upload_prefix" {
  command = plan
  variables {
    originals_upload_prefix = "uploads"
  }
  expect_failures = [var.originals_upload_prefix]
}

run "rejects_bad_queue_arn" {
  command = plan
  variables {
    transcode_notification = { queue_arn = "https://sqs.us-east-1.amazonaws.com/111122223333/media" }
  }
  expect_failures = [var.transcode_notification]
}

run "replicates_new_originals_into_another_region" {
  command = plan
  variables {
    originals_replication = { destination_bucket_arn = "arn:aws:s3:::media-test-originals-replica" }
  }

  assert {
    condition = (length(aws_s3_bucket_replication_configuration.originals) == 1 &&
      aws_s3_bucket_replication_configuration.originals[0].rule[0].status == "Enabled" &&
      aws_s3_bucket_replication_configuration.originals[0].rule[0].filter[0].prefix == "uploads/" &&
      aws_s3_bucket_replication_configuration.originals[0].rule[0].destination[0].bucket == "arn:aws:s3:::media-test-originals-replica" &&
    aws_s3_bucket_replication_configuration.originals[0].rule[0].destination[0].storage_class == "STANDARD_IA")
    error_message = "one enabled rule copies uploads/ into the replica bucket, in STANDARD_IA"
  }
  assert {
    condition = (data.aws_iam_policy_document.replication[0].statement[2].resources == toset(["arn:aws:s3:::media-test-originals-replica/uploads/*"]) &&
    contains(data.aws_iam_policy_document.replication[0].statement[2].actions, "s3:ReplicateObject"))
    error_message = "the replication role writes replicas of uploads/ alone"
  }
}

run "replicates_nothing_by_default" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket_replication_configuration.originals) == 0 && length(aws_iam_role.replication) == 0
    error_message = "no replication unless asked"
  }
}

run "rejects_a_replica_that_is_not_a_bucket" {
  command = plan
  variables {
    originals_replication = { destination_bucket_arn = "media-test-originals-replica" }
  }
  expect_failures = [var.originals_replication]
}

run "rejects_encrypted_originals_replicated_without_a_destination_key" {
  command = plan
  variables {
    kms_key_arn           = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    originals_replication = { destination_bucket_arn = "arn:aws:s3:::media-test-originals-replica" }
  }
  expect_failures = [var.originals_replication]
}
