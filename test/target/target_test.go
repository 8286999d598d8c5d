package target

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// parsedProvider is one provider block of a generated override, read back with hcl.
type parsedProvider struct {
	attrs     map[string]cty.Value
	endpoints map[string]cty.Value
	tags      map[string]cty.Value
}

func parseOverride(t *testing.T, src []byte) map[string]parsedProvider {
	t.Helper()
	file, diags := hclparse.NewParser().ParseHCL(src, OverrideFile)
	require.False(t, diags.HasErrors(), "the override must be valid HCL: %s\n%s", diags, src)
	content, diags := file.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "provider", LabelNames: []string{"name"}}}})
	require.False(t, diags.HasErrors(), diags.Error())

	providers := map[string]parsedProvider{}
	for _, block := range content.Blocks {
		require.Equal(t, "aws", block.Labels[0])
		body, diags := block.Body.Content(&hcl.BodySchema{
			Attributes: []hcl.AttributeSchema{
				{Name: "alias"}, {Name: "access_key"}, {Name: "secret_key"}, {Name: "token"},
				{Name: "skip_credentials_validation"}, {Name: "skip_metadata_api_check"},
				{Name: "skip_requesting_account_id"}, {Name: "s3_use_path_style"},
			},
			Blocks: []hcl.BlockHeaderSchema{{Type: "endpoints"}, {Type: "default_tags"}},
		})
		require.False(t, diags.HasErrors(), diags.Error())
		p := parsedProvider{attrs: values(t, body.Attributes), endpoints: map[string]cty.Value{}, tags: map[string]cty.Value{}}
		for _, nested := range body.Blocks {
			attrs, diags := nested.Body.JustAttributes()
			require.False(t, diags.HasErrors(), diags.Error())
			switch nested.Type {
			case "endpoints":
				p.endpoints = values(t, attrs)
			case "default_tags":
				v, diags := attrs["tags"].Expr.Value(tagsContext)
				require.False(t, diags.HasErrors(), diags.Error())
				p.tags = v.AsValueMap()
			}
		}
		alias := ""
		if a, ok := p.attrs["alias"]; ok {
			alias = a.AsString()
		}
		providers[alias] = p
	}
	return providers
}

// tagsContext evaluates default_tags as Terraform would for a folder whose var.tags is
// {project = "mediastack"}.
var tagsContext = &hcl.EvalContext{
	Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
		"tags": cty.MapVal(map[string]cty.Value{"project": cty.StringVal("mediastack")}),
	})},
	Functions: map[string]function.Function{"merge": function.New(&function.Spec{
		VarParam: &function.Parameter{Name: "maps", Type: cty.Map(cty.String)},
		Type:     function.StaticReturnType(cty.Map(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			merged := map[string]cty.Value{}
			for _, m := range args {
				for k, v := range m.AsValueMap() {
					merged[k] = v
				}
			}
			return cty.MapVal(merged), nil
		},
	})},
}

func values(t *testing.T, attrs hcl.Attributes) map[string]cty.Value {
	out := map[string]cty.Value{}
	for name, a := range attrs {
		v, diags := a.Expr.Value(nil)
		require.False(t, diags.HasErrors(), diags.Error())
		out[name] = v
	}
	return out
}

func TestProviderOverrideForEmulators(t *testing.T) {
	cfg := ProviderConfig{Endpoint: "http://127.0.0.1:4566", AccessKey: "AKIDEXAMPLE", SecretKey: "secret", SessionToken: "token", RunID: "t0123abcd"}
	providers := parseOverride(t, ProviderOverride(cfg, []ProviderBlock{{Alias: "eu_west_1"}, {Alias: "us_east_1"}}))

	require.Len(t, providers, 3, "the default block and one per alias")
	for alias, p := range providers {
		t.Run("alias="+alias, func(t *testing.T) {
			assert.Equal(t, "AKIDEXAMPLE", p.attrs["access_key"].AsString())
			assert.Equal(t, "secret", p.attrs["secret_key"].AsString())
			assert.Equal(t, "token", p.attrs["token"].AsString())
			for _, flag := range []string{"skip_credentials_validation", "skip_metadata_api_check", "skip_requesting_account_id", "s3_use_path_style"} {
				assert.True(t, p.attrs[flag].True(), "%s must be true", flag)
			}
			assert.NotContains(t, p.attrs, "region", "each block keeps the region it sets")
			require.Len(t, p.endpoints, len(Services))
			for _, svc := range Services {
				assert.Equal(t, "http://127.0.0.1:4566", p.endpoints[svc].AsString(), "endpoint of %s", svc)
			}
			assert.Equal(t, "t0123abcd", p.tags[RunIDTag].AsString())
		})
	}
}

func TestProviderOverrideForAWS(t *testing.T) {
	providers := parseOverride(t, ProviderOverride(ProviderConfig{RunID: "r0123abcd"}, nil))
	require.Len(t, providers, 1)
	p := providers[""]
	assert.Empty(t, p.endpoints, "AWS uses its own endpoints")
	for _, attr := range []string{"access_key", "secret_key", "token", "skip_credentials_validation", "s3_use_path_style"} {
		assert.NotContains(t, p.attrs, attr, "the provider's default credential chain and checks stay on")
	}
	assert.Equal(t, "r0123abcd", p.tags[RunIDTag].AsString(), "every resource carries the run id")
}

