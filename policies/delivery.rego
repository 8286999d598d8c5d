# CloudFront: HTTPS only, TLS 1.2+ with a custom certificate, S3 origins through OAC (not OAI),
# and nothing a token holder gets kept unless its origin marked it cacheable.
package main

import data.lib.terraform as tf
import rego.v1

_distributions := tf.of_type("aws_cloudfront_distribution")

_behaviors(values) := array.concat(
	object.get(values, "default_cache_behavior", []),
	object.get(values, "ordered_cache_behavior", []),
)

deny contains msg if {
	some d in _distributions
	some b in _behaviors(d.resource.values)
	not b.viewer_protocol_policy in {"https-only", "redirect-to-https"}
	msg := sprintf("%s: behaviour %q lets viewers use plain HTTP (viewer_protocol_policy %q); use https-only or redirect-to-https", [d.resource.address, object.get(b, "path_pattern", "default"), b.viewer_protocol_policy])
}

deny contains msg if {
	some d in _distributions
	some vc in d.resource.values.viewer_certificate
	not tf.empty(object.get(vc, "acm_certificate_arn", null))
	not startswith(vc.minimum_protocol_version, "TLSv1.2")
	msg := sprintf("%s: minimum_protocol_version %q is below TLS 1.2; use TLSv1.2_2021", [d.resource.address, vc.minimum_protocol_version])
}

deny contains msg if {
	some d in _distributions
	some o in d.resource.values.origin
	endswith(o.domain_name, ".amazonaws.com")
	contains(o.domain_name, ".s3.")
	object.get(o, "origin_access_control_id", "") == ""
	msg := sprintf("%s: S3 origin %q has no Origin Access Control (origin_access_control_id)", [d.resource.address, o.origin_id])
}

deny contains msg if {
	some d in _distributions
	some o in d.resource.values.origin
	some s3 in object.get(o, "s3_origin_config", [])
	object.get(s3, "origin_access_identity", "") != ""
	msg := sprintf("%s: origin %q uses a legacy Origin Access Identity; use Origin Access Control", [d.resource.address, o.origin_id])
}

deny contains msg if {
	some oai in tf.of_type("aws_cloudfront_origin_access_identity")
	msg := sprintf("%s: Origin Access Identities are legacy; use aws_cloudfront_origin_access_control", [oai.resource.address])
}

# A behaviour that forwards Authorization serves token holders: with a minimum or default TTL
# above zero, CloudFront keeps an answer the origin marked private (or left unmarked) and serves
# it to the next viewer with the same token, or to everyone when the token is not in the key.
deny contains msg if {
	some d in _distributions
	some b in _behaviors(d.resource.values)
	some fv in object.get(b, "forwarded_values", [])
	some h in object.get(fv, "headers", [])
	lower(h) in {"authorization", "*"}
	object.get(b, "min_ttl", 0) + object.get(b, "default_ttl", 0) > 0
	msg := sprintf("%s: behaviour %q forwards Authorization but caches by default (min_ttl %v, default_ttl %v); set both to 0 so that only what the origin marks cacheable is kept", [d.resource.address, object.get(b, "path_pattern", "default"), object.get(b, "min_ttl", 0), object.get(b, "default_ttl", 0)])
}
