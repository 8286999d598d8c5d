package test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// planFolders are the compositions whose plans must pass the policies in policies/, with
// the variables they need beyond the target's.
var planFolders = map[string]func(root string) map[string]any{
	// The root stack in two regions, with latency records, as a multi-region company runs it.
	".": func(root string) map[string]any {
		return map[string]any{
			"regions":                   []string{"us-east-1", "eu-west-1"},
			"upload_api_zip_path":       standInZip(root),
			"transcoder_zip_path":       standInZip(root),
			"transcode_worker_zip_path": standInZip(root),
			"allow_plain_http":          true,
			"dns":                       map[string]any{"zone_name": "media.example.com"},
			"web_app":                   map[string]any{"source_dir": filepath.Join(root, "build", "web")},
		}
	},
	"examples/complete": func(root string) map[string]any {
		return map[string]any{"upload_api_zip_path": standInZip(root), "transcoder_zip_path": standInZip(root), "zone_name": "media.example.com",
			"worker_fleet": map[string]any{"zip_path": standInZip(root)}, "web_app": map[string]any{"source_dir": filepath.Join(root, "build", "web")}}
	},
	// A region of the stamped platform other than the home, with the home's outputs.
	"examples/multi-region/region": func(root string) map[string]any {
		return map[string]any{
			"region": "eu-west-1", "home_region": "us-east-1", "cidr_block": "10.1.0.0/16",
			"upload_api_zip_path": standInZip(root), "transcoder_zip_path": standInZip(root), "transcode_worker_zip_path": standInZip(root),
			"home": map[string]any{
				"identity": map[string]any{"user_pool_id": "us-east-1_AbCdEfGhI", "client_id": "1example23456789", "issuer_url": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI"},
				"database": map[string]any{"instance_arn": "arn:aws:rds:us-east-1:123456789012:db:home", "address": "home.abc.us-east-1.rds.amazonaws.com", "port": 5432,
					"secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-home-AbCdEf", "cidr_block": "10.0.0.0/16"},
				"peering": map[string]any{"region": "us-east-1", "vpc_id": "vpc-0f1e2d3c4b5a60789", "cidr_block": "10.0.0.0/16", "route_table_ids": []string{"rtb-0b000000000000001"},
					"database_security_group_id": "sg-0123456789abcdef0", "database_port": 5432},
			},
		}
	},
	"examples/multi-region/edge": func(root string) map[string]any {
		return map[string]any{"zone_name": "media.example.com", "regions": map[string]any{
			"us-east-1": map[string]any{"api_url": "http://a.us-east-1.elb.amazonaws.com", "alb_dns_name": "a-1.us-east-1.elb.amazonaws.com", "alb_zone_id": "Z35SXDOTRQ7X7K", "https": false, "cdn_base_url": "https://d1.cloudfront.net"},
			"eu-west-1": map[string]any{"api_url": "http://b.eu-west-1.elb.amazonaws.com", "alb_dns_name": "b-1.eu-west-1.elb.amazonaws.com", "alb_zone_id": "Z32O12XQLNTSW2", "https": false, "cdn_base_url": "https://d2.cloudfront.net"},
		}}
	},
	"examples/media-buckets":  nil,
	"examples/private-bucket": nil,
	"examples/queue":          nil,
	"examples/topic":          nil,
	"examples/database":       nil,
	"examples/identity":       nil,
	"examples/cdn":            nil,
	"examples/latency-dns":    nil,
	"examples/network":        nil,
	"examples/alb":            nil,
	"examples/asg": func(root string) map[string]any {
		return map[string]any{"artifact_path": standInZip(root)}
	},
	"examples/transcoder": func(root string) map[string]any {
		return map[string]any{"function_zip_path": standInZip(root)}
	},
}

// TestPlansPassPolicies plans each composition on the target with terraform-exec, reads the
// plan with terraform-json, and evaluates it with the pinned conftest against policies/.
func TestPlansPassPolicies(t *testing.T) {
	t.Parallel()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	for folder, extraVars := range planFolders {
		t.Run(folder, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tg := targettest.New(t)
			tf := tg.Tfexec(t, folder)
			require.NoError(t, tf.Init(ctx, tfexec.Backend(false)))

			var extra map[string]any
			if extraVars != nil {
				extra = extraVars(root)
			}
			vars, err := tg.Vars(tf.WorkingDir(), extra)
			require.NoError(t, err)
			planFile := filepath.Join(tf.WorkingDir(), "plan.tfplan")
			opts := []tfexec.PlanOption{tfexec.Out(planFile)}
			varOpts, err := target.VarOptions(vars)
			require.NoError(t, err)
			for _, v := range varOpts {
				opts = append(opts, v)
			}
			hasChanges, err := tf.Plan(ctx, opts...)
			require.NoError(t, err)
			require.True(t, hasChanges, "a fresh namespace starts empty")

			plan, err := tf.ShowPlanFile(ctx, planFile)
			require.NoError(t, err)
			assertCreatesOnly(t, plan)

			raw, err := json.Marshal(plan)
			require.NoError(t, err)
			planJSON := filepath.Join(tf.WorkingDir(), "plan.json")
			require.NoError(t, os.WriteFile(planJSON, raw, 0o644))
			conftest(t, root, planJSON)
		})
	}
}

// assertCreatesOnly checks that a plan in an empty namespace only creates things: any
// update or delete would mean the namespace was not isolated.
func assertCreatesOnly(t *testing.T, plan *tfjson.Plan) {
	t.Helper()
	require.NotEmpty(t, plan.ResourceChanges)
	for _, rc := range plan.ResourceChanges {
		if rc.Mode != tfjson.ManagedResourceMode {
			continue
		}
		assert.True(t, rc.Change.Actions.Create(), "%s: expected create, got %v", rc.Address, rc.Change.Actions)
	}
}

// conftest evaluates planJSON against policies/ with the conftest pinned in tools/.
func conftest(t *testing.T, root, planJSON string) {
	t.Helper()
	cmd := exec.Command("go", "tool", "-modfile=tools/conftest.mod", "conftest", "test",
		"--no-color", "--all-namespaces", "--output", "json", "--policy", "policies", planJSON)
	cmd.Dir = root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var results []struct {
		Failures []struct{ Msg string } `json:"failures"`
		Warnings []struct{ Msg string } `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal(out, &results), "conftest output: %s (%v: %s)", out, err, stderr.String())
	var failures []string
	for _, r := range results {
		for _, f := range r.Failures {
			failures = append(failures, f.Msg)
		}
		for _, w := range r.Warnings {
			t.Logf("policy warning: %s", w.Msg)
		}
	}
	assert.Empty(t, failures, "the plan violates the policies:\n%s", strings.Join(failures, "\n"))
	require.NoError(t, err, "conftest failed")
}
