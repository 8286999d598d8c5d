# The transcoder: a Go function on provided.al2023 fed by the transcode queue, with a role that
# can do exactly its job: read originals, write derivatives in one storage class, read the
# database secret, publish media events, consume the queue, write its logs and traces.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/lambda/${var.name}"
  log_group_arn  = "arn:${local.partition}:logs:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:log-group:${local.log_group_name}"
  # Chunk jobs and re-derivation jobs go to the function's own queue.
  sends_jobs = var.chunking != null || var.reconcile != null
  layers = var.ffmpeg_layer == null ? [] : [
    var.ffmpeg_layer.arn != null ? var.ffmpeg_layer.arn : aws_lambda_layer_version.ffmpeg[0].arn
  ]
  environment = merge(var.environment, {
    ORIGINALS_BUCKET          = element(split(":::", var.originals_bucket_arn), 1)
    DERIVATIVES_BUCKET        = element(split(":::", var.derivatives_bucket_arn), 1)
    DERIVATIVES_STORAGE_CLASS = var.derivatives_storage_class
    TOPIC_ARN                 = var.topic_arn
    }, var.db_secret_arn == null ? {} : { DB_SECRET_ARN = var.db_secret_arn },
    local.sends_jobs ? { JOB_QUEUE_ARN = var.queue.arn } : {},
    var.chunking == null ? {} : {
      CHUNK_SECONDS       = tostring(var.chunking.chunk_seconds)
      CHUNK_ABOVE_SECONDS = tostring(var.chunking.above_seconds)
    },
    var.worker_routing == null ? {} : {
      WORKER_QUEUE_ARN              = var.worker_routing.queue_arn
      WORKER_ABOVE_BYTES            = tostring(coalesce(var.worker_routing.above_bytes, floor(var.ephemeral_storage * 1048576 / 3)))
      WORKER_ONE_PASS_ABOVE_SECONDS = tostring(coalesce(var.worker_routing.one_pass_above_seconds, floor(var.timeout / 2)))
  })
}

################################################################################
# Role
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

