# The transcode pipeline of one region without its database: uploads queue a job, the
# transcoder writes derivatives and announces them on the media events topic.
module "media_buckets" {
  source = "../../modules/media-buckets"

  name_prefix            = var.name_prefix
  transcode_notification = { queue_arn = module.transcode_queue.queue_arn }
  force_destroy          = var.force_destroy
}

module "transcode_queue" {
  source = "../../modules/queue"

  restrict_dlq_sources       = var.restrict_dlq_sources
  name                       = "${var.name_prefix}-transcode"
  consumer_timeout_seconds   = 300
  allowed_source_bucket_arns = ["arn:aws:s3:::${var.name_prefix}-originals"]
}

module "media_events" {
  source = "../../modules/topic"

  name = "${var.name_prefix}-media-events"
}

module "transcoder" {
  source = "../../modules/transcoder"

  name                   = "${var.name_prefix}-transcoder"
  zip_path               = var.function_zip_path
  timeout                = 300
  queue                  = { arn = module.transcode_queue.queue_arn, maximum_concurrency = 5 }
  originals_bucket_arn   = module.media_buckets.originals_bucket_arn
  derivatives_bucket_arn = module.media_buckets.derivatives_bucket_arn
  topic_arn              = module.media_events.topic_arn
  kms_key_arns           = [module.media_events.kms_key_arn]
}
