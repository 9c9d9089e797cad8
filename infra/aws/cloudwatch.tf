# CloudWatch: the same metrics Prometheus scrapes, the logs, the alarms.
#
# Metrics: the OpenTelemetry Collector (infra/k8s/components/cloudwatch)
# scrapes every pod's /metrics exactly as Prometheus does and writes them
# with the awsemf exporter as Embedded Metric Format log events into
# local.metrics_log_group; CloudWatch extracts namespace local.cw_namespace.
# A new metric in the code reaches CloudWatch with no change here. The
# exporter turns counters into per-scrape deltas (Sum over a period =
# Prometheus' increase()) and, with ZeroAndSingleDimensionRollup, also
# publishes every metric without dimensions and per single label — the
# series the alarms below use.
#
# Logs: the amazon-cloudwatch-observability add-on (Container Insights +
# Fluent Bit) ships container stdout (Maria's JSON logs) to
# /aws/containerinsights/<cluster>/application; creating the groups here
# first is how their retention is set.
locals {
  cw_namespace      = "Maria"
  metrics_log_group = "/maria/${var.environment}/metrics"
  container_log_groups = toset(["application", "dataplane", "host", "performance"])
}

resource "aws_cloudwatch_log_group" "containers" {
  for_each          = local.container_log_groups
  name              = "/aws/containerinsights/${var.eks_cluster_name}/${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "metrics" {
  name              = local.metrics_log_group
  retention_in_days = var.metrics_log_retention_days
}

# Container Insights and Fluent Bit, with the role of their service account.
resource "aws_eks_addon" "cloudwatch" {
  cluster_name             = var.eks_cluster_name
  addon_name               = "amazon-cloudwatch-observability"
  service_account_role_arn = aws_iam_role.workload["cloudwatch_agent"].arn
  depends_on               = [aws_cloudwatch_log_group.containers]
}

# Where alarms notify (and recover).
resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each  = var.alarm_emails
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}
