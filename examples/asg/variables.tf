variable "name_prefix" {
  description = "Prefix of every resource name; lowercase letters, digits and hyphens (at most 22 characters: the load balancer's name adds -upload)."
  type        = string
  default     = "mediastack-example"
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "artifact_path" {
  description = "Local zip of the service (an executable named bootstrap at its root), uploaded to the example's private artifacts bucket under artifact_key. Needed unless artifact_bucket is given."
  type        = string
  default     = null

  validation {
    condition     = var.artifact_path == null || endswith(coalesce(var.artifact_path, "-"), ".zip")
    error_message = "artifact_path must be the path of a .zip file."
  }
}

variable "artifact_bucket" {
  description = "Bucket already holding the service zip at artifact_key. Null: the example creates a private bucket and uploads artifact_path there."
  type        = string
  default     = null

  validation {
    condition     = var.artifact_bucket != null || var.artifact_path != null
    error_message = "Give artifact_path (a local zip to upload) or artifact_bucket (a bucket that already holds artifact_key)."
  }
}

variable "artifact_key" {
  description = "Key of the service zip in the artifacts bucket."
  type        = string
  default     = "upload-api/upload-api.zip"
}

variable "certificate_arn" {
  description = "ACM certificate for the load balancer's HTTPS listener. Null: plain HTTP, as for a local or dev stack."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the artifacts bucket with its objects (tests set it)."
  type        = bool
  default     = false
}

variable "restrict_dlq_sources" {
  description = "Let only the job queue itself use its DLQ. The test harness sets false on the local emulator, which lacks redrive-allow policies."
  type        = bool
  default     = true
}
