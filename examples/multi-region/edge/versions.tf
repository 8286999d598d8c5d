terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80, < 7.0"
    }
  }
}

# Route 53 is global, managed from us-east-1.
provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      project = "mediastack"
      example = "multi-region"
    }
  }
}
