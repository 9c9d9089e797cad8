# Least privilege per service. storage gets object read/write on the two
# buckets, item access on the table, and use of the key that encrypts them
# (kms:Encrypt too: in multi-workspace mode it stores rotated Slack tokens,
# sealed) — nothing else, no wildcards. ingress and egress reach only the
# installation items (installations.tf); ai and erp get no AWS identity. A
# separate role lets the External Secrets Operator read Maria's secrets
# (infra/k8s/external-secrets.yaml).

data "aws_iam_policy_document" "storage_trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.eks_oidc_provider_url}:sub"
      values   = ["system:serviceaccount:${var.kubernetes_namespace}:maria-storage"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.eks_oidc_provider_url}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "storage" {
  name                 = "${local.name}-storage"
  description          = "Maria storage processor (IRSA: ${var.kubernetes_namespace}/maria-storage)"
  assume_role_policy   = data.aws_iam_policy_document.storage_trust.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "storage" {
  statement {
    sid     = "ObjectsReadWrite"
    effect  = "Allow"
    actions = ["s3:PutObject", "s3:GetObject"]
    resources = [
      "${aws_s3_bucket.files["images"].arn}/*",
      "${aws_s3_bucket.files["docs"].arn}/*",
    ]
  }

  # HeadObject on a missing key answers 404 (not 403) only with ListBucket;
  # the processor relies on that to skip re-uploads of the same file.
  statement {
    sid     = "BucketsList"
    effect  = "Allow"
    actions = ["s3:ListBucket"]
    resources = [
      aws_s3_bucket.files["images"].arn,
      aws_s3_bucket.files["docs"].arn,
    ]
  }

  statement {
    sid    = "TableItems"
    effect = "Allow"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DescribeTable",
    ]
    resources = [
      aws_dynamodb_table.maria.arn,
      "${aws_dynamodb_table.maria.arn}/index/*",
    ]
  }

  statement {
    sid       = "EncryptionKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
    resources = [aws_kms_key.maria.arn]
  }
}

resource "aws_iam_policy" "storage" {
  name        = "${local.name}-storage"
  description = "Maria storage: objects in the images/docs buckets, items in the table"
  policy      = data.aws_iam_policy_document.storage.json
}

resource "aws_iam_role_policy_attachment" "storage" {
  role       = aws_iam_role.storage.name
  policy_arn = aws_iam_policy.storage.arn
}

data "aws_iam_policy_document" "external_secrets_trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.eks_oidc_provider_url}:sub"
      values   = ["system:serviceaccount:${var.kubernetes_namespace}:maria-external-secrets"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.eks_oidc_provider_url}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "external_secrets" {
  name               = "${local.name}-external-secrets"
  description        = "Reads Maria's secrets for the External Secrets Operator (${var.kubernetes_namespace}/maria-external-secrets)"
  assume_role_policy = data.aws_iam_policy_document.external_secrets_trust.json
}

data "aws_iam_policy_document" "external_secrets" {
  statement {
    sid     = "ReadMariaSecrets"
    effect  = "Allow"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = concat(
      [for s in aws_secretsmanager_secret.app : s.arn],
      [for s in aws_secretsmanager_secret.nats : s.arn],
      [aws_secretsmanager_secret.nats_operator.arn],
    )
  }

  statement {
    sid       = "DecryptSecrets"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.maria.arn]
  }
}

resource "aws_iam_policy" "external_secrets" {
  name        = "${local.name}-external-secrets"
  description = "Read Maria's Secrets Manager secrets"
  policy      = data.aws_iam_policy_document.external_secrets.json
}

resource "aws_iam_role_policy_attachment" "external_secrets" {
  role       = aws_iam_role.external_secrets.name
  policy_arn = aws_iam_policy.external_secrets.arn
}
