package target

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Services lists every AWS service the stack uses, by the key of the AWS provider's
// endpoints block. Local targets send all of them to one endpoint.
var Services = []string{
	"autoscaling", "cloudfront", "cloudwatch", "cognitoidp", "ec2", "elbv2", "events", "iam",
	"kms", "lambda", "logs", "rds", "route53", "s3", "secretsmanager", "sns", "sqs", "ssm",
	"sts", "xray",
}

// OverrideFile is the name of the provider override the harness writes into a folder
// before running Terraform there.
const OverrideFile = "zz_mediastack_target_override.tf"

// RunIDTag is the tag every resource of a test run carries (provider default_tags), so that
// leftovers of a run can be found on a shared account.
const RunIDTag = "mediastack:run-id"

// ProviderConfig is what a target changes in the AWS provider configuration.
type ProviderConfig struct {
	Endpoint     string // one endpoint for every service; empty: AWS's own endpoints
	AccessKey    string // static credentials; empty: the provider's default chain
	SecretKey    string
	SessionToken string
	RunID        string // tagged on every resource
}

// ProviderBlock is what the override needs of one aws provider block of a folder.
type ProviderBlock struct {
	Alias string // empty for the default provider
	// DefaultTags is the source of the block's own default_tags.tags expression, if any.
	// An override replaces a nested block whole, so the run-id tag is merged into it.
	DefaultTags string
}

// ProviderOverride renders an override file that applies cfg to the default aws provider
// block and to every given one. Override files merge argument by argument, so the region
// each block sets stays as written; nested blocks are replaced whole, so default_tags
// keeps the folder's own tags and adds the run id.
func ProviderOverride(cfg ProviderConfig, blocks []ProviderBlock) []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.AppendUnstructuredTokens(hclwrite.Tokens{{
		Type:  hclsyntax.TokenComment,
		Bytes: []byte("# Written by the mediastack test harness for this target; do not edit.\n"),
	}})
	if len(blocks) == 0 || blocks[0].Alias != "" {
		blocks = append([]ProviderBlock{{}}, blocks...)
	}
	for _, p := range blocks {
		block := body.AppendNewBlock("provider", []string{"aws"}).Body()
		if p.Alias != "" {
			block.SetAttributeValue("alias", cty.StringVal(p.Alias))
		}
		if cfg.AccessKey != "" {
			block.SetAttributeValue("access_key", cty.StringVal(cfg.AccessKey))
			block.SetAttributeValue("secret_key", cty.StringVal(cfg.SecretKey))
			if cfg.SessionToken != "" {
				block.SetAttributeValue("token", cty.StringVal(cfg.SessionToken))
			}
		}
		if cfg.Endpoint != "" {
			// Emulators have no account metadata service and no real credentials to check.
			block.SetAttributeValue("skip_credentials_validation", cty.True)
			block.SetAttributeValue("skip_metadata_api_check", cty.True)
			block.SetAttributeValue("skip_requesting_account_id", cty.True)
			block.SetAttributeValue("s3_use_path_style", cty.True)
			endpoints := block.AppendNewBlock("endpoints", nil).Body()
			for _, svc := range Services {
				endpoints.SetAttributeValue(svc, cty.StringVal(cfg.Endpoint))
			}
		}
		if cfg.RunID != "" {
			tags := block.AppendNewBlock("default_tags", nil).Body()
			runID := hclwrite.TokensForValue(cty.MapVal(map[string]cty.Value{RunIDTag: cty.StringVal(cfg.RunID)}))
			if p.DefaultTags == "" {
				tags.SetAttributeRaw("tags", runID)
			} else {
				own := hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(p.DefaultTags)}}
				tags.SetAttributeRaw("tags", hclwrite.TokensForFunctionCall("merge", own, runID))
			}
		}
		body.AppendNewline()
	}
	return hclwrite.Format(f.Bytes())
}