# What a transcode job does, wherever it runs: the function, and the worker fleet's instances
# (see the job_policy_json output).
data "aws_iam_policy_document" "job" {
  # An original that arrives after its media was deleted is removed, every version.
  statement {
    sid       = "ReadOriginals"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["${var.originals_bucket_arn}/${var.originals_prefix}*"]
  }

  statement {
    sid       = "ListOriginalVersions"
    actions   = ["s3:ListBucketVersions"]
    resources = [var.originals_bucket_arn]
  }

  # IfExists: a multipart upload names its class once, in CreateMultipartUpload; its parts
  # (also s3:PutObject) carry no storage-class header, and StringEquals would refuse them.
  statement {
    sid       = "WriteDerivativesInOneStorageClass"
    actions   = ["s3:PutObject"]
    resources = ["${var.derivatives_bucket_arn}/*"]
    condition {
      test     = "StringEqualsIfExists"
      variable = "s3:x-amz-storage-class"
      values   = [var.derivatives_storage_class]
    }
  }

  # A failed multipart upload is aborted at once rather than left to the bucket's lifecycle,
  # and the derivatives of a media deleted while it was transcoded are removed.
  statement {
    sid       = "RemoveDerivatives"
    actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["${var.derivatives_bucket_arn}/*"]
  }

  # Reading back what it wrote lets a retried job find finished renditions (idempotency).
  statement {
    sid       = "ReadDerivatives"
    actions   = ["s3:GetObject", "s3:ListBucket", "s3:ListBucketVersions"]
    resources = [var.derivatives_bucket_arn, "${var.derivatives_bucket_arn}/*"]
  }

  statement {
    sid       = "PublishMediaEvents"
    actions   = ["sns:Publish"]
    resources = [var.topic_arn]
  }

  dynamic "statement" {
    for_each = var.db_secret_arn == null ? [] : [var.db_secret_arn]
    content {
      sid       = "ReadDatabaseSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) == 0 ? [] : [1]
    content {
      sid       = "UseKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }

  # A media made again is invalidated, so that the errors its lost files got are not served.
  dynamic "statement" {
    for_each = length(var.cdn_distribution_arns) == 0 ? [] : [1]
    content {
      sid       = "InvalidateMediaMadeAgain"
      actions   = ["cloudfront:CreateInvalidation"]
      resources = var.cdn_distribution_arns
    }
  }

  dynamic "statement" {
    for_each = var.email_sender == null ? [] : [var.email_sender]
    content {
      sid       = "EmailUploaders"
      actions   = ["ses:SendEmail"]
      resources = statement.value.identity_arns
      condition {
        test     = "StringEquals"
        variable = "ses:FromAddress"
        values   = [statement.value.from_address]
      }
    }
  }

}

# The function's role: the job's permissions, its queue, its logs and traces.
data "aws_iam_policy_document" "this" {
  source_policy_documents = [data.aws_iam_policy_document.job.json]

  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [var.queue.arn]
  }

  dynamic "statement" {
    for_each = local.sends_jobs ? [1] : []
    content {
      sid       = "SendJobs"
      actions   = ["sqs:SendMessage"]
      resources = [var.queue.arn]
    }
  }

  dynamic "statement" {
    for_each = var.worker_routing == null ? [] : [1]
    content {
      sid       = "RouteToWorkers"
      actions   = ["sqs:SendMessage"]
      resources = [var.worker_routing.queue_arn]
    }
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  # X-Ray and ENI management have no resource-level permissions.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.vpc_config == null ? [] : [1]
    content {
      sid = "ManageNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "transcode"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

################################################################################
# Function
################################################################################

#tfsec:ignore:aws-cloudwatch-log-group-customer-key Logs are encrypted by CloudWatch; a customer key would need a key policy for the logs service in every region.
resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_layer_version" "ffmpeg" {
  count = var.ffmpeg_layer != null && try(var.ffmpeg_layer.zip_path, null) != null ? 1 : 0

  layer_name               = "${var.name}-ffmpeg"
  filename                 = var.ffmpeg_layer.zip_path
  source_code_hash         = filebase64sha256(var.ffmpeg_layer.zip_path)
  compatible_runtimes      = ["provided.al2023"]
  compatible_architectures = [var.architecture]
}

resource "aws_lambda_function" "this" {
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  layers                         = local.layers

  ephemeral_storage {
    size = var.ephemeral_storage
  }

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = var.tracing_mode
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  # The log group must exist first, or Lambda creates one that keeps logs forever.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = var.queue.arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.queue.batch_size
  maximum_batching_window_in_seconds = var.queue.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.queue.maximum_concurrency == null ? [] : [var.queue.maximum_concurrency]
    content {
      maximum_concurrency = scaling_config.value
    }
  }

  tags = var.tags
}

################################################################################
# Reconciler of lost derivatives
################################################################################

data "aws_iam_policy_document" "scheduler_assume" {
  count = var.reconcile == null ? 0 : 1

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "reconcile_schedule" {
  count = var.reconcile == null ? 0 : 1

  name               = "${var.name}-reconcile"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume[0].json
  tags               = var.tags
}

data "aws_iam_policy_document" "reconcile_schedule" {
  count = var.reconcile == null ? 0 : 1

  statement {
    sid       = "SendReconcileMessages"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue.arn]
  }
}

resource "aws_iam_role_policy" "reconcile_schedule" {
  count = var.reconcile == null ? 0 : 1

  name   = "send-reconcile"
  role   = aws_iam_role.reconcile_schedule[0].id
  policy = data.aws_iam_policy_document.reconcile_schedule[0].json
}

# The message goes through the queue rather than invoking the function: a run that fails is
# retried and ends in the dead-letter queue like every other job.
resource "aws_scheduler_schedule" "reconcile" {
  count = var.reconcile == null ? 0 : 1

  name                = "${var.name}-reconcile"
  description         = "Finds ready media with missing derivatives and makes them again."
  schedule_expression = var.reconcile.schedule

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.queue.arn
    role_arn = aws_iam_role.reconcile_schedule[0].arn
    input    = jsonencode({ reconcile = { limit = var.reconcile.limit } })

    # A run missed for an hour is superseded by the next.
    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 5
    }
  }

  depends_on = [aws_iam_role_policy.reconcile_schedule]
}
