# tflint with its bundled Terraform ruleset (no plugin download, so it works offline):
# naming, documented and typed variables and outputs, pinned versions, unused declarations.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
