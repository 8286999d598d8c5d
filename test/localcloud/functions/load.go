package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
)

// Artifact is one built zip as scripts/artifacts lists it in manifest.json.
type Artifact struct {
	Name       string `json:"name"`
	Zip        string `json:"zip"` // relative to the manifest's folder
	Arch       string `json:"arch"`
	SHA256     string `json:"sha256"`
	CodeSha256 string `json:"code_sha256"` // base64, as Lambda's CodeSha256
}

// Manifest is the list of built artifacts (build/manifest.json).
type Manifest struct {
	Dir       string     `json:"-"` // the folder the zips are in
	Artifacts []Artifact `json:"artifacts"`
}

// ReadManifest reads the manifest.json that scripts/artifacts wrote.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read artifact manifest (run scripts/setup to build the artifacts): %w", err)
	}
	m := &Manifest{Dir: filepath.Dir(path)}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("parse artifact manifest %s: %w", path, err)
	}
	return m, nil
}

// ByCodeSha256 returns the artifact whose zip Lambda would report as codeSha256.
func (m *Manifest) ByCodeSha256(codeSha256 string) (Artifact, bool) {
	for _, a := range m.Artifacts {
		if a.CodeSha256 == codeSha256 {
			return a, true
		}
	}
	return Artifact{}, false
}

// lambdaArch maps a Lambda architecture to the GOARCH that artifacts carry.
var lambdaArch = map[lambdatypes.Architecture]string{
	lambdatypes.ArchitectureX8664: "amd64",
	lambdatypes.ArchitectureArm64: "arm64",
}

// Load reads the deployed function name through the Lambda API of cfg and returns the Spec
// that runs it: its code must be an artifact of manifest (same CodeSha256), and its
// environments get credentials of its execution role, assumed through STS with cfg, which
// plays the Lambda service. Callers may adjust the Spec (ExtraEnv, MaxConcurrency) before New.
func Load(ctx context.Context, cfg aws.Config, name string, manifest *Manifest) (*Spec, error) {
	out, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
	if err != nil {
		return nil, fmt.Errorf("get function %s: %w", name, err)
	}
	c := out.Configuration
	switch {
	case c.PackageType == lambdatypes.PackageTypeImage:
		return nil, fmt.Errorf("function %s is a container image: the local cloud runs zip functions", name)
	case c.Runtime != lambdatypes.RuntimeProvidedal2023 && c.Runtime != lambdatypes.RuntimeProvidedal2 && c.Runtime != lambdatypes.RuntimeProvided:
		return nil, fmt.Errorf("function %s has runtime %q: the local cloud runs OS-only runtimes (provided.al2023) with a bootstrap", name, c.Runtime)
	case len(c.Layers) > 0:
		return nil, fmt.Errorf("function %s uses layers, which the local cloud does not provide", name)
	}
	codeSha := aws.ToString(c.CodeSha256)
	art, ok := manifest.ByCodeSha256(codeSha)
	if !ok {
		return nil, fmt.Errorf("function %s: the deployed code (CodeSha256 %s) matches no artifact in %s: run scripts/setup to build the artifacts, then deploy them again", name, codeSha, filepath.Join(manifest.Dir, "manifest.json"))
	}
	arch := lambdatypes.ArchitectureX8664 // Lambda's default
	if len(c.Architectures) > 0 {
		arch = c.Architectures[0]
	}
	if art.Arch != "" && lambdaArch[arch] != art.Arch {
		return nil, fmt.Errorf("function %s is deployed as %s but its artifact %s is built for %s", name, arch, art.Name, art.Arch)
	}
	if lambdaArch[arch] != runtime.GOARCH {
		return nil, fmt.Errorf("function %s runs on %s, this machine is %s: build the artifacts with MEDIASTACK_ARCH=%s", name, arch, runtime.GOARCH, runtime.GOARCH)
	}

	role := aws.ToString(c.Role)
	// The session is named after the function, as Lambda names it.
	creds := roles.Credentials(cfg, role, name)
	// Fail here, not at the first invoke, when the role cannot be assumed.
	if _, err := creds.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("function %s: assume execution role %s: %w", name, role, err)
	}

	spec := &Spec{
		Name:        aws.ToString(c.FunctionName),
		ARN:         aws.ToString(c.FunctionArn),
		Version:     aws.ToString(c.Version),
		Region:      cfg.Region,
		CodeZip:     filepath.Join(manifest.Dir, art.Zip),
		Handler:     aws.ToString(c.Handler),
		Timeout:     time.Duration(aws.ToInt32(c.Timeout)) * time.Second,
		MemoryMB:    int(aws.ToInt32(c.MemorySize)),
		Credentials: creds,
	}
	if c.EphemeralStorage != nil {
		spec.EphemeralStorageMB = int(aws.ToInt32(c.EphemeralStorage.Size))
	}
	if c.Environment != nil {
		spec.Env = c.Environment.Variables
	}
	if out.Concurrency != nil && out.Concurrency.ReservedConcurrentExecutions != nil {
		spec.MaxConcurrency = int(*out.Concurrency.ReservedConcurrentExecutions)
	}
	return spec, nil
}

// RoleConfig returns cfg acting as the function's execution role, as Lambda's pollers do
// when they read the function's queues.
func (s *Spec) RoleConfig(cfg aws.Config) aws.Config {
	cfg = cfg.Copy()
	if s.Credentials != nil {
		cfg.Credentials = s.Credentials
	}
	return cfg
}
