# The mediastack root stack. It grows region by region: today it holds the media storage of
# one region; the upload fleet, transcoder, database and the global CDN and DNS join it as
# their modules land.

module "media_buckets" {
  source = "./modules/media-buckets"

  name_prefix   = var.name_prefix
  force_destroy = var.force_destroy
}
