# Instances and databases: IMDSv2 only; RDS private, encrypted and backed up.
package main

import data.lib.terraform as tf
import rego.v1

deny contains msg if {
	some lt in tf.of_type("aws_launch_template")
	not _imdsv2_required(lt.resource.values)
	msg := sprintf("%s: instance metadata must require IMDSv2 (metadata_options { http_tokens = \"required\" })", [lt.resource.address])
}

deny contains msg if {
	some i in tf.of_type("aws_instance")
	not _imdsv2_required(i.resource.values)
	msg := sprintf("%s: instance metadata must require IMDSv2 (metadata_options { http_tokens = \"required\" })", [i.resource.address])
}

_imdsv2_required(values) if {
	some m in values.metadata_options
	m.http_tokens == "required"
}

deny contains msg if {
	some db in tf.of_type("aws_db_instance")
	db.resource.values.publicly_accessible != false
	msg := sprintf("%s: the database must not be publicly accessible (publicly_accessible = false)", [db.resource.address])
}

deny contains msg if {
	some db in tf.of_type("aws_db_instance")
	db.resource.values.storage_encrypted != true
	msg := sprintf("%s: database storage must be encrypted (storage_encrypted = true)", [db.resource.address])
}

deny contains msg if {
	some db in tf.of_type("aws_db_instance")
	object.get(db.resource.values, "backup_retention_period", 0) < 7
	msg := sprintf("%s: automated backups must be kept at least 7 days (backup_retention_period >= 7), found %v", [db.resource.address, object.get(db.resource.values, "backup_retention_period", 0)])
}
