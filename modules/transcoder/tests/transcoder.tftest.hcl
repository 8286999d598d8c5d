# Computed ARNs and ids get well-formed mock values: OpenTofu plans with them (Terraform
# leaves them unknown), and the provider validates what it is given.
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/transcoder"
    }
  }
  mock_resource "aws_lambda_layer_version" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:111122223333:layer:ffmpeg:1"
    }
  }
}

variables {
  name                   = "media-transcoder"
  zip_path               = "tests/testdata/function.zip"
  queue                  = { arn = "arn:aws:sqs:us-east-1:111122223333:media-transcode" }
  originals_bucket_arn   = "arn:aws:s3:::media-originals"
  derivatives_bucket_arn = "arn:aws:s3:::media-derivatives"
  topic_arn              = "arn:aws:sns:us-east-1:111122223333:media-events"
}

run "defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.handler == "bootstrap"
    error_message = "the function runs the bootstrap on provided.al2023"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/testdata/function.zip")
    error_message = "the zip's hash must be tracked"
  }
  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["x86_64"]) && aws_lambda_function.this.timeout == 900 && aws_lambda_function.this.memory_size == 3008 && aws_lambda_function.this.ephemeral_storage[0].size == 10240
    error_message = "defaults: x86_64, 900 s, 3008 MB, 10 GB of /tmp"
  }
  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing is on by default"
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/media-transcoder" && aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "the log group is the function's, with a retention"
  }
  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      ORIGINALS_BUCKET          = "media-originals"
      DERIVATIVES_BUCKET        = "media-derivatives"
      DERIVATIVES_STORAGE_CLASS = "REDUCED_REDUNDANCY"
      TOPIC_ARN                 = "arn:aws:sns:us-east-1:111122223333:media-events"
      JOB_QUEUE_ARN             = "arn:aws:sqs:us-east-1:111122223333:media-transcode"
      CHUNK_SECONDS             = "20"
      CHUNK_ABOVE_SECONDS       = "60"
    })
    error_message = "the function learns its buckets, storage class, topic, chunking and its own queue from the environment; long videos go in chunks on its own queue by default"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.this.batch_size == 1
    error_message = "the mapping reports partial batch failures; one video per invocation by default"
  }
  assert {
    condition     = length(aws_lambda_event_source_mapping.this.scaling_config) == 0 && length(aws_lambda_function.this.vpc_config) == 0 && length(aws_lambda_function.this.layers) == 0
    error_message = "no concurrency cap, VPC or layer unless asked"
  }
  assert {
    condition = ([for s in data.aws_iam_policy_document.job.statement : s.sid] == [
      "ReadOriginals", "ListOriginalVersions", "WriteDerivativesInOneStorageClass", "RemoveDerivatives", "ReadDerivatives", "PublishMediaEvents",
      ] && [for s in data.aws_iam_policy_document.this.statement : s.sid] == ["ConsumeQueue", "SendJobs", "WriteLogs", "WriteTraces"]
    && data.aws_iam_policy_document.this.source_policy_documents == tolist([data.aws_iam_policy_document.job.json]))
    error_message = "the role can do exactly the transcoder's job: the job's permissions, and the function's queue, logs and traces"
  }
  assert {
    condition     = data.aws_iam_policy_document.this.statement[1].actions == toset(["sqs:SendMessage"]) && data.aws_iam_policy_document.this.statement[1].resources == toset(["arn:aws:sqs:us-east-1:111122223333:media-transcode"])
    error_message = "chunk jobs go to the function's own queue only"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.job.statement[2].condition).test == "StringEqualsIfExists" && toset(one(data.aws_iam_policy_document.job.statement[2].condition).values) == toset(["REDUCED_REDUNDANCY"])
    error_message = "derivatives may only be written in the configured storage class, parts of a multipart upload (no header) included"
  }
  assert {
    condition     = data.aws_iam_policy_document.job.statement[0].resources == toset(["arn:aws:s3:::media-originals/uploads/*"])
    error_message = "only originals under the upload prefix are readable"
  }
}

