mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
}

variables {
  name       = "media"
  source_dir = "tests/app"
  config = {
    api_url             = "https://d111111abcdef8.cloudfront.net"
    user_pool_id        = "us-east-1_abcdefghi"
    user_pool_client_id = "client123"
    cdn_base_url        = "https://d111111abcdef8.cloudfront.net"
  }
  region            = "us-east-1"
  upload_origins    = ["https://media-originals.s3.us-east-1.amazonaws.com"]
  distribution_arns = ["arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456"]
}

run "files_config_and_headers" {
  command = plan

  assert {
    condition     = toset([for o in aws_s3_object.files : o.key]) == toset(["app/index.html", "app/assets/main-TEST.js"])
    error_message = "every built file goes under app/"
  }
  assert {
    condition = (aws_s3_object.files["assets/main-TEST.js"].cache_control == "public, max-age=31536000, immutable" &&
      aws_s3_object.files["assets/main-TEST.js"].content_type == "text/javascript; charset=utf-8" &&
    aws_s3_object.files["index.html"].cache_control == "no-cache")
    error_message = "hashed assets are kept, the page revalidated, each with its content type"
  }
  assert {
    condition     = aws_s3_object.folder_index.key == "app/" && aws_s3_object.folder_index.content_type == "text/html; charset=utf-8"
    error_message = "the folder's own key serves the page, so that /app/ opens the app"
  }
  assert {
    condition     = jsondecode(aws_s3_object.config.content).user_pool_client_id == "client123" && jsondecode(aws_s3_object.config.content).region == "us-east-1" && jsondecode(aws_s3_object.config.content).cognito_endpoint == null
    error_message = "config.json holds the stack's names, written at deploy time"
  }
  assert {
    condition = (strcontains(output.content_security_policy, "default-src 'none'") &&
      strcontains(output.content_security_policy, "script-src 'self';") &&
      strcontains(output.content_security_policy, "connect-src 'self' https://cognito-idp.us-east-1.amazonaws.com https://media-originals.s3.us-east-1.amazonaws.com;") &&
    strcontains(output.content_security_policy, "frame-ancestors 'none'"))
    error_message = "the policy names only the stack's own origins"
  }
  assert {
    condition = (one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).strict_transport_security).access_control_max_age_sec >= 31536000 &&
      one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).content_type_options).override &&
    one(one(aws_cloudfront_response_headers_policy.this.security_headers_config).frame_options).frame_option == "DENY")
    error_message = "HSTS for a year or more, nosniff and no framing"
  }
  assert {
    condition = (one(data.aws_iam_policy_document.read.statement[0].principals).identifiers == toset(["cloudfront.amazonaws.com"]) &&
    one(data.aws_iam_policy_document.read.statement[0].condition).values == tolist(["arn:aws:cloudfront::111122223333:distribution/E2ABCDEF123456"]))
    error_message = "only the given distributions read the app"
  }
}

run "an_emulator_endpoint_is_named" {
  command = plan

  variables {
    cognito_endpoint = "https://127.0.0.1:4566/"
    upload_origins   = ["https://127.0.0.1:4566"]
  }

  assert {
    condition     = strcontains(output.content_security_policy, "connect-src 'self' https://127.0.0.1:4566;")
    error_message = "an emulator's endpoint stands for Cognito and the uploads bucket"
  }
  assert {
    condition     = jsondecode(aws_s3_object.config.content).cognito_endpoint == "https://127.0.0.1:4566/"
    error_message = "the app is told where Cognito is"
  }
}

run "plain_http_is_refused" {
  command = plan

  variables {
    config = {
      api_url             = "http://api.example.com"
      user_pool_id        = "us-east-1_abcdefghi"
      user_pool_client_id = "client123"
      cdn_base_url        = "https://d111111abcdef8.cloudfront.net"
    }
  }
  expect_failures = [var.config]
}

run "an_unbuilt_app_is_refused" {
  command = plan

  variables {
    source_dir = "tests/missing"
  }
  expect_failures = [var.source_dir]
}

run "upload_origins_are_origins" {
  command = plan

  variables {
    upload_origins = ["https://media-originals.s3.us-east-1.amazonaws.com/uploads"]
  }
  expect_failures = [var.upload_origins]
}
