# terraform-aws-mediastack tasks. `make help` lists them.
#
# The two commands of the README:
#   make demo   deploy the stack on the local cloud and follow an upload to CDN delivery
#   make test   every check CI runs: formatting, validation, Terraform tests, vet, lint, Go tests
# Both run scripts/setup first, which installs what is missing and is fast when nothing is.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Terraform reads the project-local CLI configuration written by scripts/setup (offline
# provider mirror, plugin cache); the user's own ~/.terraformrc is never used or changed.
export TF_CLI_CONFIG_FILE := $(CURDIR)/build/terraform.rc
export TF_IN_AUTOMATION := 1

TF_MODULES  := $(patsubst %/,%,$(sort $(dir $(wildcard modules/*/main.tf))))
# A stamped example holds one configuration per state, each in a folder of its own.
TF_EXAMPLES := $(patsubst %/,%,$(sort $(dir $(wildcard examples/*/main.tf examples/*/*/main.tf))))
TF_DIRS     := . $(TF_MODULES) $(TF_EXAMPLES)
# terraform validate cannot check a module that takes an aliased provider on its own
# (hashicorp/terraform#28490): such a module is validated through the examples that call it,
# and its mock tests pass it the providers.
TF_ALIASED  := $(patsubst %/versions.tf,%,$(shell grep -l configuration_aliases modules/*/versions.tf))
TF_VALIDATE := $(filter-out $(TF_ALIASED),$(TF_DIRS))

# Dev tools are pinned in tools/<tool>.mod, one modfile each so their dependency graphs
# never meet each other's or the project's: $(call tool,actionlint) runs the pinned actionlint.
tool = go tool -modfile=tools/$(1).mod $(1)

# GO_TEST_FLAGS lets a developer narrow the run: make go-test GO_TEST_FLAGS='-run TestMediaBuckets'
GO_TEST_FLAGS ?=
# REGIONS of make up, comma-separated, the home first: one region (us-east-1) when empty.
REGIONS ?=
# A bound, not a target: the e2e package takes 17 to 23 minutes while the checks run beside it.
GO_TEST_TIMEOUT ?= 35m
# Integration tests spend most of their time waiting on the AWS provider's waiters against
# the emulator, while go test's default runs only GOMAXPROCS (here 2) of them at once: six
# at once halve the test package's time (647 s -> 312 s measured on 2 cores).
GO_TEST_PARALLEL ?= 6

.PHONY: help
help: ## List the tasks
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: setup
setup: ## Install and build what the project needs (idempotent)
	@scripts/setup

# timed_build NAME: builds test/cmd/NAME into build/bin, saying how long it took when it
# compiled for more than a few seconds (minutes on a cold build cache).
define timed_build
echo "demo: compiling test/cmd/$(1)"; start=$$(date +%s); go build -o build/bin/$(1) ./test/cmd/$(1) || exit 1; \
took=$$(( $$(date +%s) - start )); [ $$took -lt 3 ] || echo "demo: compiled test/cmd/$(1) in $$took s"
endef

.PHONY: demo
demo: ## Deploy the stack on the local emulator and follow an upload (DEMO_FLAGS=-keep to keep it up)
	@MEDIASTACK_SKIP_TOOLS=1 scripts/setup
	@$(call timed_build,demo)
	@build/bin/demo $(DEMO_FLAGS)

.PHONY: up
up: ## Keep the stack running locally for manual use (REGIONS=us-east-1,eu-west-1,...); writes .local/endpoints.json
	@MEDIASTACK_SKIP_TOOLS=1 scripts/setup
	@MEDIASTACK_REGIONS='$(REGIONS)' go run ./test/cmd/localcloud up

.PHONY: down
down: ## Tear down what make up started
	@go run ./test/cmd/localcloud down

.PHONY: load
load: ## Deploy locally and drive the stack with virtual users (LOAD_FLAGS='-users 100 -duration 5m'); writes build/load/scorecard.json
	@MEDIASTACK_SKIP_TOOLS=1 scripts/setup
	@go run ./test/cmd/load $(LOAD_FLAGS)

.PHONY: bench
bench: ## Measure chunked against single-pass transcodes (BENCH_SOURCES=30,120,600 by default); writes build/bench/transcode.json
	@MEDIASTACK_SKIP_TOOLS=1 scripts/setup
	@BENCH_SOURCES=$(BENCH_SOURCES) go test ./lambda-src/internal/transcode -run '^$$' -bench ChunkedVsSinglePass -benchtime 1x -timeout 0

.PHONY: test
# The static checks and the Go tests run side by side: the tests spend most of their time
# waiting on the provider's waiters against the emulator, which leaves a core to the checks.
# A failure of either fails the run; the other still runs to its end.
test: setup ## Everything CI runs
	@$(MAKE) --no-print-directory -j2 --keep-going lint go-test

.PHONY: lint
# OpenTofu's checks (tofu-validate, tofu-test) are not in lint yet: beside the end-to-end suite
# on 2 cores they slowed it past its budget and starved its transcodes.
lint: fmt-check docs-check tf-validate tf-test tflint tfsec policy-test go-lint actionlint ## Static checks and Terraform tests

.PHONY: fmt
fmt: ## Format Terraform and Go sources in place
	terraform fmt -recursive
	gofmt -w $$(git ls-files --cached --others --exclude-standard '*.go')

.PHONY: fmt-check
fmt-check: ## Fail on unformatted Terraform or Go
	@echo "== terraform fmt -check"
	@terraform fmt -recursive -check -diff
	@echo "== gofmt"
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi

# tf_run BINARY, DIR, COMMAND...: runs Terraform or OpenTofu in DIR, printing its output only
# when it fails.
define tf_run
log=$$(mktemp); \
if ! $(1) -chdir=$(2) $(3) >"$$log" 2>&1; then cat "$$log"; rm -f "$$log"; echo "FAIL: $(lastword $(1)) $(3) in $(2)"; exit 1; fi; \
rm -f "$$log"
endef

.PHONY: docs
docs: ## Regenerate the Inputs/Outputs tables of every module README
	@for d in $(TF_MODULES); do $(call tool,terraform-docs) --config .terraform-docs.yml $$d; done

.PHONY: docs-check
docs-check: ## Fail when a module README's tables are out of date (fix: make docs)
	@echo "== terraform-docs --output-check"
	@for d in $(TF_MODULES); do \
	  $(call tool,terraform-docs) --config .terraform-docs.yml --output-check $$d >/dev/null 2>&1 || \
	    { echo "$$d/README.md is out of date: run make docs"; exit 1; }; \
	done

# Terraform folders are independent: TF_JOBS of them are initialised, validated and tested
# at once (make tf-test TF_JOBS=1 runs one at a time). tf_run prints a folder's output only
# when it fails, so parallel runs do not interleave.
TF_JOBS ?= 4

.PHONY: tf-init
tf-init: ## terraform init (no backend) in the root stack, every module and every example
	@$(MAKE) --no-print-directory -j$(TF_JOBS) $(addprefix tf-init/,$(TF_DIRS))

.PHONY: tf-validate
tf-validate: tf-init ## terraform validate everywhere
	@$(MAKE) --no-print-directory -j$(TF_JOBS) $(addprefix tf-validate/,$(TF_VALIDATE))

.PHONY: tf-test
tf-test: tf-init ## terraform test (mock provider) in every module
	@$(MAKE) --no-print-directory -j$(TF_JOBS) $(addprefix tf-test/,$(TF_MODULES))

# One folder each: tf-init/modules/cdn, tf-validate/examples/complete, tf-test/modules/asg.
tf-init/%:
	@$(call tf_run,terraform,$*,init -backend=false -input=false -no-color)

tf-validate/%:
	@echo "== terraform validate $*"; $(call tf_run,terraform,$*,validate -no-color)

tf-test/%:
	@echo "== terraform test $*"; $(call tf_run,terraform,$*,test -no-color)

# OpenTofu (pinned in tools/optional/tofu.mod) validates and tests the same folders, copied to
# build/tofu: its working files and lock files, which name its own registry's host, never
# meet Terraform's. Its .terraform folders stay there between runs.
TOFU_TREE := build/tofu
# Not in tools/, whose tools setup builds for make test: its first build takes minutes.
TOFU = go tool -modfile=tools/optional/tofu.mod tofu

.PHONY: tofu-tree
tofu-tree:
	@mkdir -p $(TOFU_TREE)
	@find $(TOFU_TREE) -type f ! -path '*/.terraform/*' ! -name .terraform.lock.hcl -delete
	@git ls-files --cached --others --exclude-standard -- ':(glob)*.tf' modules examples \
	  | sort -u | tar -cf - -T - | tar -xf - -C $(TOFU_TREE)

.PHONY: tofu-init
tofu-init: tofu-tree ## tofu init (no backend) in the copy of every Terraform folder
	@$(MAKE) --no-print-directory -j$(TF_JOBS) $(addprefix tofu-init/,$(TF_DIRS))

.PHONY: tofu-validate
tofu-validate: tofu-init ## tofu validate everywhere terraform validate runs
	@$(MAKE) --no-print-directory -j$(TF_JOBS) $(addprefix tofu-validate/,$(TF_VALIDATE))

.PHONY: tofu-test
tofu-test: tofu-init ## tofu test (mock provider) in every module
	@$(MAKE) --no-print-directory -j$(TF_JOBS) $(addprefix tofu-test/,$(TF_MODULES))

tofu-init/%:
	@$(call tf_run,$(TOFU),$(TOFU_TREE)/$*,init -backend=false -input=false -no-color)

tofu-validate/%:
	@echo "== tofu validate $*"; $(call tf_run,$(TOFU),$(TOFU_TREE)/$*,validate -no-color)

tofu-test/%:
	@echo "== tofu test $*"; $(call tf_run,$(TOFU),$(TOFU_TREE)/$*,test -no-color)

.PHONY: tflint
tflint: ## tflint over every Terraform folder
	@echo "== tflint"
	@$(call tool,tflint) --recursive --config "$(CURDIR)/.tflint.hcl" --format compact

.PHONY: tfsec
tfsec: ## tfsec over every module: no finding left unless ignored inline with its reason
	@echo "== tfsec"
	@$(call tool,tfsec) modules --no-color --concise-output --no-module-downloads

.PHONY: policy-test
policy-test: ## Unit tests of the rego policies: each one rejects a plan that violates it
	@echo "== conftest verify"
	@$(call tool,conftest) fmt --check policies
	@$(call tool,conftest) verify --no-color --policy policies

.PHONY: go-lint
go-lint: ## go vet, then golangci-lint (.golangci.yml: staticcheck, errcheck, gosec, bodyclose and the rest)
	@echo "== go vet"
	@go vet ./...
	@echo "== golangci-lint"
	@$(call tool,golangci-lint) run ./...

.PHONY: trivy
trivy: ## Trivy's misconfiguration checks on the modules (pinned in tools/optional; its first build takes minutes)
	@echo "== trivy config"
	@GOEXPERIMENT=jsonv2 go tool -modfile=tools/optional/trivy.mod trivy config --skip-check-update --exit-code 1 --quiet modules

.PHONY: actionlint
actionlint: ## Lint the GitHub Actions workflows
	@echo "== actionlint"
	@$(call tool,actionlint)

.PHONY: go-test
go-test: ## Go unit and integration tests (they start the emulator themselves)
	@echo "== go test"
	go test -count=1 -timeout $(GO_TEST_TIMEOUT) -parallel $(GO_TEST_PARALLEL) $(GO_TEST_FLAGS) ./...

.PHONY: clean
clean: ## Remove build output and Terraform working folders
	rm -rf build .local
	find . -name .terraform -type d -prune -exec rm -rf {} +
