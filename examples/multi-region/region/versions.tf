terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# CloudFront is managed from us-east-1.
provider "aws" {
  alias  = "global"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}

# The home region, where the peering is accepted and the primary admits this region.
provider "aws" {
  alias  = "home"
  region = var.home_region

  default_tags {
    tags = local.tags
  }
}

# Where this region's originals are replicated to (this region when none).
provider "aws" {
  alias  = "replica"
  region = coalesce(var.originals_replica_region, var.region)

  default_tags {
    tags = local.tags
  }
}
