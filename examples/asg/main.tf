# The two fleets of a region, composed from the repository's modules: the upload API in the
# private subnets of a two-zone network, behind a load balancer in the public ones and scaled
# on requests per target; and the spot worker fleet, scaled on its queue's backlog. Both
# install their service at boot from a zip in a private artifacts bucket, which they reach
# through the network's S3 gateway endpoint: no NAT, no public IP.

module "network" {
  source = "../../modules/network"

  name       = "${var.name_prefix}-asg-net"
  cidr_block = "10.42.0.0/16"
}

module "alb" {
  source = "../../modules/alb"

  name                = "${var.name_prefix}-upload"
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.public_subnet_ids
  ingress_cidr_blocks = ["0.0.0.0/0"]
  certificate_arn     = var.certificate_arn
  allow_plain_http    = var.certificate_arn == null
  target_port         = 8080
  health_check        = { path = "/healthz" }
}

################################################################################
# The artifact: uploaded here from artifact_path, unless artifact_bucket names one
################################################################################

module "artifacts" {
  source = "../../modules/private-bucket"
  count  = var.artifact_bucket == null ? 1 : 0

  name          = "${var.name_prefix}-artifacts"
  force_destroy = var.force_destroy
}

resource "aws_s3_object" "artifact" {
  count = var.artifact_bucket == null ? 1 : 0

  bucket      = module.artifacts[0].id
  key         = var.artifact_key
  source      = var.artifact_path
  source_hash = filemd5(var.artifact_path)
}

locals {
  # Through the object when the example uploads it, so the fleets wait for it.
  artifact = var.artifact_bucket == null ? {
    bucket = aws_s3_object.artifact[0].bucket
    key    = aws_s3_object.artifact[0].key
  } : { bucket = var.artifact_bucket, key = var.artifact_key }
}

################################################################################
# Fleets
################################################################################

module "upload_api" {
  source = "../../modules/asg"

  name                      = "${var.name_prefix}-upload-api"
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  artifact                  = local.artifact
  source_security_group_ids = [module.alb.security_group_id]
  target_group_arns         = [module.alb.target_group_arn]
  egress_prefix_list_ids    = [module.network.s3_prefix_list_id]
  service = {
    name        = "upload-api"
    port        = 8080
    environment = { LISTEN_ADDR = ":8080", LOG_LEVEL = "info", PUBLIC_URL = module.alb.url }
  }
  capacity = { min = 1, max = 3, desired = 1 }
  scaling  = { metric = "alb_requests", target_value = 200, alb_resource_label = module.alb.resource_label }
}

module "jobs" {
  source = "../../modules/queue"

  name                     = "${var.name_prefix}-transcode-jobs"
  consumer_timeout_seconds = 900
  restrict_dlq_sources     = var.restrict_dlq_sources
}

module "workers" {
  source = "../../modules/asg"

  name                   = "${var.name_prefix}-workers"
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  artifact               = local.artifact
  egress_prefix_list_ids = [module.network.s3_prefix_list_id]
  service = {
    name        = "transcode-worker"
    port        = 9090
    environment = { QUEUE_URL = module.jobs.queue_url }
  }
  capacity = { min = 0, max = 4, desired = 0 }
  scaling  = null
  mixed_instances = {
    instance_types                           = ["c7i.large", "c6i.large", "c5.large"]
    on_demand_base_capacity                  = 0
    on_demand_percentage_above_base_capacity = 0
  }
  queue_backlog_scaling = { queue_name = module.jobs.queue_name, target_backlog_per_instance = 10 }
  policy_documents      = [data.aws_iam_policy_document.worker_queue.json]
}

data "aws_iam_policy_document" "worker_queue" {
  statement {
    sid       = "ConsumeJobs"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [module.jobs.queue_arn]
  }
}
