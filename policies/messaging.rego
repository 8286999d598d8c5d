# Queues and topics encrypted; log groups with a retention.
package main

import data.lib.terraform as tf
import rego.v1

# A plan leaves out what is unknown until apply (a key created in the same run); only a
# value that is known and empty is a violation, the rest is checked on the applied state.

deny contains msg if {
	some q in tf.of_type("aws_sqs_queue")
	v := q.resource.values
	"sqs_managed_sse_enabled" in object.keys(v)
	"kms_master_key_id" in object.keys(v)
	v.sqs_managed_sse_enabled != true
	tf.empty(v.kms_master_key_id)
	msg := sprintf("%s: the queue is not encrypted (sqs_managed_sse_enabled = true or kms_master_key_id)", [q.resource.address])
}

deny contains msg if {
	some t in tf.of_type("aws_sns_topic")
	"kms_master_key_id" in object.keys(t.resource.values)
	tf.empty(t.resource.values.kms_master_key_id)
	msg := sprintf("%s: the topic is not encrypted (kms_master_key_id)", [t.resource.address])
}

warn contains msg if {
	some t in tf.of_type("aws_sns_topic")
	not "kms_master_key_id" in object.keys(t.resource.values)
	msg := sprintf("%s: the topic's key is unknown until apply; encryption is checked on the applied state", [t.resource.address])
}

deny contains msg if {
	some lg in tf.of_type("aws_cloudwatch_log_group")
	object.get(lg.resource.values, "retention_in_days", 0) == 0
	msg := sprintf("%s: the log group keeps logs forever; set retention_in_days", [lg.resource.address])
}
