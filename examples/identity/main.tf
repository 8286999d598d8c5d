# The user pool and app client the upload API trusts.
module "identity" {
  source = "../../modules/identity"

  name                = "${var.name_prefix}-users"
  allow_password_auth = var.allow_password_auth
}
