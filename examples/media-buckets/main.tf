# The media buckets alone: a private, versioned originals bucket and a derivatives bucket
# that accepts only REDUCED_REDUNDANCY writes.
module "media_buckets" {
  source = "../../modules/media-buckets"

  name_prefix          = var.name_prefix
  cors_allowed_origins = ["https://app.example.com"]
  force_destroy        = var.force_destroy

  tags = {
    project = "mediastack"
    example = "media-buckets"
  }
}
