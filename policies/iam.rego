# IAM: no wildcard actions on data services, in any policy the stack writes.
package main

import data.lib.terraform as tf
import rego.v1

# Services whose wildcard actions would reach user data or its keys.
_data_services := {"s3", "sqs", "sns", "dynamodb", "secretsmanager", "kms", "rds", "rds-data", "lambda", "ssm", "logs", "cognito-idp"}

# Where each resource type keeps its policy JSON.
_policy_attrs := {
	"aws_iam_policy": "policy",
	"aws_iam_role_policy": "policy",
	"aws_iam_user_policy": "policy",
	"aws_iam_group_policy": "policy",
	"aws_s3_bucket_policy": "policy",
	"aws_sqs_queue_policy": "policy",
	"aws_sns_topic_policy": "policy",
}

_policies contains {"address": x.resource.address, "doc": x.resource.values[attr]} if {
	some t, attr in _policy_attrs
	some x in tf.of_type(t)
	tf.known(x.resource.values, attr)
}

_policies contains {"address": sprintf("%s (inline %s)", [x.resource.address, p.name]), "doc": p.policy} if {
	some x in tf.of_type("aws_iam_role")
	some p in object.get(x.resource.values, "inline_policy", [])
	p.policy != ""
}

deny contains msg if {
	some p in _policies
	some s in tf.policy_statements(p.doc)
	s.Effect == "Allow"
	some action in tf.as_list(s.Action)
	_wildcard_on_data(action)
	msg := sprintf("%s: allows the wildcard action %q; list the actions the principal needs", [p.address, action])
}

_wildcard_on_data(action) if action == "*"

_wildcard_on_data(action) if {
	parts := split(action, ":")
	count(parts) == 2
	lower(parts[0]) in _data_services
	parts[1] == "*"
}

warn contains msg if {
	some t, attr in _policy_attrs
	some x in tf.of_type(t)
	not tf.known(x.resource.values, attr)
	msg := sprintf("%s: the policy is unknown until apply; wildcard actions are checked on the applied state", [x.resource.address])
}
