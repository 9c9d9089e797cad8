# Secret containers only: Terraform never sees the values (they would land in
# its state). An operator sets them (infra/runbooks/rotate-secrets.md):
#   aws secretsmanager put-secret-value --secret-id maria/slack --secret-string file://slack.json
# Names match infra/k8s/external-secrets.yaml; each JSON key is the variable name.
locals {
  app_secrets = {
    slack  = "Slack app: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_APP_TOKEN (JSON keys)"
    openai = "OpenAI: OPENAI_API_KEY (JSON key)"
    odoo   = "Odoo: ODOO_USERNAME, ODOO_PASSWORD (password or API key) (JSON keys)"
  }
}

resource "aws_secretsmanager_secret" "app" {
  for_each                = local.app_secrets
  name                    = "${var.name_prefix}/${each.key}"
  description             = each.value
  kms_key_id              = aws_kms_key.maria.arn
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret" "nats" {
  for_each                = var.services
  name                    = "${var.name_prefix}/nats/${each.key}"
  description             = "NATS credentials file of the ${each.key} service user (infra/nats)"
  kms_key_id              = aws_kms_key.maria.arn
  recovery_window_in_days = 7
}

# The operator user's credentials: declares the MARIA_* streams
# (infra/k8s/job-declare-streams.yaml) and runs maria replay/dlq/trace.
resource "aws_secretsmanager_secret" "nats_operator" {
  name                    = "${var.name_prefix}/nats/operator"
  description             = "NATS credentials file of the operator user (infra/nats): stream declaration and operator commands"
  kms_key_id              = aws_kms_key.maria.arn
  recovery_window_in_days = 7
}
