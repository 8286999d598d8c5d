# The transcode queue wired to the originals bucket: every new upload becomes a message.
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
  consumer_timeout_seconds   = 120
  allowed_source_bucket_arns = ["arn:aws:s3:::${var.name_prefix}-originals"]
}
