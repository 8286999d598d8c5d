// Package target decides where a test's stack runs, local emulator, LocalStack or a real AWS
// account, and builds the Terraform and SDK configuration for it. Tests talk to the stack
// only through what this package gives them, so one suite serves every target.
package target

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/mediastack/terraform-aws-mediastack/stamp"
	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Name names a target.
type Name string

// The targets.
const (
	Local      Name = "local"
	LocalStack Name = "localstack"
	AWS        Name = "aws"
)

// Environment variables that choose and configure the target.
const (
	TargetEnv             = "MEDIASTACK_TARGET"
	AWSOptInEnv           = "MEDIASTACK_AWS_OPT_IN"
	LocalStackEndpointEnv = "LOCALSTACK_ENDPOINT"
	// BinaryEnv names the Terraform or OpenTofu executable every deployment runs.
	BinaryEnv = "MEDIASTACK_TF_BINARY"
)

// Binary is the executable MEDIASTACK_TF_BINARY names (a path, or a name on PATH such as
// tofu); terraform when it is unset.
func Binary() string {
	if b := strings.TrimSpace(os.Getenv(BinaryEnv)); b != "" {
		return b
	}
	return "terraform"
}

// FromEnv returns the target MEDIASTACK_TARGET names; local when it is unset.
func FromEnv() (Name, error) {
	return parseName(os.Getenv(TargetEnv))
}

func parseName(s string) (Name, error) {
	switch Name(strings.ToLower(strings.TrimSpace(s))) {
	case "", Local:
		return Local, nil
	case LocalStack:
		return LocalStack, nil
	case AWS:
		return AWS, nil
	}
	return "", fmt.Errorf("%s=%q is not a target: use local (default), localstack or aws", TargetEnv, s)
}

// Target is where one test deploys.
type Target struct {
	Name   Name
	RunID  string // unique per test: prefixes every resource name and tags every resource
	Region string

	provider   ProviderConfig
	awsCfg     aws.Config
	env        map[string]string
	httpClient *http.Client
}

// NewLocal returns the local target for an emulator namespace.
func NewLocal(ctx context.Context, ns *emulator.Namespace) (*Target, error) {
	cfg, err := ns.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	tg := newEndpointTarget(Local, ns.ID, ns.Region, ns.Endpoint, ns.Credentials, cfg)
	tg.env["AWS_CA_BUNDLE"] = ns.CABundle
	if tg.httpClient, err = clientTrusting(ns.CABundle); err != nil {
		return nil, err
	}
	return tg, nil
}

func newEndpointTarget(name Name, runID, region, endpoint string, creds aws.Credentials, cfg aws.Config) *Target {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey,
		"AWS_REGION":            region,
		"AWS_DEFAULT_REGION":    region,
		"AWS_ENDPOINT_URL":      endpoint,
	}
	if creds.SessionToken != "" {
		env["AWS_SESSION_TOKEN"] = creds.SessionToken
	}
	return &Target{
		Name:   name,
		RunID:  runID,
		Region: region,
		provider: ProviderConfig{
			Endpoint: endpoint, AccessKey: creds.AccessKeyID, SecretKey: creds.SecretAccessKey,
			SessionToken: creds.SessionToken, RunID: runID,
		},
		awsCfg: cfg,
		env:    env,
	}
}

// NewAWS returns the target of the AWS account the SDK's default chain finds credentials
// for, once AWSOptInEnv confirms that real, billed resources may be made there.
func NewAWS(ctx context.Context) (*Target, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	var creds aws.Credentials
	if err == nil {
		creds, err = cfg.Credentials.Retrieve(ctx)
	}
	if err := checkAWSOptIn(os.Getenv, err); err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	runID, err := NewRunID()
	if err != nil {
		return nil, err
	}
	_ = creds // the provider finds them the same way the SDK did
	return &Target{
		Name: AWS, RunID: runID, Region: cfg.Region,
		provider: ProviderConfig{RunID: runID},
		awsCfg:   cfg,
		env:      map[string]string{"AWS_REGION": cfg.Region},
	}, nil
}

// checkAWSOptIn refuses the aws target unless it was asked for explicitly and credentials
// resolved: a test suite must never spend money by accident.
func checkAWSOptIn(getenv func(string) string, credsErr error) error {
	if getenv(AWSOptInEnv) != "1" {
		return fmt.Errorf("the aws target creates real, billed resources: set %s=1 to confirm, with credentials for a sandbox account", AWSOptInEnv)
	}
	if credsErr != nil {
		return fmt.Errorf("no AWS credentials: %w (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)", credsErr)
	}
	return nil
}

// NewRunID returns a unique id usable in any AWS resource name: a letter, then 8 hex digits.
func NewRunID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "r" + hex.EncodeToString(b), nil
}

// clientTrusting returns an HTTP client that trusts the system roots and the CA in bundle.
func clientTrusting(bundle string) (*http.Client, error) {
	pem, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no certificate", bundle)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: transport, Timeout: time.Minute}, nil
}

