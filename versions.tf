terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }
}

# The first region in var.regions.
provider "aws" {
  region = var.regions[0]

  default_tags {
    tags = var.tags
  }
}

# The second region; configured with the first when there is only one, and then unused.
provider "aws" {
  alias  = "secondary"
  region = element(var.regions, length(var.regions) - 1)

  default_tags {
    tags = var.tags
  }
}

# CloudFront, its certificates and Route 53 are global services managed from us-east-1.
provider "aws" {
  alias  = "global"
  region = "us-east-1"

  default_tags {
    tags = var.tags
  }
}
