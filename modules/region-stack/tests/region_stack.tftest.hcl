# Plans of the region stack with a mocked provider: how the modules are wired to each other.
# Computed ids get well-formed mock values so that the child modules' validations see what
# AWS would return.
mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      id = "eu-west-1"
    }
  }
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    }
  }
  mock_data "aws_vpc" {
    defaults = {
      cidr_block = "10.0.0.0/16"
    }
  }
  mock_data "aws_ssm_parameter" {
    defaults = {
      value = "ami-0123456789abcdef0"
    }
  }
  mock_resource "aws_vpc" {
    defaults = {
      id = "vpc-0a1b2c3d4e5f60718"
    }
  }
  mock_resource "aws_subnet" {
    defaults = {
      id = "subnet-0a1b2c3d4e5f60718"
    }
  }
  mock_resource "aws_security_group" {
    defaults = {
      id = "sg-0a1b2c3d4e5f60718"
    }
  }
  mock_resource "aws_vpc_endpoint" {
    defaults = {
      prefix_list_id = "pl-6da54004"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111122223333:media-transcode"
      url = "https://sqs.eu-west-1.amazonaws.com/111122223333/media-transcode"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:111122223333:media-media-events"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/media-role"
    }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::111122223333:instance-profile/media-upload-api"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:media"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:eu-west-1:111122223333:function:media-transcoder"
    }
  }
  mock_resource "aws_launch_template" {
    defaults = {
      id = "lt-0a1b2c3d4e5f60718"
    }
  }
  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/media-api/0123456789abcdef"
      arn_suffix = "app/media-api/0123456789abcdef"
      dns_name   = "media-api-123456.eu-west-1.elb.amazonaws.com"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/media-api-tg/0123456789abcdef"
      arn_suffix = "targetgroup/media-api-tg/0123456789abcdef"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      id  = "media-bucket"
      arn = "arn:aws:s3:::media-bucket"
    }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id  = "eu-west-1_AbCdEfGhI"
      arn = "arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_AbCdEfGhI"
    }
  }
  mock_resource "aws_db_instance" {
    defaults = {
      address            = "media-media.abc123.eu-west-1.rds.amazonaws.com"
      master_user_secret = [{ secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-0a1b2c-AbCdEf", kms_key_id = "", secret_status = "active" }]
    }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = {
      arn = "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/media-countries/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    }
  }
}

variables {
  name            = "media"
  upload_api      = { zip_path = "../transcoder/tests/testdata/function.zip" }
  transcoder      = { zip_path = "../transcoder/tests/testdata/function.zip" }
  certificate_arn = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
}

run "defaults_wire_the_region" {
  command = apply

  assert {
    condition     = length(local.cdn_environment) == 0
    error_message = "without a CDN the programs get no CDN settings"
  }
  assert {
    condition     = module.transcoder.function_name == "media-transcoder" && output.transcoder_function_name == "media-transcoder"
    error_message = "names derive from var.name"
  }
  assert {
    condition     = output.api_url == "https://media-api-123456.eu-west-1.elb.amazonaws.com"
    error_message = "with a certificate the API is served over HTTPS"
  }
  assert {
    condition     = output.database_secret_arn == "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-0a1b2c-AbCdEf"
    error_message = "the database's RDS-managed secret is handed out"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.transcoder_https.from_port == 443 && aws_vpc_security_group_egress_rule.database["transcoder"].from_port == 5432 && aws_vpc_security_group_egress_rule.database["upload_api"].to_port == 5432
    error_message = "the function and the fleet reach the database on its port only"
  }
  assert {
    condition     = startswith(aws_s3_object.upload_api.key, "upload-api/") && endswith(aws_s3_object.upload_api.key, ".zip")
    error_message = "the fleet's artifact is stored under a content-addressed key, so a new build rolls the fleet"
  }
  assert {
    condition     = contains(data.aws_iam_policy_document.upload_api.statement[1].actions, "s3:ListBucketMultipartUploads")
    error_message = "the API may list the originals' multipart uploads, to check an upload id before completing it"
  }
}

run "no_worker_fleet_by_default" {
  command = plan

  assert {
    condition     = length(module.transcode_workers) == 0 && length(module.worker_queue) == 0 && output.transcode_workers_asg_name == null
    error_message = "no worker fleet unless asked"
  }
}

run "worker_fleet_takes_what_the_function_cannot_hold" {
  command = apply

  variables {
    worker_fleet = { zip_path = "../transcoder/tests/testdata/function.zip", max_instances = 6, route_above_bytes = 2000000000 }
  }

  assert {
    condition     = module.transcode_workers[0].name == "media-transcode-workers" && output.transcode_workers_asg_name == "media-transcode-workers"
    error_message = "the fleet is named after the stack"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.database["transcode_workers"].from_port == 5432
    error_message = "the workers reach the database on its port"
  }
  assert {
    condition     = startswith(aws_s3_object.transcode_worker[0].key, "transcode-worker/")
    error_message = "the workers' artifact is content-addressed"
  }
  assert {
    condition     = module.worker_queue[0].visibility_timeout_seconds >= 300
    error_message = "the workers' queue hides a job at least as long as a worker holds it before renewing"
  }
}

run "rejects_worker_visibility_too_short" {
  command = plan

  variables {
    worker_fleet = { zip_path = "../transcoder/tests/testdata/function.zip", visibility_seconds = 20 }
  }

  expect_failures = [var.worker_fleet]
}

run "cdn_and_signing_reach_both_programs" {
  command = apply

  variables {
    cdn = {
      base_url          = "https://d111111abcdef8.cloudfront.net"
      distribution_arns = ["arn:aws:cloudfront::111122223333:distribution/E2QWRUHAPOMQZL"]
      signing = {
        key_pair_id            = "K2JCJMDEHXQW5F"
        private_key_secret_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:media-cdn-key-AbCdEf"
      }
    }
  }

  assert {
    condition     = local.cdn_environment["CDN_BASE_URL"] == "https://d111111abcdef8.cloudfront.net" && local.cdn_environment["CDN_KEY_PAIR_ID"] == "K2JCJMDEHXQW5F" && local.cdn_environment["CDN_PRIVATE_KEY_SECRET_ARN"] == "arn:aws:secretsmanager:eu-west-1:111122223333:secret:media-cdn-key-AbCdEf"
    error_message = "the CDN's URL and signing key reach the programs' environment"
  }
  assert {
    condition     = contains(data.aws_iam_policy_document.upload_api.statement[2].resources, "arn:aws:secretsmanager:eu-west-1:111122223333:secret:media-cdn-key-AbCdEf")
    error_message = "the fleet may read the signing key's secret"
  }
  assert {
    condition     = local.cdn_environment["CDN_DISTRIBUTION_ID"] == "E2QWRUHAPOMQZL" && one([for st in data.aws_iam_policy_document.upload_api.statement : st.resources if st.sid == "InvalidateDeletedMedia"]) == toset(["arn:aws:cloudfront::111122223333:distribution/E2QWRUHAPOMQZL"])
    error_message = "the API invalidates a deleted media's files on the region's distribution, and may"
  }
}

run "deletion_protection_reaches_every_stateful_piece" {
  command = plan

  variables {
    deletion_protection = true
  }

  assert {
    condition     = module.identity[0].user_pool_id != null && var.deletion_protection
    error_message = "the stack plans with deletion protection"
  }
}

run "a_region_with_a_home_shares_its_pool_and_catalogue" {
  command = apply

  variables {
    name    = "media-euw1"
    network = { cidr_block = "10.1.0.0/16" }
    home = {
      identity = { user_pool_id = "us-east-1_AbCdEfGhI", client_id = "1example23456789", issuer_url = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI" }
      database = {
        instance_arn = "arn:aws:rds:us-east-1:111122223333:db:media-use1-media"
        address      = "media-use1-media.abc123.us-east-1.rds.amazonaws.com"
        secret_arn   = "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-home-AbCdEf"
        cidr_block   = "10.0.0.0/16"
      }
    }
  }

  assert {
    condition     = length(module.identity) == 0 && output.user_pool_id == "us-east-1_AbCdEfGhI" && output.issuer_url == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI"
    error_message = "no user pool of its own: the API trusts the home region's"
  }
  assert {
    condition     = local.database_environment["DB_HOST"] == "media-use1-media.abc123.us-east-1.rds.amazonaws.com" && local.database_environment["DB_SECRET_ARN"] == "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-home-AbCdEf"
    error_message = "both programs write to the home region's primary, with its secret"
  }
  assert {
    condition     = local.catalogue_environment["DB_READ_HOST"] == "media-media.abc123.eu-west-1.rds.amazonaws.com" && local.catalogue_environment["HOME_REGION"] == "us-east-1"
    error_message = "the API reads what may lag from this region's replica"
  }
  assert {
    condition     = module.database.replicate_source_db == "arn:aws:rds:us-east-1:111122223333:db:media-use1-media"
    error_message = "this region's database is a read replica of the home primary"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.primary["upload_api"].cidr_ipv4 == "10.0.0.0/16" && aws_vpc_security_group_egress_rule.primary["transcoder"].from_port == 5432
    error_message = "the programs reach the primary over the peering, on its port only"
  }
  assert {
    condition     = contains(data.aws_iam_policy_document.upload_api.statement[2].resources, "arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-home-AbCdEf")
    error_message = "the fleet may read the primary's secret"
  }
}

run "the_home_region_has_its_own_pool_and_primary" {
  command = plan

  assert {
    condition     = length(module.identity) == 1 && !contains(keys(local.catalogue_environment), "DB_READ_HOST") && local.catalogue_environment["HOME_REGION"] == "eu-west-1" && length(aws_vpc_security_group_egress_rule.primary) == 0
    error_message = "the home region has its own pool and primary"
  }
}

run "rejects_home_with_a_bad_issuer" {
  command = plan
  variables {
    home = {
      identity = { user_pool_id = "us-east-1_AbCdEfGhI", client_id = "1example23456789", issuer_url = "https://example.com/pool" }
      database = { instance_arn = "arn:aws:rds:us-east-1:111122223333:db:x", address = "x", secret_arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:x", cidr_block = "10.0.0.0/16" }
    }
  }
  expect_failures = [var.home]
}

run "country_rules_guard_the_api_and_sign_in" {
  command = plan

  variables {
    allowed_countries = ["US", "CA"]
  }

  assert {
    condition     = one(one(one(one(one(aws_wafv2_web_acl.countries[0].rule).statement).not_statement).statement).geo_match_statement).country_codes == tolist(["US", "CA"])
    error_message = "the web ACL blocks whatever is not in the allowed countries"
  }
  assert {
    condition     = one(one(one(one(aws_wafv2_web_acl.countries[0].rule).action).block).custom_response).response_code == 403 && strcontains(one(aws_wafv2_web_acl.countries[0].custom_response_body).content, "not available in your country")
    error_message = "a refused client gets a 403 that says why"
  }
  assert {
    condition     = toset(keys(aws_wafv2_web_acl_association.countries)) == toset(["api", "sign_in"])
    error_message = "the load balancer and the user pool are both guarded"
  }
}

run "no_country_rules_by_default" {
  command = plan

  assert {
    condition     = length(aws_wafv2_web_acl.countries) == 0 && length(aws_wafv2_web_acl_association.countries) == 0
    error_message = "no web ACL (it costs) unless countries are given"
  }
}

run "rejects_lowercase_country" {
  command = plan
  variables {
    allowed_countries = ["us"]
  }
  expect_failures = [var.allowed_countries]
}

run "outcome_emails_are_off_by_default" {
  command = plan

  assert {
    condition     = length(local.notification_environment) == 0 && length(aws_sesv2_email_identity.notifications) == 0
    error_message = "without a sender no email is sent and no SES identity made"
  }
}

run "outcome_emails_reach_the_transcoder" {
  command = apply

  variables {
    notifications = { email_from = "media@example.com" }
    cdn = {
      base_url          = "https://d111111abcdef8.cloudfront.net"
      distribution_arns = ["arn:aws:cloudfront::111122223333:distribution/E2QWRUHAPOMQZL"]
      api_base_url      = "https://d111111abcdef8.cloudfront.net"
    }
  }

  assert {
    condition     = local.notification_environment["NOTIFY_EMAIL_FROM"] == "media@example.com" && local.notification_environment["MEDIA_LINK_TEMPLATE"] == "https://d111111abcdef8.cloudfront.net/v1/media/{media_id}"
    error_message = "the sender and a link to the media's view through the CDN reach the transcoder"
  }
  assert {
    condition     = aws_sesv2_email_identity.notifications[0].email_identity == "media@example.com"
    error_message = "the sender's SES identity is created"
  }
  assert {
    condition     = local.email_identity_arns == tolist(["arn:aws:ses:eu-west-1:111122223333:identity/media@example.com", "arn:aws:ses:eu-west-1:111122223333:identity/example.com"])
    error_message = "the transcoder may send as the address verified by itself or by its domain"
  }
}

run "outcome_email_link_and_existing_identity" {
  command = plan

  variables {
    notifications = { email_from = "media@example.com", media_link = "https://app.example.com/watch/{media_id}", create_identity = false }
  }

  assert {
    condition     = local.notification_environment["MEDIA_LINK_TEMPLATE"] == "https://app.example.com/watch/{media_id}" && length(aws_sesv2_email_identity.notifications) == 0
    error_message = "a given link is used, and an identity verified elsewhere is not created again"
  }
}

run "rejects_sender_with_display_name" {
  command = plan
  variables {
    notifications = { email_from = "Media <media@example.com>" }
  }
  expect_failures = [var.notifications]
}

run "rejects_link_without_media_id" {
  command = plan
  variables {
    notifications = { email_from = "media@example.com", media_link = "https://app.example.com/watch" }
  }
  expect_failures = [var.notifications]
}

run "rejects_wildcard_cors_origin" {
  command = plan
  variables {
    cors_allowed_origins = ["https://app.example.com", "*"]
  }
  expect_failures = [var.cors_allowed_origins]
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "Media_Stack"
  }
  expect_failures = [var.name]
}

run "rejects_long_name" {
  command = plan
  variables {
    name = "a-name-that-is-too-long-for-albs"
  }
  expect_failures = [var.name]
}

run "rejects_bad_cidr" {
  command = plan
  variables {
    network = { cidr_block = "10.0.0.0/8" }
  }
  expect_failures = [var.network]
}

run "rejects_one_zone" {
  command = plan
  variables {
    network = { az_count = 1 }
  }
  expect_failures = [var.network]
}

run "rejects_bad_certificate_arn" {
  command = plan
  variables {
    certificate_arn = "my-certificate"
  }
  expect_failures = [var.certificate_arn]
}

run "rejects_bad_ingress_cidr" {
  command = plan
  variables {
    ingress_cidr_blocks = ["everywhere"]
  }
  expect_failures = [var.ingress_cidr_blocks]
}

run "rejects_missing_upload_api_zip" {
  command = plan
  variables {
    upload_api = { zip_path = "build/missing.zip" }
  }
  expect_failures = [var.upload_api]
}

run "rejects_bad_upload_limits" {
  command = plan
  variables {
    upload_api = { zip_path = "../transcoder/tests/testdata/function.zip", multipart_threshold_bytes = 1024 }
  }
  expect_failures = [var.upload_api]
}

run "rejects_bad_requests_per_target" {
  command = plan
  variables {
    upload_api = { zip_path = "../transcoder/tests/testdata/function.zip", requests_per_target = 0 }
  }
  expect_failures = [var.upload_api]
}

run "rejects_missing_transcoder_zip" {
  command = plan
  variables {
    transcoder = { zip_path = "build/missing.zip" }
  }
  expect_failures = [var.transcoder]
}

run "rejects_bad_storage_class" {
  command = plan
  variables {
    derivatives_storage_class = "GLACIER"
  }
  expect_failures = [var.derivatives_storage_class]
}

run "rejects_cdn_url_with_path" {
  command = plan
  variables {
    cdn = { base_url = "https://d111111abcdef8.cloudfront.net/media", distribution_arns = [] }
  }
  expect_failures = [var.cdn]
}

run "rejects_bad_signing_secret" {
  command = plan
  variables {
    cdn = { base_url = "https://d111111abcdef8.cloudfront.net", distribution_arns = [], signing = { key_pair_id = "K2JCJMDEHXQW5F", private_key_secret_arn = "my-secret" } }
  }
  expect_failures = [var.cdn]
}
