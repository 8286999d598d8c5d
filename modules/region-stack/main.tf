# One region of the platform: the network, the upload API fleet behind its load balancer, the
# media buckets, the transcode queue and function, the media events topic, the metadata
# database and the user pool. The global layer (CloudFront, Route 53) reads its outputs and
# hands back the distribution through var.cdn.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.id
  # Built from the name rather than read from the module, so the queue's policy and the
  # bucket's notification do not wait on each other.
  originals_bucket_arn   = "arn:${local.partition}:s3:::${var.name}-originals"
  derivatives_bucket_arn = "arn:${local.partition}:s3:::${var.name}-derivatives"
  upload_prefix          = "uploads/"
  db_name                = "media"

  # The catalogue: the home region's primary takes every write; a region with a home has a
  # read replica of it, where the API reads what may lag.
  replica       = var.home != null
  db_secret_arn = local.replica ? var.home.database.secret_arn : module.database.master_user_secret_arn
  # What both programs need to reach the metadata database; the password stays in the
  # RDS-managed secret (the primary's, in the home region).
  database_environment = {
    DB_SECRET_ARN = local.db_secret_arn
    DB_HOST       = local.replica ? var.home.database.address : module.database.address
    DB_PORT       = tostring(local.replica ? var.home.database.port : module.database.port)
    DB_NAME       = local.db_name
  }
  catalogue_environment = merge(local.replica ? {
    DB_READ_HOST = module.database.address
    DB_READ_PORT = tostring(module.database.port)
    } : {}, {
    # The catalogue's home, which holds the media recorded before rows named their region.
    HOME_REGION = local.replica ? split(":", var.home.database.instance_arn)[3] : local.region
  })

  # One identity: the home region's user pool, or this region's own.
  identity = local.replica ? var.home.identity : {
    user_pool_id = module.identity[0].user_pool_id
    client_id    = module.identity[0].client_id
    issuer_url   = module.identity[0].issuer_url
  }
  cdn_environment = var.cdn == null ? {} : merge(
    { CDN_BASE_URL = var.cdn.base_url },
    # The distribution a deleted media's files are invalidated on: the first, the region's own.
    length(var.cdn.distribution_arns) == 0 ? {} : { CDN_DISTRIBUTION_ID = element(split("/", var.cdn.distribution_arns[0]), 1) },
    var.cdn.signing == null ? {} : {
      CDN_KEY_PAIR_ID            = var.cdn.signing.key_pair_id
      CDN_PRIVATE_KEY_SECRET_ARN = var.cdn.signing.private_key_secret_arn
    },
  )
}

################################################################################
# Outcome emails (optional)
################################################################################

locals {
  email_from = var.notifications.email_from
  # SES authorises a send on the identity that verifies the sender: the address's own, or its
  # domain's when only the domain is verified.
  email_identity_arns = local.email_from == null ? [] : [
    for identity in [local.email_from, split("@", local.email_from)[1]] :
    "arn:${local.partition}:ses:${local.region}:${data.aws_caller_identity.current.account_id}:identity/${identity}"
  ]
  notification_environment = local.email_from == null ? {} : {
    NOTIFY_EMAIL_FROM   = local.email_from
    MEDIA_LINK_TEMPLATE = coalesce(var.notifications.media_link, "${coalesce(try(var.cdn.api_base_url, null), module.alb.url)}/v1/media/{media_id}")
  }
}

# SES mails the address a verification link; until it is followed, SES refuses to send from it
# (the transcoder logs the refusal and publishes the media event regardless).
resource "aws_sesv2_email_identity" "notifications" {
  count = local.email_from != null && var.notifications.create_identity ? 1 : 0

  email_identity = local.email_from
  tags           = var.tags
}

################################################################################
# Network and load balancer
################################################################################

module "network" {
  source = "../network"

  name               = var.name
  cidr_block         = var.network.cidr_block
  az_count           = var.network.az_count
  enable_nat_gateway = true
  single_nat_gateway = var.network.single_nat_gateway
  existing_vpc       = var.network.existing_vpc

  tags = var.tags
}

module "alb" {
  source = "../alb"