run "database_vpc_layer_and_limits" {
  command = plan

  variables {
    architecture                   = "arm64"
    memory_size                    = 2048
    timeout                        = 300
    ephemeral_storage              = 4096
    reserved_concurrent_executions = 10
    tracing_mode                   = "PassThrough"
    log_retention_days             = 7
    ffmpeg_layer                   = { zip_path = "tests/testdata/ffmpeg-layer.zip" }
    environment                    = { MAX_DURATION_SECONDS = "600" }
    queue                          = { arn = "arn:aws:sqs:us-east-1:111122223333:media-transcode", batch_size = 20, maximum_batching_window_in_seconds = 5, maximum_concurrency = 5 }
    db_secret_arn                  = "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-1234-AbCdEf"
    kms_key_arns                   = ["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    vpc_config                     = { subnet_ids = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"], security_group_ids = ["sg-0123abcd"] }
    tags                           = { team = "media" }
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"]) && aws_lambda_layer_version.ffmpeg[0].compatible_architectures == toset(["arm64"])
    error_message = "the architecture reaches the function and the layer"
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 10 && aws_lambda_function.this.tracing_config[0].mode == "PassThrough"
    error_message = "limits and tracing reach the function"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["DB_SECRET_ARN"] == "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-1234-AbCdEf" && aws_lambda_function.this.environment[0].variables["MAX_DURATION_SECONDS"] == "600"
    error_message = "the secret's ARN and extra variables reach the environment"
  }
  assert {
    condition     = one(aws_lambda_event_source_mapping.this.scaling_config).maximum_concurrency == 5 && aws_lambda_event_source_mapping.this.batch_size == 20
    error_message = "the mapping's batch and concurrency settings apply"
  }
  assert {
    condition     = one(aws_lambda_function.this.vpc_config).security_group_ids == toset(["sg-0123abcd"])
    error_message = "the function runs in the given subnets and groups"
  }
  assert {
    condition = concat([for s in data.aws_iam_policy_document.job.statement : s.sid], [for s in data.aws_iam_policy_document.this.statement : s.sid]) == [
      "ReadOriginals", "ListOriginalVersions", "WriteDerivativesInOneStorageClass", "RemoveDerivatives", "ReadDerivatives", "PublishMediaEvents",
      "ReadDatabaseSecret", "UseKeys", "ConsumeQueue", "SendJobs", "WriteLogs", "WriteTraces", "ManageNetworkInterfaces",
    ]
    error_message = "the role gains the secret, the keys and ENI management, nothing more"
  }
}

run "email_sender" {
  command = plan

  variables {
    email_sender = {
      from_address  = "media@example.com"
      identity_arns = ["arn:aws:ses:us-east-1:111122223333:identity/media@example.com", "arn:aws:ses:us-east-1:111122223333:identity/example.com"]
    }
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.job.statement : s if s.sid == "EmailUploaders"]).actions == toset(["ses:SendEmail"]) && one([for s in data.aws_iam_policy_document.job.statement : s if s.sid == "EmailUploaders"]).resources == toset(["arn:aws:ses:us-east-1:111122223333:identity/media@example.com", "arn:aws:ses:us-east-1:111122223333:identity/example.com"]) && one(one([for s in data.aws_iam_policy_document.job.statement : s if s.sid == "EmailUploaders"]).condition).values == tolist(["media@example.com"])
    error_message = "the role may send email through the sender's identities, as that address only"
  }
}

run "rejects_bad_email_identity" {
  command = plan
  variables {
    email_sender = { from_address = "media@example.com", identity_arns = ["media@example.com"] }
  }
  expect_failures = [var.email_sender]
}

run "existing_layer" {
  command = plan
  variables {
    ffmpeg_layer = { arn = "arn:aws:lambda:us-east-1:111122223333:layer:ffmpeg:3" }
  }
  assert {
    condition     = length(aws_lambda_layer_version.ffmpeg) == 0 && aws_lambda_function.this.layers == tolist(["arn:aws:lambda:us-east-1:111122223333:layer:ffmpeg:3"])
    error_message = "an existing layer is used as is"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "media transcoder"
  }
  expect_failures = [var.name]
}

run "rejects_missing_zip" {
  command = plan
  variables {
    zip_path = "build/missing.zip"
  }
  expect_failures = [var.zip_path]
}

run "rejects_bad_architecture" {
  command = plan
  variables {
    architecture = "amd64"
  }
  expect_failures = [var.architecture]
}

run "rejects_bad_memory" {
  command = plan
  variables {
    memory_size = 64
  }
  expect_failures = [var.memory_size]
}