func TestProviderOverrideKeepsTheFolderTags(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "versions.tf"), []byte(`
provider "aws" {
  region = var.region
  default_tags {
    tags = var.tags
  }
}
provider "aws" {
  alias  = "eu"
  region = "eu-west-1"
}
`), 0o644))
	folder, err := ReadFolder(dir)
	require.NoError(t, err)
	providers := parseOverride(t, ProviderOverride(ProviderConfig{RunID: "r1"}, folder.Providers))
	require.Len(t, providers, 2)
	assert.Equal(t, map[string]cty.Value{"project": cty.StringVal("mediastack"), RunIDTag: cty.StringVal("r1")}, providers[""].tags,
		"an override replaces default_tags whole, so the folder's own tags are merged in")
	assert.Equal(t, map[string]cty.Value{RunIDTag: cty.StringVal("r1")}, providers["eu"].tags)
}

func TestServicesCoverTheStack(t *testing.T) {
	for _, svc := range []string{"s3", "sqs", "sns", "lambda", "iam", "sts", "rds", "secretsmanager", "ec2", "elbv2", "autoscaling", "cloudfront", "route53", "cognitoidp", "logs", "cloudwatch"} {
		assert.Contains(t, Services, svc)
	}
}

func TestReadFolder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(`
provider "aws" {
  region = var.region
}
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
}
provider "other" {
  alias = "ignored"
}
variable "region" {
  type = string
}
variable "name_prefix" {
  type = string
}
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, OverrideFile), []byte(`provider "aws" { alias = "stale" }`), 0o644))

	folder, err := ReadFolder(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"us_east_1"}, folder.Aliases, "aws aliases only, the harness's own override ignored")
	assert.Equal(t, map[string]bool{"region": true, "name_prefix": true}, folder.Variables)

	tg := &Target{Name: AWS, RunID: "t1", Region: "eu-west-1"}
	vars, err := tg.Vars(dir, map[string]any{"extra": 1})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"name_prefix": "t1", "region": "eu-west-1", "extra": 1}, vars,
		"force_destroy is only passed where it is declared")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "gaps.tf"), []byte(`variable "restrict_dlq_sources" {
  type = bool
}
`), 0o644))
	vars, err = tg.Vars(dir, nil)
	require.NoError(t, err)
	assert.NotContains(t, vars, "restrict_dlq_sources", "real AWS keeps the module's default")
	local := &Target{Name: Local, RunID: "t1", Region: "us-east-1"}
	vars, err = local.Vars(dir, nil)
	require.NoError(t, err)
	assert.Equal(t, false, vars["restrict_dlq_sources"], "the emulator's gaps are turned off on the local target only")
}

func TestReadFolderReportsSyntaxErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(`provider "aws" {`), 0o644))
	_, err := ReadFolder(dir)
	assert.ErrorContains(t, err, "main.tf")
}

func TestParseName(t *testing.T) {
	for in, want := range map[string]Name{"": Local, "local": Local, "LocalStack": LocalStack, " aws ": AWS} {
		got, err := parseName(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := parseName("gcp")
	assert.ErrorContains(t, err, "use local (default), localstack or aws")
}

func TestAWSTargetNeedsOptInAndCredentials(t *testing.T) {
	env := func(vals map[string]string) func(string) string { return func(k string) string { return vals[k] } }

	err := checkAWSOptIn(env(nil), nil)
	assert.ErrorContains(t, err, AWSOptInEnv+"=1", "without the opt-in the aws target refuses to run")

	err = checkAWSOptIn(env(map[string]string{AWSOptInEnv: "1"}), errors.New("no valid providers in chain"))
	assert.ErrorContains(t, err, "no AWS credentials")

	assert.NoError(t, checkAWSOptIn(env(map[string]string{AWSOptInEnv: "1"}), nil))
}

func TestRunIDs(t *testing.T) {
	a, err := NewRunID()
	require.NoError(t, err)
	b, err := NewRunID()
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	assert.Regexp(t, `^[a-z][0-9a-f]{8}$`, a)
}

func TestCopySourcesKeepsTerraformOnly(t *testing.T) {
	root, dst := t.TempDir(), t.TempDir()
	files := map[string]string{
		"main.tf":                                "# root",
		"go.mod":                                 "module x",
		"modules/a/main.tf":                      "# a",
		"modules/a/templates/user-data.sh.tftpl": "#!/bin/sh",
		"modules/a/.terraform/providers/x":       "binary",
		"modules/a/tests/a.tftest.hcl":           "run {}",
		"examples/e/main.tf":                     "# e",
		"examples/e/terraform.tfstate":           "{}",
		"build/transcoder.zip":                   "zip",
		"lambda-src/x/main.go":                   "package main",
	}
	for name, body := range files {
		path := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	require.NoError(t, CopySources(root, dst))
	for _, kept := range []string{"main.tf", "modules/a/main.tf", "modules/a/templates/user-data.sh.tftpl", "examples/e/main.tf"} {
		assert.FileExists(t, filepath.Join(dst, kept))
	}
	for _, dropped := range []string{"go.mod", "modules/a/.terraform", "modules/a/tests", "examples/e/terraform.tfstate", "build", "lambda-src"} {
		assert.NoFileExists(t, filepath.Join(dst, dropped))
		assert.NoDirExists(t, filepath.Join(dst, dropped))
	}
}

func TestVarOptionsRenderValuesTerraformReads(t *testing.T) {
	opts, err := VarOptions(map[string]any{
		"name_prefix": "r1",
		"regions":     []string{"us-east-1", "eu-west-1"},
		"dns":         map[string]any{"zone_name": "media.example.com"},
		"force":       true,
	})
	require.NoError(t, err)
	want := []*tfexec.VarOption{
		tfexec.Var(`dns={"zone_name":"media.example.com"}`),
		tfexec.Var("force=true"),
		tfexec.Var("name_prefix=r1"),
		tfexec.Var(`regions=["us-east-1","eu-west-1"]`),
	}
	assert.Equal(t, want, opts, "strings as they are, the rest as JSON, sorted by name")
}