  name                = "${var.name}-api"
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.public_subnet_ids
  ingress_cidr_blocks = var.ingress_cidr_blocks
  certificate_arn     = var.certificate_arn
  allow_plain_http    = var.allow_plain_http
  target_port         = var.upload_api.port
  health_check        = { path = "/readyz" }
  deletion_protection = var.deletion_protection

  tags = var.tags
}

################################################################################
# Country rules (optional): the API and sign-in only from allowed countries
################################################################################

locals {
  country_rules = length(var.allowed_countries) > 0
  # The load balancer always; the user pool where this region has its own.
  web_acl_resources = local.country_rules ? merge(
    { api = module.alb.arn },
    local.replica ? {} : { sign_in = module.identity[0].user_pool_arn },
  ) : {}
}

resource "aws_wafv2_web_acl" "countries" {
  count = local.country_rules ? 1 : 0

  name        = "${var.name}-countries"
  description = "The API and sign-in from ${join(", ", var.allowed_countries)} only."
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "outside-allowed-countries"
    priority = 0

    action {
      block {
        custom_response {
          response_code            = 403
          custom_response_body_key = "country"
        }
      }
    }

    statement {
      not_statement {
        statement {
          geo_match_statement {
            country_codes = var.allowed_countries
          }
        }
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-outside-allowed-countries"
      sampled_requests_enabled   = true
    }
  }

  custom_response_body {
    key          = "country"
    content_type = "APPLICATION_JSON"
    content      = jsonencode({ error = "This service is not available in your country: it serves ${join(", ", var.allowed_countries)} only." })
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-countries"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "countries" {
  for_each = local.web_acl_resources

  resource_arn = each.value
  web_acl_arn  = aws_wafv2_web_acl.countries[0].arn
}

################################################################################
# Storage, queue and events
################################################################################

module "media_buckets" {
  source = "../media-buckets"

  name_prefix               = var.name
  derivatives_storage_class = var.derivatives_storage_class
  originals_upload_prefix   = local.upload_prefix
  transcode_notification    = { queue_arn = module.transcode_queue.queue_arn }
  # Lost derivatives are made again by the transcoder (see transcoder.reconcile).
  lost_derivatives_notification = { queue_arn = module.transcode_queue.queue_arn }
  cdn_distribution_arns         = var.cdn == null ? [] : var.cdn.distribution_arns
  cors_allowed_origins          = var.cors_allowed_origins
  originals_replication         = var.originals_replication
  force_destroy                 = var.force_destroy

  tags = var.tags
}

module "transcode_queue" {
  source = "../queue"

  name                       = "${var.name}-transcode"
  consumer_timeout_seconds   = var.transcoder.timeout
  allowed_source_bucket_arns = [local.originals_bucket_arn, local.derivatives_bucket_arn]
  restrict_dlq_sources       = var.restrict_dlq_sources
  alarm_actions              = var.alarm_actions
  ok_actions                 = var.alarm_actions

  tags = var.tags
}

module "media_events" {
  source = "../topic"

  name           = "${var.name}-media-events"
  publisher_arns = [module.transcoder.role_arn]
  subscriptions  = var.media_event_subscriptions

  tags = var.tags
}

################################################################################
# Identity and database
################################################################################

module "identity" {
  source = "../identity"
  count  = local.replica ? 0 : 1

  name                = "${var.name}-users"
  allow_password_auth = var.identity.allow_password_auth
  callback_urls       = var.identity.callback_urls
  logout_urls         = var.identity.logout_urls
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"

  tags = var.tags
}

module "database" {
  source = "../database"

  name                       = "${var.name}-media"
  db_name                    = local.db_name
  instance_class             = var.database.instance_class
  multi_az                   = var.database.multi_az
  backup_retention_period    = var.database.backup_retention_period
  performance_insights       = var.database.performance_insights
  deletion_protection        = var.deletion_protection
  skip_final_snapshot        = var.force_destroy
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.private_subnet_ids
  allowed_security_group_ids = values(local.database_clients)
  replica                    = local.replica ? { source_db_arn = var.home.database.instance_arn } : null

  tags = var.tags
}

################################################################################
# Transcoder: in the private subnets, to reach the database; AWS APIs through the NAT
################################################################################

resource "aws_security_group" "transcoder" {
  name        = "${var.name}-transcoder"
  description = "The transcode function: HTTPS out to AWS APIs, PostgreSQL to the database"
  vpc_id      = module.network.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-transcoder" })
}

# AWS APIs (SNS, Secrets Manager, S3) are public endpoints, reached through the NAT gateway.
# Trivy's AWS-0104 (unrestricted egress) is accepted for that reason: HTTPS only, to APIs
# whose addresses are not a fixed range.
#trivy:ignore:AWS-0104
resource "aws_vpc_security_group_egress_rule" "transcoder_https" {
  security_group_id = aws_security_group.transcoder.id
  description       = "HTTPS to AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

module "transcoder" {
  source = "../transcoder"

  name                           = "${var.name}-transcoder"
  zip_path                       = var.transcoder.zip_path
  architecture                   = var.transcoder.architecture
  memory_size                    = var.transcoder.memory_size
  timeout                        = var.transcoder.timeout
  ephemeral_storage              = var.transcoder.ephemeral_storage
  ffmpeg_layer                   = var.transcoder.ffmpeg_layer
  reserved_concurrent_executions = var.transcoder.reserved_concurrent_executions
  chunking = var.transcoder.chunking.enabled ? {
    chunk_seconds = var.transcoder.chunking.chunk_seconds
    above_seconds = var.transcoder.chunking.above_seconds
  } : null
  queue = {
    arn                 = module.transcode_queue.queue_arn
    maximum_concurrency = var.transcoder.maximum_concurrency
  }
  originals_bucket_arn      = module.media_buckets.originals_bucket_arn
  originals_prefix          = local.upload_prefix
  derivatives_bucket_arn    = module.media_buckets.derivatives_bucket_arn
  derivatives_storage_class = var.derivatives_storage_class
  topic_arn                 = module.media_events.topic_arn
  kms_key_arns              = [module.media_events.kms_key_arn]
  db_secret_arn             = local.db_secret_arn
  environment               = local.transcode_environment
  email_sender              = local.email_from == null ? null : { from_address = local.email_from, identity_arns = local.email_identity_arns }
  reconcile = var.transcoder.reconcile.enabled ? {
    schedule = var.transcoder.reconcile.schedule
    limit    = var.transcoder.reconcile.limit
  } : null
  cdn_distribution_arns = var.cdn == null ? [] : var.cdn.distribution_arns
  worker_routing = var.worker_fleet == null ? null : {
    queue_arn              = module.worker_queue[0].queue_arn
    above_bytes            = var.worker_fleet.route_above_bytes
    one_pass_above_seconds = var.worker_fleet.one_pass_above_seconds
  }
  vpc_config = {
    subnet_ids         = module.network.private_subnet_ids
    security_group_ids = [aws_security_group.transcoder.id]
  }

  tags = var.tags
}

################################################################################
# Upload API fleet: installs the upload-api artifact at boot
################################################################################

module "artifacts" {
  source = "../private-bucket"

  name          = "${var.name}-artifacts"
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_object" "upload_api" {
  bucket      = module.artifacts.id
  key         = "upload-api/${filesha256(var.upload_api.zip_path)}.zip"
  source      = var.upload_api.zip_path
  source_hash = filemd5(var.upload_api.zip_path)
  tags        = var.tags
}

data "aws_iam_policy_document" "upload_api" {
  statement {
    sid       = "PutOriginals"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${module.media_buckets.originals_bucket_arn}/${local.upload_prefix}*"]
  }
  # ListBucketMultipartUploads: completing a multipart upload first checks that the upload id
  # belongs to the media's own key.
  statement {
    sid       = "CheckOriginalsBucket"
    actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListBucketVersions"]
    resources = [module.media_buckets.originals_bucket_arn]
  }
  statement {
    sid     = "ReadSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = compact([
      local.db_secret_arn,
      try(var.cdn.signing.private_key_secret_arn, null),
    ])
  }
  # Deleting a media: every version of its original, every derivative, its files in the
  # CDN's caches, and the deleted event.
  statement {
    sid     = "DeleteMedia"
    actions = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = [
      "${module.media_buckets.originals_bucket_arn}/${local.upload_prefix}*",
      "${module.media_buckets.derivatives_bucket_arn}/*",
    ]
  }
  statement {
    sid       = "ListDerivatives"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
    resources = [module.media_buckets.derivatives_bucket_arn]
  }
  statement {
    sid       = "AnnounceDeletions"
    actions   = ["sns:Publish"]
    resources = [module.media_events.topic_arn]
  }
  statement {
    sid       = "EncryptMediaEvents"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.media_events.kms_key_arn]
  }
  dynamic "statement" {
    for_each = var.cdn == null ? [] : [1]
    content {
      sid       = "InvalidateDeletedMedia"
      actions   = ["cloudfront:CreateInvalidation"]
      resources = var.cdn.distribution_arns
    }
  }
}

