# Buckets: no public access, encryption everywhere, TLS only.
package main

import data.lib.terraform as tf
import rego.v1

_buckets := tf.of_type("aws_s3_bucket")

_same_module(bucket, t) := {x | some x in tf.of_type(t); x.module == bucket.module}

deny contains msg if {
	some b in _buckets
	not _fully_blocked(b)
	msg := sprintf("%s: the bucket has no public access block with all four settings true (block_public_acls, block_public_policy, ignore_public_acls, restrict_public_buckets)", [b.resource.address])
}

_fully_blocked(b) if {
	some pab in _same_module(b, "aws_s3_bucket_public_access_block")
	v := pab.resource.values
	v.block_public_acls == true
	v.block_public_policy == true
	v.ignore_public_acls == true
	v.restrict_public_buckets == true
}

deny contains msg if {
	some b in _buckets
	not _encrypted(b)
	msg := sprintf("%s: the bucket has no server-side encryption configuration (aws_s3_bucket_server_side_encryption_configuration with AES256 or aws:kms)", [b.resource.address])
}

_encrypted(b) if {
	some enc in _same_module(b, "aws_s3_bucket_server_side_encryption_configuration")
	some rule in enc.resource.values.rule
	some def in rule.apply_server_side_encryption_by_default
	def.sse_algorithm in {"AES256", "aws:kms", "aws:kms:dsse"}
}

deny contains msg if {
	some b in _buckets
	count(_same_module(b, "aws_s3_bucket_policy")) == 0
	msg := sprintf("%s: the bucket has no bucket policy; it needs one that denies requests without TLS (aws:SecureTransport = false)", [b.resource.address])
}

deny contains msg if {
	some b in _buckets
	some p in _same_module(b, "aws_s3_bucket_policy")
	tf.known(p.resource.values, "policy")
	not _denies_insecure_transport(p.resource.values.policy)
	msg := sprintf("%s: the bucket policy does not deny requests without TLS (a Deny statement on aws:SecureTransport = false)", [p.resource.address])
}

warn contains msg if {
	some b in _buckets
	some p in _same_module(b, "aws_s3_bucket_policy")
	not tf.known(p.resource.values, "policy")
	msg := sprintf("%s: the bucket policy is unknown until apply; TLS-only is checked on the applied state", [p.resource.address])
}

_denies_insecure_transport(doc) if {
	some s in tf.policy_statements(doc)
	s.Effect == "Deny"
	some v in tf.as_list(s.Condition.Bool["aws:SecureTransport"])
	lower(sprintf("%v", [v])) == "false"
}

deny contains msg if {
	some acl in tf.of_type("aws_s3_bucket_acl")
	acl.resource.values.acl in {"public-read", "public-read-write", "authenticated-read"}
	msg := sprintf("%s: public canned ACL %q", [acl.resource.address, acl.resource.values.acl])
}