run "rejects_bad_timeout" {
  command = plan
  variables {
    timeout = 901
  }
  expect_failures = [var.timeout]
}

run "rejects_bad_ephemeral_storage" {
  command = plan
  variables {
    ephemeral_storage = 20480
  }
  expect_failures = [var.ephemeral_storage]
}

run "rejects_layer_with_both_sources" {
  command = plan
  variables {
    ffmpeg_layer = { arn = "arn:aws:lambda:us-east-1:111122223333:layer:ffmpeg:3", zip_path = "tests/testdata/ffmpeg-layer.zip" }
  }
  expect_failures = [var.ffmpeg_layer]
}

run "rejects_bad_layer_arn" {
  command = plan
  variables {
    ffmpeg_layer = { arn = "arn:aws:lambda:us-east-1:111122223333:function:ffmpeg" }
  }
  expect_failures = [var.ffmpeg_layer]
}

run "rejects_missing_layer_zip" {
  command = plan
  variables {
    ffmpeg_layer = { zip_path = "tests/testdata/missing.zip" }
  }
  expect_failures = [var.ffmpeg_layer]
}

run "rejects_reserved_environment" {
  command = plan
  variables {
    environment = { AWS_REGION = "eu-west-1" }
  }
  expect_failures = [var.environment]
}

run "rejects_bad_log_retention" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_bad_tracing_mode" {
  command = plan
  variables {
    tracing_mode = "On"
  }
  expect_failures = [var.tracing_mode]
}

run "rejects_bad_reserved_concurrency" {
  command = plan
  variables {
    reserved_concurrent_executions = -2
  }
  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_bad_queue_arn" {
  command = plan
  variables {
    queue = { arn = "https://sqs.us-east-1.amazonaws.com/111122223333/q" }
  }
  expect_failures = [var.queue]
}

run "rejects_large_batch_without_window" {
  command = plan
  variables {
    queue = { arn = "arn:aws:sqs:us-east-1:111122223333:q", batch_size = 50 }
  }
  expect_failures = [var.queue]
}

run "rejects_bad_batching_window" {
  command = plan
  variables {
    queue = { arn = "arn:aws:sqs:us-east-1:111122223333:q", maximum_batching_window_in_seconds = 301 }
  }
  expect_failures = [var.queue]
}

run "rejects_bad_maximum_concurrency" {
  command = plan
  variables {
    queue = { arn = "arn:aws:sqs:us-east-1:111122223333:q", maximum_concurrency = 1 }
  }
  expect_failures = [var.queue]
}

run "rejects_bad_originals_arn" {
  command = plan
  variables {
    originals_bucket_arn = "media-originals"
  }
  expect_failures = [var.originals_bucket_arn]
}

run "rejects_bad_derivatives_arn" {
  command = plan
  variables {
    derivatives_bucket_arn = "media-derivatives"
  }
  expect_failures = [var.derivatives_bucket_arn]
}

run "rejects_bad_storage_class" {
  command = plan
  variables {
    derivatives_storage_class = "GLACIER"
  }
  expect_failures = [var.derivatives_storage_class]
}

run "rejects_bad_topic_arn" {
  command = plan
  variables {
    topic_arn = "arn:aws:sqs:us-east-1:111122223333:q"
  }
  expect_failures = [var.topic_arn]
}

run "rejects_bad_secret_arn" {
  command = plan
  variables {
    db_secret_arn = "rds!db-1234"
  }
  expect_failures = [var.db_secret_arn]
}

run "rejects_bad_kms_key" {
  command = plan
  variables {
    kms_key_arns = ["alias/aws/sns"]
  }
  expect_failures = [var.kms_key_arns]
}

run "rejects_single_subnet" {
  command = plan
  variables {
    vpc_config = { subnet_ids = ["subnet-0a1b2c3d"], security_group_ids = ["sg-0123abcd"] }
  }
  expect_failures = [var.vpc_config]
}

run "rejects_vpc_without_security_group" {
  command = plan
  variables {
    vpc_config = { subnet_ids = ["subnet-0a1b2c3d", "subnet-0e1f2a3b"], security_group_ids = [] }
  }
  expect_failures = [var.vpc_config]
}