// HTTPClient returns an HTTP client that trusts the target's endpoints, for requests the
// SDK does not make (JWKS documents, presigned URLs, CDN URLs).
func (tg *Target) HTTPClient() *http.Client {
	if tg.httpClient != nil {
		return tg.httpClient
	}
	return &http.Client{Timeout: time.Minute}
}

// AWSConfig returns an SDK configuration that reaches the target as this test.
func (tg *Target) AWSConfig() aws.Config { return tg.awsCfg.Copy() }

// S3Client returns an S3 client for the target; emulators need path-style addressing.
func (tg *Target) S3Client() *s3.Client {
	return s3.NewFromConfig(tg.awsCfg, func(o *s3.Options) { o.UsePathStyle = tg.provider.Endpoint != "" })
}

// Env returns the environment for processes that must reach the target as this test.
func (tg *Target) Env() map[string]string {
	env := make(map[string]string, len(tg.env))
	for k, v := range tg.env {
		env[k] = v
	}
	return env
}

// ProviderOverride renders the provider override for the folder at dir.
func (tg *Target) ProviderOverride(dir string) ([]byte, error) {
	folder, err := ReadFolder(dir)
	if err != nil {
		return nil, err
	}
	return ProviderOverride(tg.provider, folder.Providers), nil
}

// EmulatorDrift lists, by resource type, the attributes moto 5.2 reads back differently
// from what it was given, so that a second plan on the local target shows an update where
// AWS shows none. A test of idempotence tolerates exactly these on the local target and
// nothing on the others.
var EmulatorDrift = map[string][]string{
	// OAC ids are dropped from origins; the default certificate comes back with sni-only.
	"aws_cloudfront_distribution": {"origin", "viewer_certificate"},
	// The redrive policy comes back as JSON with other spacing.
	"aws_sqs_queue": {"redrive_policy"},
	// Rule descriptions are dropped; referenced groups come back as <account>/<sg-id>.
	"aws_vpc_security_group_egress_rule":  {"description", "referenced_security_group_id"},
	"aws_vpc_security_group_ingress_rule": {"description", "referenced_security_group_id"},
	// Parameters of a parameter group are not stored.
	"aws_db_parameter_group": {"parameter"},
	// The template's own tags come back as a launch-template tag specification.
	"aws_launch_template": {"tag_specifications"},
	// The capacity reservation preference is not returned, and the template version follows
	// the template's (drifting) latest version; a mixed instances policy's template comes
	// back without its version.
	"aws_autoscaling_group": {"capacity_reservation_specification", "launch_template", "mixed_instances_policy"},
	// Enabled is not returned; an empty predictive scaling block is.
	"aws_autoscaling_policy": {"enabled", "predictive_scaling_configuration"},
}

// AllowedDrift returns, by resource type, the attributes a second plan on this target may
// show as changed although nothing changed: EmulatorDrift on the local target, none elsewhere.
func (tg *Target) AllowedDrift() map[string][]string {
	if tg.Name == Local {
		return EmulatorDrift
	}
	return nil
}

// EmulatorGaps are the variables the local target sets because moto lacks an AWS feature
// the stack uses by default. Each one turns that feature off on the emulator only; the other
// targets keep the module's default.
var EmulatorGaps = map[string]any{
	// moto 5.2 does not store RedriveAllowPolicy, so the provider waits for it forever.
	"restrict_dlq_sources": false,
}

// Vars returns the variables for the folder at dir: name_prefix is the run id, region (and
// regions) the target's, force_destroy true (tests must be able to tear down what they
// filled), and on the local target the EmulatorGaps, each only where the folder declares
// it; extra wins.
func (tg *Target) Vars(dir string, extra map[string]any) (map[string]any, error) {
	folder, err := ReadFolder(dir)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{}
	defaults := map[string]any{"name_prefix": tg.RunID, "region": tg.Region, "regions": []string{tg.Region}, "force_destroy": true}
	if tg.Name == Local {
		for k, v := range EmulatorGaps {
			defaults[k] = v
		}
	}
	for k, v := range defaults {
		if folder.Variables[k] {
			vars[k] = v
		}
	}
	for k, v := range extra {
		vars[k] = v
	}
	return vars, nil
}

// VarOptions renders variables as terraform-exec -var options: strings as they are, other
// values as JSON, which Terraform reads as HCL. Sorted by name, so commands are repeatable.
func VarOptions(vars map[string]any) ([]*tfexec.VarOption, error) {
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	opts := make([]*tfexec.VarOption, 0, len(vars))
	for _, k := range names {
		value, ok := vars[k].(string)
		if !ok {
			data, err := json.Marshal(vars[k])
			if err != nil {
				return nil, fmt.Errorf("variable %s: %w", k, err)
			}
			value = string(data)
		}
		opts = append(opts, tfexec.Var(k+"="+value))
	}
	return opts, nil
}

