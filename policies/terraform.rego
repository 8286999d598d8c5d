# Helpers shared by the policies: the managed resources of a plan (terraform show -json of a
# plan file) or of a state (terraform show -json after apply), with the module they sit in.
package lib.terraform

import rego.v1

# The module tree: planned_values in a plan, values in a state.
root := input.planned_values.root_module if {
	input.planned_values.root_module
} else := input.values.root_module if {
	input.values.root_module
} else := {}

# resources holds {"module": <module address, "" for the root>, "resource": <resource>}
# for every managed resource at any depth.
resources contains {"module": object.get(m, "address", ""), "resource": r} if {
	walk(root, [_, m])
	is_object(m)
	is_array(m.resources)
	some r in m.resources
	is_object(r)
	r.mode == "managed"
}

# of_type returns the resources of one type, each with its module address.
of_type(t) := {x | some x in resources; x.resource.type == t}

# known(v, key) holds when the attribute was known when the JSON was written (unknown values
# of a plan are left out of planned_values).
known(values, key) if {
	object.get(values, key, null) != null
}

# policy_statements parses an IAM policy document given as JSON text into its statements.
policy_statements(doc) := stmts if {
	parsed := json.unmarshal(doc)
	is_array(parsed.Statement)
	stmts := parsed.Statement
} else := [stmt] if {
	parsed := json.unmarshal(doc)
	stmt := parsed.Statement
	is_object(stmt)
}

# as_list turns a policy element that may be a string or a list into a list.
as_list(x) := x if is_array(x)

else := [x]

# empty holds for null and "".
empty(x) if x == null

empty(x) if x == ""
