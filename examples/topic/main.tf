# Media events fanned out to a queue that only receives "ready" events.
module "events_queue" {
  source = "../../modules/queue"

  restrict_dlq_sources      = var.restrict_dlq_sources
  name                      = "${var.name_prefix}-ready-events"
  consumer_timeout_seconds  = 30
  allowed_source_topic_arns = [module.media_events.topic_arn]
}

module "media_events" {
  source = "../../modules/topic"

  name = "${var.name_prefix}-media-events"
  subscriptions = {
    ready = {
      protocol             = "sqs"
      endpoint             = module.events_queue.queue_arn
      raw_message_delivery = true
      filter_policy        = jsonencode({ status = ["ready"] })
    }
  }
}
