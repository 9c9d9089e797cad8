# IRSA roles of the operations workloads, each trusted only by its own
# service account: the OpenTelemetry Collector (writes the EMF metrics log
# group), the backup CronJob (writes the backups bucket) and the CloudWatch
# agent / Fluent Bit of the observability add-on (Container Insights); and
# ingress and egress, which in multi-workspace mode reach the Slack
# installations (installations.tf).
locals {
  workloads = {
    collector        = { namespace = var.kubernetes_namespace, service_account = "maria-otel-collector" }
    backup           = { namespace = var.kubernetes_namespace, service_account = "maria-backup" }
    cloudwatch_agent = { namespace = "amazon-cloudwatch", service_account = "cloudwatch-agent" }
    ingress          = { namespace = var.kubernetes_namespace, service_account = "maria-ingress" }
    egress           = { namespace = var.kubernetes_namespace, service_account = "maria-egress" }
  }
}

data "aws_iam_policy_document" "workload_trust" {
  for_each = local.workloads
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
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.eks_oidc_provider_url}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workload" {
  for_each           = local.workloads
  name               = "${local.name}-${replace(each.key, "_", "-")}"
  description        = "IRSA: ${each.value.namespace}/${each.value.service_account}"
  assume_role_policy = data.aws_iam_policy_document.workload_trust[each.key].json
}

# awsemf writes EMF events into the metrics log group (which Terraform
# creates, so no logs:CreateLogGroup).
data "aws_iam_policy_document" "collector" {
  statement {
    sid       = "MetricsLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [aws_cloudwatch_log_group.metrics.arn, "${aws_cloudwatch_log_group.metrics.arn}:log-stream:*"]
  }
}

# maria backup --s3 puts the archive; maria restore gets one. No delete:
# a compromised CronJob cannot destroy earlier backups (versioning keeps
# overwritten ones).
data "aws_iam_policy_document" "backup" {
  statement {
    sid       = "BackupObjects"
    effect    = "Allow"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.files["backups"].arn}/*"]
  }
  statement {
    sid       = "EncryptionKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.maria.arn]
  }
}

resource "aws_iam_policy" "workload" {
  for_each = {
    collector = data.aws_iam_policy_document.collector.json
    backup    = data.aws_iam_policy_document.backup.json
    ingress   = data.aws_iam_policy_document.installations.json
    egress    = data.aws_iam_policy_document.installations.json
  }
  name   = "${local.name}-${each.key}"
  policy = each.value
}

resource "aws_iam_role_policy_attachment" "workload" {
  for_each   = aws_iam_policy.workload
  role       = aws_iam_role.workload[each.key].name
  policy_arn = each.value.arn
}

# The add-on's agent needs AWS's own policy for it (EC2/EKS describe calls,
# metrics and logs of Container Insights).
resource "aws_iam_role_policy_attachment" "cloudwatch_agent" {
  role       = aws_iam_role.workload["cloudwatch_agent"].name
  policy_arn = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
}
