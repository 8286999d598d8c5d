output "originals_bucket_id" {
  description = "Name of the originals bucket."
  value       = module.media_buckets.originals_bucket_id
}

output "derivatives_bucket_id" {
  description = "Name of the derivatives bucket."
  value       = module.media_buckets.derivatives_bucket_id
}

output "derivatives_storage_class" {
  description = "Storage class writers of derivatives must use."
  value       = module.media_buckets.derivatives_storage_class
}
