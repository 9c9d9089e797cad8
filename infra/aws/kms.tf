# One customer-managed key encrypts the buckets, the table and the secrets, so
# access to data needs both the resource permission and kms on this key.
resource "aws_kms_key" "maria" {
  description             = "${local.name}: S3 objects, DynamoDB table, Secrets Manager secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "maria" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.maria.key_id
}

locals {
  name = "${var.name_prefix}-${var.environment}"
}
