# Each policy rejects a plan that violates it and accepts one that does not.
# Run with: go tool -modfile=tools/conftest.mod conftest verify --policy policies
package main

import rego.v1

# plan wraps resources (address, type, values) into the planned_values of a plan, inside one
# child module, as terraform show -json writes them.
plan(resources) := {"planned_values": {"root_module": {"child_modules": [{
	"address": "module.m",
	"resources": [r |
		some x in resources
		r := object.union({"mode": "managed", "address": sprintf("module.m.%s.this", [x.type]), "name": "this"}, x)
	],
}]}}}

# state is the same, shaped as terraform show -json of a state.
state(resources) := {"values": plan(resources).planned_values}

tls_policy := json.marshal({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Principal": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})

good_bucket := [
	{"type": "aws_s3_bucket", "values": {"bucket": "b"}},
	{"type": "aws_s3_bucket_public_access_block", "values": {"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}},
	{"type": "aws_s3_bucket_server_side_encryption_configuration", "values": {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}]}},
	{"type": "aws_s3_bucket_policy", "values": {"policy": tls_policy}},
]

replace(resources, t, values) := [r |
	some x in resources
	r := _replaced(x, t, values)
]

_replaced(x, t, values) := {"type": t, "values": values} if x.type == t

else := x

without(resources, t) := [x | some x in resources; x.type != t]

test_secure_bucket_passes if {
	count(deny) == 0 with input as plan(good_bucket)
	count(deny) == 0 with input as state(good_bucket)
}

test_public_access_not_blocked if {
	deny["module.m.aws_s3_bucket.this: the bucket has no public access block with all four settings true (block_public_acls, block_public_policy, ignore_public_acls, restrict_public_buckets)"] with input as plan(replace(good_bucket, "aws_s3_bucket_public_access_block", {"block_public_acls": true, "block_public_policy": false, "ignore_public_acls": true, "restrict_public_buckets": true}))
}

test_public_acl if {
	some msg in deny with input as plan(array.concat(good_bucket, [{"type": "aws_s3_bucket_acl", "values": {"acl": "public-read"}}]))
	contains(msg, "public canned ACL")
}

test_unencrypted_bucket if {
	some msg in deny with input as plan(without(good_bucket, "aws_s3_bucket_server_side_encryption_configuration"))
	contains(msg, "no server-side encryption")
}

test_bucket_without_policy if {
	some msg in deny with input as plan(without(good_bucket, "aws_s3_bucket_policy"))
	contains(msg, "has no bucket policy")
}

test_bucket_policy_without_tls_deny if {
	allow_all := json.marshal({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Principal": "*", "Resource": "*"}]})
	some msg in deny with input as state(replace(good_bucket, "aws_s3_bucket_policy", {"policy": allow_all}))
	contains(msg, "does not deny requests without TLS")
}

test_unknown_bucket_policy_warns if {
	resources := replace(good_bucket, "aws_s3_bucket_policy", {})
	count(deny) == 0 with input as plan(resources)
	some msg in warn with input as plan(resources)
	contains(msg, "unknown until apply")
}

test_imdsv1_launch_template if {
	some msg in deny with input as plan([{"type": "aws_launch_template", "values": {"metadata_options": [{"http_tokens": "optional"}]}}])
	contains(msg, "IMDSv2")
	count(deny) == 0 with input as plan([{"type": "aws_launch_template", "values": {"metadata_options": [{"http_tokens": "required"}]}}])
}

test_launch_template_without_metadata_options if {
	some msg in deny with input as plan([{"type": "aws_launch_template", "values": {}}])
	contains(msg, "IMDSv2")
}

good_db := {"publicly_accessible": false, "storage_encrypted": true, "backup_retention_period": 7}

test_rds if {
	count(deny) == 0 with input as plan([{"type": "aws_db_instance", "values": good_db}])
	some m1 in deny with input as plan([{"type": "aws_db_instance", "values": object.union(good_db, {"publicly_accessible": true})}])
	contains(m1, "publicly accessible")
	some m2 in deny with input as plan([{"type": "aws_db_instance", "values": object.union(good_db, {"storage_encrypted": false})}])
	contains(m2, "encrypted")
	some m3 in deny with input as plan([{"type": "aws_db_instance", "values": object.union(good_db, {"backup_retention_period": 1})}])
	contains(m3, "at least 7 days")
}

test_iam_wildcard_on_data if {
	doc := json.marshal({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": "*"}]})
	some msg in deny with input as plan([{"type": "aws_iam_role_policy", "values": {"policy": doc}}])
	contains(msg, "\"s3:*\"")
}

test_iam_star_action if {
	doc := json.marshal({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
	some msg in deny with input as plan([{"type": "aws_iam_policy", "values": {"policy": doc}}])
	contains(msg, "wildcard action \"*\"")
}

test_iam_inline_role_policy if {
	doc := json.marshal({"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]})
	some msg in deny with input as plan([{"type": "aws_iam_role", "values": {"inline_policy": [{"name": "q", "policy": doc}]}}])
	contains(msg, "inline q")
}

test_iam_specific_actions_pass if {
	doc := json.marshal({"Statement": [
		{"Effect": "Allow", "Action": ["s3:GetObject", "sqs:ReceiveMessage", "xray:PutTraceSegments"], "Resource": "*"},
		{"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
	]})
	count(deny) == 0 with input as plan([{"type": "aws_iam_role_policy", "values": {"policy": doc}}])
}

good_distribution := {
	"default_cache_behavior": [{"viewer_protocol_policy": "redirect-to-https"}],
	"ordered_cache_behavior": [{"path_pattern": "*.m3u8", "viewer_protocol_policy": "https-only"}],
	"viewer_certificate": [{"acm_certificate_arn": "arn:aws:acm:us-east-1:111122223333:certificate/x", "minimum_protocol_version": "TLSv1.2_2021"}],
	"origin": [{"origin_id": "derivatives", "domain_name": "b.s3.us-east-1.amazonaws.com", "origin_access_control_id": "E1", "s3_origin_config": []}],
}

test_cloudfront if {
	count(deny) == 0 with input as plan([{"type": "aws_cloudfront_distribution", "values": good_distribution}])

	allow_all := object.union(good_distribution, {"ordered_cache_behavior": [{"path_pattern": "*.mp4", "viewer_protocol_policy": "allow-all"}]})
	some m1 in deny with input as plan([{"type": "aws_cloudfront_distribution", "values": allow_all}])
	contains(m1, "plain HTTP")

	# With CloudFront's own certificate the TLS floor is AWS's and cannot be set.
	default_cert := object.union(good_distribution, {"viewer_certificate": [{"acm_certificate_arn": null, "cloudfront_default_certificate": true, "minimum_protocol_version": "TLSv1"}]})
	count(deny) == 0 with input as plan([{"type": "aws_cloudfront_distribution", "values": default_cert}])

	old_tls := object.union(good_distribution, {"viewer_certificate": [{"acm_certificate_arn": "arn:x", "minimum_protocol_version": "TLSv1_2016"}]})
	some m2 in deny with input as plan([{"type": "aws_cloudfront_distribution", "values": old_tls}])
	contains(m2, "below TLS 1.2")

	no_oac := object.union(good_distribution, {"origin": [{"origin_id": "d", "domain_name": "b.s3.us-east-1.amazonaws.com", "origin_access_control_id": ""}]})
	some m3 in deny with input as plan([{"type": "aws_cloudfront_distribution", "values": no_oac}])
	contains(m3, "no Origin Access Control")

	oai := object.union(good_distribution, {"origin": [{"origin_id": "d", "domain_name": "b.s3.us-east-1.amazonaws.com", "origin_access_control_id": "E1", "s3_origin_config": [{"origin_access_identity": "origin-access-identity/cloudfront/E2"}]}]})
	some m4 in deny with input as plan([{"type": "aws_cloudfront_distribution", "values": oai}])
	contains(m4, "legacy Origin Access Identity")

	some m5 in deny with input as plan([{"type": "aws_cloudfront_origin_access_identity", "values": {}}])
	contains(m5, "legacy")
}

test_cloudfront_never_keeps_token_holders_answers if {
	api := {"path_pattern": "/v1/feed", "viewer_protocol_policy": "redirect-to-https", "min_ttl": 0, "default_ttl": 0, "max_ttl": 60, "forwarded_values": [{"headers": ["Authorization", "Origin"]}]}
	ok := object.union(good_distribution, {"ordered_cache_behavior": [api]})
	count(deny) == 0 with input as plan([{"type": "aws_cloudfront_distribution", "values": ok}])

	caching := object.union(good_distribution, {"ordered_cache_behavior": [object.union(api, {"default_ttl": 30})]})
	some m in deny with input as plan([{"type": "aws_cloudfront_distribution", "values": caching}])
	contains(m, "forwards Authorization but caches by default")
}

test_queue_and_topic_encryption if {
	count(deny) == 0 with input as plan([
		{"type": "aws_sqs_queue", "values": {"sqs_managed_sse_enabled": true}},
		{"type": "aws_sns_topic", "values": {"kms_master_key_id": "alias/aws/sns"}},
	])
	some m1 in deny with input as plan([{"type": "aws_sqs_queue", "values": {"sqs_managed_sse_enabled": false, "kms_master_key_id": ""}}])
	contains(m1, "queue is not encrypted")
	some m2 in deny with input as plan([{"type": "aws_sns_topic", "values": {"kms_master_key_id": null}}])
	contains(m2, "topic is not encrypted")
	some m3 in deny with input as state([{"type": "aws_sqs_queue", "values": {"sqs_managed_sse_enabled": false, "kms_master_key_id": null}}])
	contains(m3, "queue is not encrypted")
}

test_unknown_topic_key_warns if {
	resources := [{"type": "aws_sns_topic", "values": {"name": "t"}}]
	count(deny) == 0 with input as plan(resources)
	some msg in warn with input as plan(resources)
	contains(msg, "unknown until apply")
}

test_log_retention if {
	count(deny) == 0 with input as plan([{"type": "aws_cloudwatch_log_group", "values": {"retention_in_days": 30}}])
	some msg in deny with input as plan([{"type": "aws_cloudwatch_log_group", "values": {"retention_in_days": 0}}])
	contains(msg, "retention_in_days")
}
