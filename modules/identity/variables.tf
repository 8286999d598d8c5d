variable "name" {
  description = "Name of the user pool and prefix of its app client: letters, digits, spaces and + = , . @ -, at most 100 characters."
  type        = string

  validation {
    condition     = can(regex("^[\\w\\s+=,.@-]{1,100}$", var.name))
    error_message = "name must be 1 to 100 letters, digits, spaces or + = , . @ - characters."
  }
}

variable "password_policy" {
  description = "Password rules for users of the pool."
  type = object({
    minimum_length                   = optional(number, 12)
    require_lowercase                = optional(bool, true)
    require_uppercase                = optional(bool, true)
    require_numbers                  = optional(bool, true)
    require_symbols                  = optional(bool, true)
    temporary_password_validity_days = optional(number, 3)
  })
  default = {}

  validation {
    condition     = var.password_policy.minimum_length >= 8 && var.password_policy.minimum_length <= 99
    error_message = "password_policy.minimum_length must be from 8 to 99 (12 or more is recommended)."
  }

  validation {
    condition     = var.password_policy.temporary_password_validity_days >= 1 && var.password_policy.temporary_password_validity_days <= 365
    error_message = "password_policy.temporary_password_validity_days must be from 1 to 365."
  }
}

variable "mfa_configuration" {
  description = "Multi-factor authentication: OFF, OPTIONAL (users may enrol an authenticator app) or ON (every user must)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OFF", "OPTIONAL", "ON"], var.mfa_configuration)
    error_message = "mfa_configuration must be OFF, OPTIONAL or ON."
  }
}

variable "deletion_protection" {
  description = "ACTIVE refuses deletion of the pool (and its users) until turned INACTIVE. Recommended in production; blocks `terraform destroy`."
  type        = string
  default     = "INACTIVE"

  validation {
    condition     = contains(["ACTIVE", "INACTIVE"], var.deletion_protection)
    error_message = "deletion_protection must be ACTIVE or INACTIVE."
  }
}

variable "allow_password_auth" {
  description = "Let the client sign in with USER_PASSWORD_AUTH (the password sent to Cognito over TLS, without SRP). For demos, tests and trusted server-side clients only."
  type        = bool
  default     = false
}

variable "token_validity" {
  description = "Lifetimes of the tokens: id and access tokens in minutes (5 to 1440), refresh tokens in days (1 to 3650)."
  type = object({
    id_token_minutes     = optional(number, 60)
    access_token_minutes = optional(number, 60)
    refresh_token_days   = optional(number, 30)
  })
  default = {}

  validation {
    condition = (var.token_validity.id_token_minutes >= 5 && var.token_validity.id_token_minutes <= 1440 &&
      var.token_validity.access_token_minutes >= 5 && var.token_validity.access_token_minutes <= 1440 &&
    var.token_validity.refresh_token_days >= 1 && var.token_validity.refresh_token_days <= 3650)
    error_message = "token_validity: id and access tokens from 5 to 1440 minutes, refresh tokens from 1 to 3650 days."
  }
}

variable "callback_urls" {
  description = "Where the hosted UI may send users after sign-in (https://, or http://localhost for development). Empty: no OAuth flows."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for u in var.callback_urls : can(regex("^(https://[^\\s]+|http://localhost(:[0-9]+)?(/[^\\s]*)?)$", u))])
    error_message = "callback_urls must be https:// URLs (or http://localhost for development)."
  }
}

variable "logout_urls" {
  description = "Where the hosted UI may send users after sign-out."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for u in var.logout_urls : can(regex("^(https://[^\\s]+|http://localhost(:[0-9]+)?(/[^\\s]*)?)$", u))])
    error_message = "logout_urls must be https:// URLs (or http://localhost for development)."
  }
}

variable "domain_prefix" {
  description = "Prefix of the hosted UI domain (<prefix>.auth.<region>.amazoncognito.com). Null: no hosted UI."
  type        = string
  default     = null

  validation {
    condition     = var.domain_prefix == null || can(regex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", var.domain_prefix))
    error_message = "domain_prefix must be 1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags applied to the user pool."
  type        = map(string)
  default     = {}
}
