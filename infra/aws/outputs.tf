output "images_bucket" {
  description = "MARIA_IMAGES_BUCKET"
  value       = aws_s3_bucket.files["images"].bucket
}

output "docs_bucket" {
  description = "MARIA_DOCS_BUCKET"
  value       = aws_s3_bucket.files["docs"].bucket
}

output "dynamodb_table" {
  description = "MARIA_DYNAMODB_TABLE"
  value       = aws_dynamodb_table.maria.name
}

output "region" {
  description = "AWS_REGION"
  value       = var.region
}

output "storage_role_arn" {
  description = "IRSA role for the maria-storage service account (eks.amazonaws.com/role-arn)"
  value       = aws_iam_role.storage.arn
}

output "external_secrets_role_arn" {
  description = "IRSA role for the maria-external-secrets service account"
  value       = aws_iam_role.external_secrets.arn
}

output "kms_key_arn" {
  description = "Key encrypting the buckets, the table and the secrets"
  value       = aws_kms_key.maria.arn
}

output "secret_names" {
  description = "Secrets Manager secrets to fill in (values are never managed by Terraform)"
  value = concat(
    [for s in aws_secretsmanager_secret.app : s.name],
    [for s in aws_secretsmanager_secret.nats : s.name],
  )
}

output "backups_bucket" {
  description = "Bucket of the backup CronJob (maria backup --s3 s3://<this>/daily/)"
  value       = aws_s3_bucket.files["backups"].bucket
}

output "workload_role_arns" {
  description = "IRSA roles: collector (maria-otel-collector), backup (maria-backup), cloudwatch_agent (the observability add-on), ingress and egress (maria-ingress, maria-egress: Slack installations in multi-workspace mode)"
  value       = { for k, r in aws_iam_role.workload : k => r.arn }
}

output "metrics_log_group" {
  description = "Log group the OpenTelemetry Collector's awsemf exporter writes (infra/k8s/components/cloudwatch)"
  value       = aws_cloudwatch_log_group.metrics.name
}

output "alarm_topic_arn" {
  description = "SNS topic every CloudWatch alarm notifies"
  value       = aws_sns_topic.alarms.arn
}

output "deploy_role_arn" {
  description = "Role of the deploy workflow (GitHub OIDC): the AWS_DEPLOY_ROLE_ARN secret of the GitHub environment(s) in github_environments; null without github_repository"
  value       = one(aws_iam_role.deploy[*].arn)
}
