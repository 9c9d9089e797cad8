# Single-table design of the storage processor (MARIA_DYNAMODB_TABLE): thread
# history, file records and idempotency records, keyed by pk/sk; records carry
# an epoch-seconds "ttl" attribute so DynamoDB deletes them after retention.
resource "aws_dynamodb_table" "maria" {
  name         = local.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  range_key    = "sk"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.maria.arn
  }

  deletion_protection_enabled = true
}
