terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Configure remote state per environment, e.g.:
  #   terraform init -backend-config="bucket=acme-tfstate" -backend-config="key=maria/prod.tfstate" \
  #                  -backend-config="region=eu-west-1" -backend-config="use_lockfile=true"
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Application = "maria"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
