# Multi-workspace mode (SLACK_CLIENT_ID set, MARIA_STORAGE=aws): ingress
# stores installations (the OAuth redirect, app_uninstalled, the links of
# an org-wide install's workspaces) and egress reads them for each
# workspace's token and writes rotated tokens back. Their roles (workloads
# "ingress" and "egress", each trusted only by its own service account)
# reach only the installation items of processors/installstore —
# INSTALL#team.<id>, INSTALL#enterprise.<id> (rotation: a conditional
# UpdateItem on the revision) and INSTALLLINK#<team> — held there by the
# partition key, so thread history, file records and claims stay out of
# reach; and the key, to wrap (kms:Encrypt) and unwrap (kms:Decrypt) the
# data keys sealing the tokens (MARIA_KMS_KEY_ID) and to read the table
# encrypted with it.
data "aws_iam_policy_document" "installations" {
  statement {
    sid       = "InstallationItems"
    effect    = "Allow"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.maria.arn]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["INSTALL#*", "INSTALLLINK#*"]
    }
  }

  statement {
    sid       = "EncryptionKey"
    effect    = "Allow"
    actions   = ["kms:Encrypt", "kms:Decrypt"]
    resources = [aws_kms_key.maria.arn]
  }
}
