# Queues and topics encrypted; log groups with a retention.
package main

import data.lib.terraform as tf
import rego.v1

deny contains msg if {
	some q in tf.of_type("aws_sqs_queue")
	v := q.resource.values
	v.sqs_managed_sse_enabled != true
	object.get(v, "kms_master_key_id", "") == ""
	msg := sprintf("%s: the queue is not encrypted (sqs_managed_sse_enabled = true or kms_master_key_id)", [q.resource.address])
}

deny contains msg if {
	some t in tf.of_type("aws_sns_topic")
	object.get(t.resource.values, "kms_master_key_id", "") == ""
	msg := sprintf("%s: the topic is not encrypted (kms_master_key_id, e.g. alias/aws/sns)", [t.resource.address])
}

deny contains msg if {
	some lg in tf.of_type("aws_cloudwatch_log_group")
	object.get(lg.resource.values, "retention_in_days", 0) == 0
	msg := sprintf("%s: the log group keeps logs forever; set retention_in_days", [lg.resource.address])
}
