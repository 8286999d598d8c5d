# A private bucket for build artifacts, with a caller statement that keeps deletes to one role.
data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "deny_deletes" {
  statement {
    sid       = "DenyObjectDeletesButDeployer"
    effect    = "Deny"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["arn:aws:s3:::${var.name_prefix}-artifacts/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/deployer"]
    }
  }
}

module "artifacts" {
  source = "../../modules/private-bucket"

  name             = "${var.name_prefix}-artifacts"
  policy_documents = [data.aws_iam_policy_document.deny_deletes.json]
  force_destroy    = var.force_destroy
  tags             = { project = "mediastack", example = "private-bucket" }
}
