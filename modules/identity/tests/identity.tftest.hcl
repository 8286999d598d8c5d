mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      id = "us-east-1"
    }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id = "us-east-1_AbCdEfGhI"
    }
  }
}

variables {
  name = "media-users"
}

run "defaults_are_secure" {
  command = apply

  assert {
    condition     = aws_cognito_user_pool.this.password_policy[0].minimum_length == 12 && aws_cognito_user_pool.this.password_policy[0].require_symbols
    error_message = "passwords need 12 characters of every class by default"
  }
  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OPTIONAL" && aws_cognito_user_pool.this.software_token_mfa_configuration[0].enabled
    error_message = "users may enrol an authenticator app"
  }
  assert {
    condition     = aws_cognito_user_pool.this.username_attributes == toset(["email"])
    error_message = "users sign in with their email"
  }
  assert {
    condition     = aws_cognito_user_pool_client.this.generate_secret == false
    error_message = "the app client is public: no secret"
  }
  assert {
    condition     = aws_cognito_user_pool_client.this.explicit_auth_flows == toset(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    error_message = "SRP sign-in only by default: the password never leaves the client"
  }
  assert {
    condition     = aws_cognito_user_pool_client.this.prevent_user_existence_errors == "ENABLED"
    error_message = "sign-in errors must not reveal whether a user exists"
  }
  assert {
    condition     = aws_cognito_user_pool_client.this.id_token_validity == 60 && aws_cognito_user_pool_client.this.refresh_token_validity == 30
    error_message = "tokens last an hour, refresh tokens 30 days"
  }
  assert {
    condition     = output.issuer_url == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI" && output.jwks_url == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI/.well-known/jwks.json"
    error_message = "issuer and JWKS URLs follow Cognito's scheme"
  }
  assert {
    condition     = length(aws_cognito_user_pool_domain.this) == 0 && aws_cognito_user_pool_client.this.allowed_oauth_flows_user_pool_client == false
    error_message = "no hosted UI and no OAuth flows unless asked"
  }
}

run "toggles" {
  command = plan

  variables {
    mfa_configuration   = "OFF"
    deletion_protection = "ACTIVE"
    allow_password_auth = true
    token_validity      = { id_token_minutes = 15, access_token_minutes = 15, refresh_token_days = 7 }
    callback_urls       = ["https://app.example.com/callback", "http://localhost:3000/callback"]
    logout_urls         = ["https://app.example.com/"]
    domain_prefix       = "acme-media"
    password_policy     = { minimum_length = 16 }
    tags                = { team = "media" }
  }

  assert {
    condition     = aws_cognito_user_pool.this.mfa_configuration == "OFF" && length(aws_cognito_user_pool.this.software_token_mfa_configuration) == 0
    error_message = "MFA can be turned off"
  }
  assert {
    condition     = contains(aws_cognito_user_pool_client.this.explicit_auth_flows, "ALLOW_USER_PASSWORD_AUTH")
    error_message = "password sign-in only when allowed"
  }
  assert {
    condition     = aws_cognito_user_pool_client.this.allowed_oauth_flows == toset(["code"]) && aws_cognito_user_pool_domain.this[0].domain == "acme-media"
    error_message = "callback URLs turn on the authorization-code flow; a prefix makes the hosted UI"
  }
  assert {
    condition     = aws_cognito_user_pool.this.deletion_protection == "ACTIVE" && aws_cognito_user_pool.this.password_policy[0].minimum_length == 16
    error_message = "deletion protection and password policy reach the pool"
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "media/users"
  }
  expect_failures = [var.name]
}

run "rejects_short_passwords" {
  command = plan
  variables {
    password_policy = { minimum_length = 6 }
  }
  expect_failures = [var.password_policy]
}

run "rejects_bad_temporary_password_validity" {
  command = plan
  variables {
    password_policy = { temporary_password_validity_days = 0 }
  }
  expect_failures = [var.password_policy]
}

run "rejects_bad_mfa" {
  command = plan
  variables {
    mfa_configuration = "REQUIRED"
  }
  expect_failures = [var.mfa_configuration]
}

run "rejects_bad_deletion_protection" {
  command = plan
  variables {
    deletion_protection = "true"
  }
  expect_failures = [var.deletion_protection]
}

run "rejects_bad_token_validity" {
  command = plan
  variables {
    token_validity = { access_token_minutes = 2 }
  }
  expect_failures = [var.token_validity]
}

run "rejects_plain_http_callback" {
  command = plan
  variables {
    callback_urls = ["http://app.example.com/callback"]
  }
  expect_failures = [var.callback_urls]
}

run "rejects_plain_http_logout" {
  command = plan
  variables {
    logout_urls = ["http://app.example.com/"]
  }
  expect_failures = [var.logout_urls]
}

run "rejects_bad_domain_prefix" {
  command = plan
  variables {
    domain_prefix = "Acme_Media"
  }
  expect_failures = [var.domain_prefix]
}
