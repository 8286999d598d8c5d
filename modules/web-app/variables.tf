variable "name" {
  description = "Prefix of the app's bucket (<name>-web-app) and response headers policy."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,44}[a-z0-9]$", var.name))
    error_message = "name must be 3 to 46 lowercase letters, digits and hyphens, starting and ending with a letter or digit: it prefixes the bucket's name."
  }
}

variable "source_dir" {
  description = "Folder of the built app (web/'s build: index.html and assets/), uploaded as is. scripts/setup builds it into build/web."
  type        = string

  validation {
    condition     = fileexists("${var.source_dir}/index.html")
    error_message = "source_dir must hold the built web app (its index.html): build it with `make web` (or scripts/setup), which writes build/web."
  }
}

variable "config" {
  description = <<-EOT
    The app's configuration, written to config.json beside it at deploy time (with region and cognito_endpoint).
    - api_url: base URL of the upload API (https://): the distribution's own when it serves the API; else name its origin in api_origins.
    - user_pool_id, user_pool_client_id: the pool and the app client the API trusts (SRP sign-in).
    - cdn_base_url: base URL media is served from (https://): the distribution that serves the app.
  EOT
  type = object({
    api_url             = string
    user_pool_id        = string
    user_pool_client_id = string
    cdn_base_url        = string
  })

  validation {
    condition = alltrue([for u in [var.config.api_url, var.config.cdn_base_url] : can(regex("^https://[^/\\s]+(/\\S*)?$", u))])
    # A page served over HTTPS may not call plain HTTP: browsers block it as mixed content.
    error_message = "config.api_url and config.cdn_base_url must be https:// URLs: browsers block plain-HTTP calls from the HTTPS page."
  }
}

variable "region" {
  description = "Region of the user pool (Cognito's endpoint is cognito-idp.<region>.amazonaws.com)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region such as us-east-1."
  }
}

variable "cognito_endpoint" {
  description = "Another Cognito endpoint the app signs in at, for emulators (e.g. https://127.0.0.1:4566); null (the default) on AWS."
  type        = string
  default     = null

  validation {
    condition     = var.cognito_endpoint == null || can(regex("^https://[^/\\s]+/?$", coalesce(var.cognito_endpoint, "-")))
    error_message = "cognito_endpoint must be an https:// endpoint without a path (browsers block plain-HTTP calls from the HTTPS page), or null."
  }
}

variable "upload_origins" {
  description = "Origins the browser uploads to (the originals bucket's presigned URLs), e.g. [\"https://media-originals.s3.us-east-1.amazonaws.com\"]; named in the Content-Security-Policy's connect-src."
  type        = list(string)

  validation {
    condition     = alltrue([for o in var.upload_origins : can(regex("^https://[^/\\s]+$", o))])
    error_message = "upload_origins must hold https origins (scheme and host, no path), such as https://media-originals.s3.us-east-1.amazonaws.com."
  }
}

variable "api_origins" {
  description = "Origins of the API when the app calls it elsewhere than on its distribution (config.api_url's origin then), named in connect-src."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.api_origins : can(regex("^https://[^/\\s]+$", o))])
    error_message = "api_origins must hold https origins (scheme and host, no path), such as https://api.example.com."
  }
}

variable "media_origins" {
  description = "Other origins media is played from (other regions' distributions), beside cdn_base_url."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.media_origins : can(regex("^https://[^/\\s]+$", o))])
    error_message = "media_origins must hold https origins (scheme and host, no path), such as https://d111111abcdef8.cloudfront.net."
  }
}

variable "distribution_arns" {
  description = "ARNs of the CloudFront distributions that serve the app (modules/cdn's distribution_arn): the only readers of its bucket."
  type        = list(string)

  validation {
    condition     = length(var.distribution_arns) > 0 && alltrue([for a in var.distribution_arns : can(regex("^arn:aws[a-z-]*:cloudfront::[0-9]{12}:distribution/[A-Z0-9]+$", a))])
    error_message = "distribution_arns must hold at least one distribution ARN, such as arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket with its objects. The files are made again by each deploy."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags applied to the bucket."
  type        = map(string)
  default     = {}
}
