// Package targettest is the half of the harness meant for go test only: it resolves a test's
// target (New), starts LocalStack in a container when asked for it, and applies the
// repository's Terraform folders with terratest, destroying them at the test's end. The
// commands under test/cmd deploy through package target and terraform-exec, and so never
// link terratest, testcontainers and what they bring.
package targettest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"
	teststructure "github.com/gruntwork-io/terratest/modules/test-structure"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// VarFile is the variables file TerraformOptions writes into the copy of the folder.
const VarFile = "mediastack-test.tfvars.json"

// TerraformOptions returns terratest options for a private copy of folder (relative to the
// repository root) on tg. vars are added to the target's defaults (target.Target.Vars).
func TerraformOptions(t testing.TB, tg *target.Target, folder string, vars map[string]any) *terraform.Options {
	t.Helper()
	dir, cliConfig := tg.PrepareFolderT(t, folder)
	allVars, err := tg.Vars(dir, vars)
	if err != nil {
		t.Fatalf("%v", err)
	}
	// A JSON variables file rather than terratest's -var flags, whose HCL rendering breaks
	// multi-line strings such as a PEM key.
	varFile := filepath.Join(dir, VarFile)
	data, err := json.MarshalIndent(allVars, "", "  ")
	if err == nil {
		err = os.WriteFile(varFile, data, 0o600)
	}
	if err != nil {
		t.Fatalf("write %s: %v", varFile, err)
	}
	return &terraform.Options{
		TerraformBinary: target.Binary(),
		TerraformDir:    dir,
		VarFiles:        []string{varFile},
		EnvVars:         tg.TerraformEnv(cliConfig),
		NoColor:         true,
		// The AWS provider's waiters dominate apply time against an emulator; resources
		// that do not depend on each other wait side by side.
		Parallelism: 20,
		RetryableTerraformErrors: map[string]string{
			"RequestError: send request failed":   "a request to the endpoint failed in transit",
			"connection reset by peer":            "the endpoint reset a connection",
			"Throttling|TooManyRequestsException": "the API throttled the request",
		},
		MaxRetries:         3,
		TimeBetweenRetries: 5 * time.Second,
	}
}

// Deploy applies folder on tg and registers its destruction first, so that destroy is
// attempted even when apply fails half-way. The stages honour terratest's SKIP_deploy and
// SKIP_teardown.
func Deploy(t testing.TB, tg *target.Target, folder string, vars map[string]any) *terraform.Options {
	t.Helper()
	opts := TerraformOptions(t, tg, folder, vars)
	t.Cleanup(func() {
		teststructure.RunTestStage(t, "teardown", func() {
			start := time.Now()
			terraform.DestroyContext(t, context.Background(), opts)
			t.Logf("measured: destroy of %s %.0f s", folder, time.Since(start).Seconds())
		})
	})
	return apply(t, folder, opts)
}

// DeployLeftToEmulator is Deploy for a folder whose destroy another test proves: on the local
// target the deployment is not destroyed but ends with the test binary's emulator, which
// saves the minutes of the provider's destroy waiters; elsewhere (LocalStack, AWS) it is
// destroyed at the test's end, as Deploy does.
func DeployLeftToEmulator(t testing.TB, tg *target.Target, folder string, vars map[string]any) *terraform.Options {
	t.Helper()
	if tg.Name != target.Local {
		return Deploy(t, tg, folder, vars)
	}
	return apply(t, folder, TerraformOptions(t, tg, folder, vars))
}

func apply(t testing.TB, folder string, opts *terraform.Options) *terraform.Options {
	t.Helper()
	teststructure.RunTestStage(t, "deploy", func() {
		start := time.Now()
		terraform.InitAndApplyContext(t, context.Background(), opts)
		t.Logf("measured: apply of %s %.0f s", folder, time.Since(start).Seconds())
	})
	return opts
}