run "one_pass_without_chunking" {
  command = plan

  variables {
    chunking = null
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "CHUNK_SECONDS") && contains([for s in data.aws_iam_policy_document.this.statement : s.sid], "SendJobs")
    error_message = "without chunking the function learns of no chunks, and still sends the reconciler's re-derivation jobs"
  }
}

run "neither_chunks_nor_reconciler" {
  command = plan

  variables {
    chunking  = null
    reconcile = null
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "JOB_QUEUE_ARN") && !contains([for s in data.aws_iam_policy_document.this.statement : s.sid], "SendJobs") && length(aws_scheduler_schedule.reconcile) == 0
    error_message = "a function that sends no job of its own may send none, and has no schedule"
  }
}

run "reconciler_on_a_schedule" {
  command = plan

  variables {
    reconcile             = { schedule = "rate(15 minutes)", limit = 50 }
    cdn_distribution_arns = ["arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE1"]
  }

  assert {
    condition = (aws_scheduler_schedule.reconcile[0].schedule_expression == "rate(15 minutes)" &&
      one(aws_scheduler_schedule.reconcile[0].target).arn == "arn:aws:sqs:us-east-1:111122223333:media-transcode" &&
    jsondecode(one(aws_scheduler_schedule.reconcile[0].target).input) == { reconcile = { limit = 50 } })
    error_message = "the schedule sends the reconcile message, with its limit, to the function's queue"
  }
  assert {
    condition = (one(data.aws_iam_policy_document.reconcile_schedule[0].statement).actions == toset(["sqs:SendMessage"]) &&
    one(data.aws_iam_policy_document.reconcile_schedule[0].statement).resources == toset(["arn:aws:sqs:us-east-1:111122223333:media-transcode"]))
    error_message = "the schedule's role may only send to the queue"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.job.statement :
    s.sid == "InvalidateMediaMadeAgain" && s.resources == toset(["arn:aws:cloudfront::111122223333:distribution/E2EXAMPLE1"])])
    error_message = "a job may invalidate the media it made again on the distribution, for the worker fleet too"
  }
}

run "rejects_a_schedule_that_is_no_expression" {
  command = plan

  variables {
    reconcile = { schedule = "every hour" }
  }
  expect_failures = [var.reconcile]
}

run "rejects_a_reconcile_limit_out_of_range" {
  command = plan

  variables {
    reconcile = { limit = 5000 }
  }
  expect_failures = [var.reconcile]
}

run "rejects_chunks_longer_than_half_the_timeout" {
  command = plan

  variables {
    timeout  = 60
    chunking = { chunk_seconds = 40 }
  }

  expect_failures = [var.chunking]
}

run "rejects_chunks_off_segment_boundaries" {
  command = plan

  variables {
    chunking = { chunk_seconds = 30 }
  }

  expect_failures = [var.chunking]
}

run "rejects_chunking_shorter_videos_than_two_chunks" {
  command = plan

  variables {
    chunking = { chunk_seconds = 40, above_seconds = 30 }
  }

  expect_failures = [var.chunking]
}

run "routes_what_it_cannot_hold_to_the_workers" {
  command = plan

  variables {
    timeout           = 600
    ephemeral_storage = 3072
    worker_routing    = { queue_arn = "arn:aws:sqs:us-east-1:111122223333:media-worker-jobs" }
  }

  assert {
    condition = (aws_lambda_function.this.environment[0].variables["WORKER_QUEUE_ARN"] == "arn:aws:sqs:us-east-1:111122223333:media-worker-jobs"
      && aws_lambda_function.this.environment[0].variables["WORKER_ABOVE_BYTES"] == "1073741824"
    && aws_lambda_function.this.environment[0].variables["WORKER_ONE_PASS_ABOVE_SECONDS"] == "300")
    error_message = "by default, originals above a third of the storage and one-pass videos above half the timeout go to the workers"
  }
  assert {
    condition     = contains([for s in data.aws_iam_policy_document.this.statement : s.sid], "RouteToWorkers")
    error_message = "the role may send to the workers' queue"
  }
}

run "rejects_routing_above_the_storage" {
  command = plan

  variables {
    ephemeral_storage = 512
    worker_routing    = { queue_arn = "arn:aws:sqs:us-east-1:111122223333:media-worker-jobs", above_bytes = 1073741824 }
  }

  expect_failures = [var.worker_routing]
}
