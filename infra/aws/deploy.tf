# The AWS identity of the deploy workflow (.github/workflows/deploy.yml):
# its jobs exchange GitHub Actions' OIDC token for this role
# (aws-actions/configure-aws-credentials), so no AWS key is stored in
# GitHub. Created only when github_repository is set.
#
# Trust: only the deploy jobs of that repository running in the GitHub
# environments of github_environments (subject
# repo:<owner/name>:environment:<env>, audience sts.amazonaws.com) — not a
# branch, a pull request or another environment. Apply once per
# environment with that environment alone: production's role must not be
# assumable by the staging job, which runs without production's approval.
#
# Permissions: eks:DescribeCluster on this cluster (aws eks
# update-kubeconfig) and nothing else in IAM; inside the cluster an access
# entry with AmazonEKSAdminPolicy scoped to Maria's namespace — Edit is not
# enough: the overlays apply a Role and a RoleBinding (the collector's). The
# image is in GHCR (image.yml), so no ECR permission.
locals {
  deploy           = var.github_repository != ""
  github_oidc_host = "token.actions.githubusercontent.com"
  github_oidc_provider_arn = (
    var.github_oidc_provider_arn != "" ? var.github_oidc_provider_arn : one(aws_iam_openid_connect_provider.github[*].arn)
  )
  deploy_access_policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"
}

# One provider per URL per account: the second environment's apply in the
# same account passes the first one's ARN as github_oidc_provider_arn.
# No thumbprint_list: IAM checks GitHub's certificate against its own CAs.
resource "aws_iam_openid_connect_provider" "github" {
  count          = local.deploy && var.github_oidc_provider_arn == "" ? 1 : 0
  url            = "https://${local.github_oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_eks_cluster" "maria" {
  count = local.deploy ? 1 : 0
  name  = var.eks_cluster_name
}

data "aws_iam_policy_document" "deploy_trust" {
  count = local.deploy ? 1 : 0
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:sub"
      values   = [for env in var.github_environments : "repo:${var.github_repository}:environment:${env}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  count                = local.deploy ? 1 : 0
  name                 = "${local.name}-deploy"
  description          = "GitHub Actions deploy of ${var.github_repository} (${join(", ", var.github_environments)}) to ${var.eks_cluster_name}/${var.kubernetes_namespace}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust[0].json
  max_session_duration = 3600

  lifecycle {
    precondition {
      condition     = length(var.github_environments) > 0
      error_message = "github_environments: name the GitHub environment whose deploy job may assume this role (staging or production)."
    }
  }
}

data "aws_iam_policy_document" "deploy" {
  count = local.deploy ? 1 : 0
  statement {
    sid       = "Kubeconfig"
    effect    = "Allow"
    actions   = ["eks:DescribeCluster"]
    resources = [data.aws_eks_cluster.maria[0].arn]
  }
}

resource "aws_iam_policy" "deploy" {
  count       = local.deploy ? 1 : 0
  name        = "${local.name}-deploy"
  description = "Maria deploy workflow: describe the cluster for kubectl"
  policy      = data.aws_iam_policy_document.deploy[0].json
}

resource "aws_iam_role_policy_attachment" "deploy" {
  count      = local.deploy ? 1 : 0
  role       = aws_iam_role.deploy[0].name
  policy_arn = aws_iam_policy.deploy[0].arn
}

# The cluster must accept access entries (authentication mode API or
# API_AND_CONFIG_MAP). The group lets an in-cluster RoleBinding add what no
# EKS access policy covers — the External Secrets Operator's custom
# resources (ExternalSecret, SecretStore): infra/aws/README.md "Deploy role".
resource "aws_eks_access_entry" "deploy" {
  count             = local.deploy ? 1 : 0
  cluster_name      = var.eks_cluster_name
  principal_arn     = aws_iam_role.deploy[0].arn
  type              = "STANDARD"
  kubernetes_groups = ["maria-deployers"]
}

resource "aws_eks_access_policy_association" "deploy" {
  count         = local.deploy ? 1 : 0
  cluster_name  = var.eks_cluster_name
  principal_arn = aws_eks_access_entry.deploy[0].principal_arn
  policy_arn    = local.deploy_access_policy

  access_scope {
    type       = "namespace"
    namespaces = [var.kubernetes_namespace]
  }
}