module "upload_api" {
  source = "../asg"

  name          = "${var.name}-upload-api"
  vpc_id        = module.network.vpc_id
  subnet_ids    = module.network.private_subnet_ids
  architecture  = var.upload_api.architecture
  instance_type = var.upload_api.instance_type
  artifact = {
    bucket = aws_s3_object.upload_api.bucket
    key    = aws_s3_object.upload_api.key
  }
  service = {
    name = "upload-api"
    port = var.upload_api.port
    environment = merge(local.database_environment, local.catalogue_environment, local.cdn_environment, {
      AWS_REGION                = local.region
      LISTEN_ADDR               = ":${var.upload_api.port}"
      ORIGINALS_BUCKET          = module.media_buckets.originals_bucket_id
      DERIVATIVES_BUCKET        = module.media_buckets.derivatives_bucket_id
      TOPIC_ARN                 = module.media_events.topic_arn
      CORS_ALLOWED_ORIGINS      = join(",", var.cors_allowed_origins)
      JWT_ISSUER                = local.identity.issuer_url
      JWT_AUDIENCE              = local.identity.client_id
      MAX_UPLOAD_BYTES          = tostring(var.upload_api.max_upload_bytes)
      MULTIPART_THRESHOLD_BYTES = tostring(var.upload_api.multipart_threshold_bytes)
    })
  }
  source_security_group_ids = [module.alb.security_group_id]
  target_group_arns         = [module.alb.target_group_arn]
  # HTTPS to AWS APIs and Cognito's JWKS through the NAT gateway; the database rule is below.
  egress_cidr_blocks     = ["0.0.0.0/0"]
  egress_ports           = [443]
  egress_prefix_list_ids = var.network.existing_vpc == null ? [module.network.s3_prefix_list_id] : []
  capacity               = var.upload_api.capacity
  scaling = {
    metric             = "alb_requests"
    target_value       = var.upload_api.requests_per_target
    alb_resource_label = module.alb.resource_label
  }
  policy_documents = [data.aws_iam_policy_document.upload_api.json]