// PrepareFolder copies the repository's Terraform sources from root into tmp and writes
// the provider override into folder (relative to root). It returns the copy of folder.
func (tg *Target) PrepareFolder(root, tmp, folder string) (string, error) {
	if err := CopySources(root, tmp); err != nil {
		return "", fmt.Errorf("copy Terraform sources: %w", err)
	}
	dir := filepath.Join(tmp, folder)
	override, err := tg.ProviderOverride(dir)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, OverrideFile), override, 0o644); err != nil {
		return "", fmt.Errorf("write provider override: %w", err)
	}
	return dir, nil
}

// PrepareFolderT is PrepareFolder for a test, in a temp dir removed at cleanup (or by the
// process guardian if the test binary dies); it also returns the CLI configuration file.
func (tg *Target) PrepareFolderT(t testing.TB, folder string) (dir, cliConfig string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("%v", err)
	}
	if cliConfig, err = CLIConfigFile(root); err != nil {
		t.Fatalf("%v", err)
	}
	dir, err = tg.PrepareFolder(root, procs.TempDir(t, "mediastack-tf-*"), folder)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return dir, cliConfig
}

// TerraformEnv is the environment of every Terraform run on this target: the target's
// credentials and endpoint, and the project-local CLI configuration.
func (tg *Target) TerraformEnv(cliConfig string) map[string]string {
	env := tg.Env()
	env["TF_CLI_CONFIG_FILE"] = cliConfig
	env["TF_IN_AUTOMATION"] = "1"
	return env
}

// Tfexec returns a terraform-exec handle on a private copy of folder on this target.
func (tg *Target) Tfexec(t testing.TB, folder string) *tfexec.Terraform {
	t.Helper()
	dir, cliConfig := tg.PrepareFolderT(t, folder)
	tf, err := tg.TfexecIn(dir, cliConfig)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return tf
}

// tfexecEnv is the whole environment of a Terraform run through terraform-exec, whose SetEnv
// replaces it: the target's (TerraformEnv, without TF_IN_AUTOMATION, which terraform-exec
// sets itself and refuses), then this process's other variables but its own TF_ ones.
func (tg *Target) tfexecEnv(cliConfig string) map[string]string {
	env := tg.TerraformEnv(cliConfig)
	delete(env, "TF_IN_AUTOMATION")
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && !strings.HasPrefix(k, "TF_") {
			if _, set := env[k]; !set {
				env[k] = v
			}
		}
	}
	return env
}

// TfexecIn returns a terraform-exec handle on dir, a folder prepared with PrepareFolder.
func (tg *Target) TfexecIn(dir, cliConfig string) (*tfexec.Terraform, error) {
	tf, err := tfexec.NewTerraform(dir, Binary())
	if err != nil {
		return nil, fmt.Errorf("terraform-exec: %w", err)
	}
	if err := tf.SetEnv(tg.tfexecEnv(cliConfig)); err != nil {
		return nil, fmt.Errorf("terraform-exec environment: %w", err)
	}
	return tf, nil
}

// MultiRegionFolder is the stamped multi-region example: a configuration per region and one
// for the edge.
const MultiRegionFolder = "examples/multi-region"

// Stamp returns the stamp configuration of examples/multi-region on this target for regions
// (the first is the home): its folders copied into tmp with the provider override, Vars'
// defaults with vars added for every state, a VPC range of its own for each region, and the
// target's Terraform environment.
func (tg *Target) Stamp(root, tmp string, regions []string, vars map[string]any) (stamp.Config, error) {
	if len(regions) == 0 {
		return stamp.Config{}, errors.New("stamp: no regions")
	}
	cliConfig, err := CLIConfigFile(root)
	if err != nil {
		return stamp.Config{}, err
	}
	regionDir, err := tg.PrepareFolder(root, tmp, MultiRegionFolder+"/region")
	if err != nil {
		return stamp.Config{}, err
	}
	edgeDir := filepath.Join(tmp, MultiRegionFolder, "edge")
	override, err := tg.ProviderOverride(edgeDir)
	if err == nil {
		err = os.WriteFile(filepath.Join(edgeDir, OverrideFile), override, 0o644)
	}
	if err != nil {
		return stamp.Config{}, fmt.Errorf("edge provider override: %w", err)
	}
	common, err := tg.Vars(regionDir, vars)
	if err != nil {
		return stamp.Config{}, err
	}
	perRegion := map[string]map[string]any{}
	for i, r := range regions {
		perRegion[r] = map[string]any{"cidr_block": fmt.Sprintf("10.%d.0.0/16", i)}
	}
	env := tg.tfexecEnv(cliConfig)
	return stamp.Config{
		Home: regions[0], Regions: regions,
		RegionConfig: regionDir, EdgeConfig: edgeDir,
		Vars: common, RegionVars: perRegion,
		Env: env, Parallelism: 20, Binary: Binary(),
	}, nil
}
