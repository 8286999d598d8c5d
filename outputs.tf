output "originals_bucket_id" {
  description = "Name of the bucket that receives uploads."
  value       = module.media_buckets.originals_bucket_id
}

output "derivatives_bucket_id" {
  description = "Name of the bucket that holds renditions, HLS and posters."
  value       = module.media_buckets.derivatives_bucket_id
}