  tags = var.tags
}

# The database's clients, named once: the database admits them and they may reach it.
locals {
  database_clients = merge({
    transcoder = aws_security_group.transcoder.id
    upload_api = module.upload_api.security_group_id
  }, var.worker_fleet == null ? {} : { transcode_workers = module.transcode_workers[0].security_group_id })
}

################################################################################
# Spot worker fleet: the transcode jobs the function cannot hold
################################################################################

locals {
  # What a transcode job reads from its environment beyond the transcoder module's own
  # variables (buckets, storage class, topic, secret), wherever it runs.
  # The queue module's consumer timeout (at most Lambda's 900 s) of a worker's visibility.
  worker_consumer_seconds = var.worker_fleet == null ? 0 : max(1, min(900, floor(var.worker_fleet.visibility_seconds / 6)))
  transcode_environment = merge(var.transcoder.environment, local.cdn_environment, local.notification_environment,
    { for k, v in local.database_environment : k => v if k != "DB_SECRET_ARN" },
    # Its reconciler checks the media of its region (and, at home, those recorded before regions).
  { HOME_REGION = local.catalogue_environment.HOME_REGION })
}

module "worker_queue" {
  source = "../queue"
  count  = var.worker_fleet == null ? 0 : 1

  name = "${var.name}-worker-jobs"
  # The worker renews a job's visibility while it works; the queue's timeout only covers a
  # worker that died before its first renewal.
  consumer_timeout_seconds   = local.worker_consumer_seconds
  visibility_timeout_seconds = max(var.worker_fleet.visibility_seconds, 6 * local.worker_consumer_seconds)
  restrict_dlq_sources       = var.restrict_dlq_sources
  alarm_actions              = var.alarm_actions
  ok_actions                 = var.alarm_actions