// FolderConfig is what the harness reads of a Terraform folder.
type FolderConfig struct {
	Providers []ProviderBlock // its aws provider blocks, the default one first
	Aliases   []string        // aliases of its aws provider blocks
	Variables map[string]bool // variables it declares
}

// ReadFolder parses the *.tf files of dir (not its modules) for provider aliases and
// variable names.
func ReadFolder(dir string) (FolderConfig, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return FolderConfig{}, err
	}
	cfg := FolderConfig{Variables: map[string]bool{}}
	providers := map[string]ProviderBlock{"": {}}
	parser := hclparse.NewParser()
	schema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
	}}
	for _, path := range files {
		if filepath.Base(path) == OverrideFile {
			continue
		}
		file, diags := parser.ParseHCLFile(path)
		if diags.HasErrors() {
			return FolderConfig{}, fmt.Errorf("parse %s: %s", path, diags.Error())
		}
		content, _, diags := file.Body.PartialContent(schema)
		if diags.HasErrors() {
			return FolderConfig{}, fmt.Errorf("read %s: %s", path, diags.Error())
		}
		for _, block := range content.Blocks {
			switch block.Type {
			case "variable":
				cfg.Variables[block.Labels[0]] = true
			case "provider":
				if block.Labels[0] != "aws" {
					continue
				}
				p, err := readProvider(path, file.Bytes, block.Body)
				if err != nil {
					return FolderConfig{}, err
				}
				providers[p.Alias] = p
				if p.Alias != "" {
					cfg.Aliases = append(cfg.Aliases, p.Alias)
				}
			}
		}
	}
	sort.Strings(cfg.Aliases)
	cfg.Providers = append(cfg.Providers, providers[""])
	for _, alias := range cfg.Aliases {
		cfg.Providers = append(cfg.Providers, providers[alias])
	}
	return cfg, nil
}

var providerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "alias"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "default_tags"}},
}

// readProvider reads the alias and the default_tags expression of an aws provider block.
func readProvider(path string, src []byte, body hcl.Body) (ProviderBlock, error) {
	var p ProviderBlock
	content, _, diags := body.PartialContent(providerSchema)
	if diags.HasErrors() {
		return p, fmt.Errorf("read %s: %s", path, diags.Error())
	}
	if a, ok := content.Attributes["alias"]; ok {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.Type() != cty.String {
			return p, fmt.Errorf("%s: a provider alias must be a literal string", path)
		}
		p.Alias = v.AsString()
	}
	for _, block := range content.Blocks {
		attrs, _ := block.Body.JustAttributes()
		if a, ok := attrs["tags"]; ok {
			p.DefaultTags = string(a.Expr.Range().SliceBytes(src))
		}
	}
	return p, nil
}

// RepoRoot finds the repository root: the nearest folder above the working directory that
// holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run from inside the repository")
		}
		dir = parent
	}
}

// CLIConfigFile returns the project-local Terraform CLI configuration scripts/setup writes.
func CLIConfigFile(root string) (string, error) {
	path := filepath.Join(root, "build", "terraform.rc")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s is missing: run scripts/setup (or make setup) first", path)
	}
	return path, nil
}

// terraformSources are the parts of the repository Terraform needs: the root stack,
// modules and examples. Go sources, build output and state stay behind.
var terraformSources = []string{"modules", "examples"}

// CopySources copies the Terraform sources of the repository at root into dst, keeping
// their layout so that relative module sources resolve.
func CopySources(root, dst string) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".tf") {
			if err := copyFile(filepath.Join(root, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
		}
	}
	for _, dir := range terraformSources {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() && (name == ".terraform" || name == "tests") {
				return filepath.SkipDir
			}
			if d.IsDir() || name == ".terraform.lock.hcl" || strings.Contains(name, ".tfstate") || name == OverrideFile {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			return copyFile(path, filepath.Join(dst, rel))
		})
		if err != nil {
			return fmt.Errorf("copy %s: %w", dir, err)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, info.Mode().Perm()) //nolint:gosec // a path or program of the test harness itself
}
