# Three buckets: images (MARIA_IMAGES_BUCKET), other files (MARIA_DOCS_BUCKET)
# and the `maria backup --s3` archives of the NATS streams (backup CronJob).
# Private, versioned, KMS-encrypted, TLS-only, expiring after retention_days.
locals {
  buckets = {
    images  = "${local.name}-images"
    docs    = "${local.name}-docs"
    backups = "${local.name}-backups"
  }
}

resource "aws_s3_bucket" "files" {
  for_each = local.buckets
  bucket   = each.value
}

resource "aws_s3_bucket_ownership_controls" "files" {
  for_each = aws_s3_bucket.files
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "files" {
  for_each                = aws_s3_bucket.files
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "files" {
  for_each = aws_s3_bucket.files
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.maria.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "files" {
  for_each = aws_s3_bucket.files
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "files" {
  for_each = aws_s3_bucket.files
  bucket   = each.value.id

  # Versioning must be on before noncurrent-version rules apply.
  depends_on = [aws_s3_bucket_versioning.files]

  rule {
    id     = "retention"
    status = "Enabled"
    filter {}

    expiration {
      days = var.retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expired-delete-markers"
    status = "Enabled"
    filter {}

    expiration {
      expired_object_delete_marker = true
    }
  }
}

data "aws_iam_policy_document" "files_tls_only" {
  for_each = aws_s3_bucket.files

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "files" {
  for_each = aws_s3_bucket.files
  bucket   = each.value.id
  policy   = data.aws_iam_policy_document.files_tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.files]
}