  tags = var.tags
}

resource "aws_s3_object" "transcode_worker" {
  count = var.worker_fleet == null ? 0 : 1

  bucket      = module.artifacts.id
  key         = "transcode-worker/${filesha256(var.worker_fleet.zip_path)}.zip"
  source      = var.worker_fleet.zip_path
  source_hash = filemd5(var.worker_fleet.zip_path)
  tags        = var.tags
}

data "aws_iam_policy_document" "transcode_workers" {
  count = var.worker_fleet == null ? 0 : 1

  statement {
    sid       = "ConsumeJobs"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [module.worker_queue[0].queue_arn]
  }
}

module "transcode_workers" {
  source = "../asg"
  count  = var.worker_fleet == null ? 0 : 1

  name         = "${var.name}-transcode-workers"
  vpc_id       = module.network.vpc_id
  subnet_ids   = module.network.private_subnet_ids
  architecture = var.worker_fleet.architecture
  ami_id       = var.worker_fleet.ami_id
  artifact = {
    bucket = aws_s3_object.transcode_worker[0].bucket
    key    = aws_s3_object.transcode_worker[0].key
  }
  service = {
    name = "transcode-worker"
    port = 9090 # no listener: the fleet serves no traffic
    environment = merge(local.transcode_environment, {
      AWS_REGION                = local.region
      ORIGINALS_BUCKET          = module.media_buckets.originals_bucket_id
      DERIVATIVES_BUCKET        = module.media_buckets.derivatives_bucket_id
      DERIVATIVES_STORAGE_CLASS = var.derivatives_storage_class
      TOPIC_ARN                 = module.media_events.topic_arn
      DB_SECRET_ARN             = local.db_secret_arn
      QUEUE_URL                 = module.worker_queue[0].queue_url
      VISIBILITY_SECONDS        = tostring(var.worker_fleet.visibility_seconds)
    })
  }
  # HTTPS to AWS APIs through the NAT gateway; the database rule is above.
  egress_cidr_blocks     = ["0.0.0.0/0"]
  egress_ports           = [443]
  egress_prefix_list_ids = var.network.existing_vpc == null ? [module.network.s3_prefix_list_id] : []
  capacity               = { min = 0, max = var.worker_fleet.max_instances, desired = 0 }
  scaling                = null
  mixed_instances = {
    instance_types                           = var.worker_fleet.instance_types
    on_demand_base_capacity                  = 0
    on_demand_percentage_above_base_capacity = 0
  }
  queue_backlog_scaling = { queue_name = module.worker_queue[0].queue_name, target_backlog_per_instance = var.worker_fleet.target_backlog_per_instance }
  policy_documents      = [module.transcoder.job_policy_json, data.aws_iam_policy_document.transcode_workers[0].json]

  tags = var.tags
}

# Writes to the home region's primary go over the peering: security groups of another region
# cannot be named, so the rule names the home VPC's range, on the database port only.
resource "aws_vpc_security_group_egress_rule" "primary" {
  for_each = local.replica ? local.database_clients : {}

  security_group_id = each.value
  description       = "PostgreSQL to the home region's primary, over the peering"
  ip_protocol       = "tcp"
  from_port         = var.home.database.port
  to_port           = var.home.database.port
  cidr_ipv4         = var.home.database.cidr_block
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "database" {
  for_each = local.database_clients

  security_group_id            = each.value
  description                  = "PostgreSQL to the metadata database"
  ip_protocol                  = "tcp"
  from_port                    = module.database.port
  to_port                      = module.database.port
  referenced_security_group_id = module.database.security_group_id
  tags                         = var.tags
}
