variable "region" {
  description = "AWS region for every resource (AWS_REGION of the services)."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name, part of every resource name (prod, staging, ...)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9-]{2,16}$", var.environment))
    error_message = "environment: 2-16 lowercase letters, digits or dashes."
  }
}

variable "name_prefix" {
  description = "Prefix of bucket, table, role and secret names; bucket names are global, so make it yours."
  type        = string
  default     = "maria"
}

variable "retention_days" {
  description = "Days objects (current versions) are kept; matches MARIA_STORAGE_RETENTION (default 90 days) of the storage processor."
  type        = number
  default     = 90
  validation {
    condition     = var.retention_days >= 1
    error_message = "retention_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version stays recoverable."
  type        = number
  default     = 30
}

variable "kubernetes_namespace" {
  description = "Namespace of the Maria deployments (infra/k8s)."
  type        = string
  default     = "maria"
}

variable "eks_oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (IRSA). The storage role trusts only maria-storage's service account through it."
  type        = string
}

variable "eks_oidc_provider_url" {
  description = "Issuer URL of that OIDC provider without https:// (oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string
}

variable "services" {
  description = "Maria services that get their own NATS credentials secret (infra/nats users)."
  type        = set(string)
  default = [
    "ingress", "egress", "ai", "erp", "storage",
    # maria new processor: services
  ]
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "eks_cluster_name" {
  description = "Name of the EKS cluster Maria runs in: Container Insights log groups and the CloudWatch observability add-on."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the containers' logs (Container Insights application/dataplane/host groups)."
  type        = number
  default     = 30
}

variable "metrics_log_retention_days" {
  description = "Days CloudWatch keeps the EMF log events the collector writes (the metrics themselves are kept 15 months by CloudWatch)."
  type        = number
  default     = 7
}

variable "alarm_emails" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = set(string)
  default     = []
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose deploy workflow may assume the deploy role (deploy.tf); empty: no deploy role."
  type        = string
  default     = ""
  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository: owner/name, no wildcards."
  }
}

variable "github_environments" {
  description = "GitHub environments (staging, production) whose deploy job may assume the deploy role: the one deploying to this apply's cluster and namespace."
  type        = set(string)
  default     = []
  validation {
    condition     = length(setsubtract(var.github_environments, ["staging", "production"])) == 0
    error_message = "github_environments: only \"staging\" and \"production\" (the environments of .github/workflows/deploy.yml)."
  }
}

variable "github_oidc_provider_arn" {
  description = "ARN of an existing IAM OIDC provider for token.actions.githubusercontent.com (one per account); empty: this apply creates it."
  type        = string
  default     = ""
  validation {
    condition     = var.github_oidc_provider_arn == "" || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn: the ARN of the token.actions.githubusercontent.com provider, or empty."
  }
}
