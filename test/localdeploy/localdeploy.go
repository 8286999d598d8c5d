// Package localdeploy brings the platform up on this machine: the emulator, `terraform
// apply` into an emulated account (of the repository's root stack for one region, of
// examples/multi-region stamped a state per region for more), the local cloud running what
// was deployed, and a signed-in demo user. `make demo` and `make up` use it.
package localdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/mediastack/terraform-aws-mediastack/stamp"
	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
	r53dns "github.com/mediastack/terraform-aws-mediastack/test/localcloud/dns"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// Options configure Up.
type Options struct {
	// Stage runs one named step and reports it (the demo prints each with its timing); nil
	// runs steps silently.
	Stage func(name string, fn func() error) error
	// Logf receives what the local cloud reports; nil discards it.
	Logf func(format string, args ...any)
	// Regions to deploy, the home first; one (Region) when empty. With more than one, each
	// has a state of its own (examples/multi-region) and DNS clients from 127.0.<n>.0/24 are
	// placed in the n-th region (ClientRegionPrefix).
	Regions []string
	// Cloud holds further local cloud options (OnBatch, ClientCountries); Up sets its
	// Emulator, Namespace, Manifest, Regions, ClientRegions and Logf.
	Cloud localcloud.Options
	// Vars set more of the root stack's variables, over the local target's (one region).
	Vars map[string]any
}

// PrintStage is a Stage for commands: it prints the step's name, runs it, and prints how
// long it took, or returns its error prefixed with its name.
func PrintStage(name string, fn func() error) error {
	fmt.Printf("==> %s\n", name)
	began := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("    done in %s\n", time.Since(began).Round(100*time.Millisecond))
	return nil
}

// ClientRegionPrefix is where the DNS clients of the i-th region are (from 0, the home):
// 127.0.<i+1>.0/24, so that a client presents itself as being in a region by the loopback
// address it sends from.
func ClientRegionPrefix(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{127, 0, byte(i + 1), 0}), 24) //nolint:gosec // at most a few regions
}

// Stack is the root stack deployed on the local target with its local cloud running.
type Stack struct {
	Emulator  *emulator.Emulator
	Target    *target.Target
	Cloud     *localcloud.Cloud
	Outputs   map[string]tfexec.OutputMeta
	Endpoints localcloud.Endpoints

	tf         *tfexec.Terraform
	moreVars   map[string]any // Options.Vars
	vars       []*tfexec.VarOption
	stamp      *stamp.Config // the states of a multi-region deployment; nil for the root stack
	logf       func(format string, args ...any)
	applied    bool
	removeWork func() error
	stage      func(name string, fn func() error) error
}

// Region is where the stack runs.
const Region = "us-east-1"

// Up starts the emulator, applies the root stack, starts the local cloud and signs the demo
// user in. On failure it tears down what it brought up. ctx bounds the bring-up only.
func Up(ctx context.Context, opts Options) (_ *Stack, err error) {
	s := &Stack{stage: opts.Stage, logf: opts.Logf, moreVars: opts.Vars}
	if s.stage == nil {
		s.stage = func(_ string, fn func() error) error { return fn() }
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Down(context.WithoutCancel(ctx)))
		}
	}()
	root, err := target.RepoRoot()
	if err != nil {
		return nil, err
	}
	manifest := filepath.Join(root, "build", "manifest.json")

	if err := s.stage("start the local AWS emulator", func() error {
		s.Emulator, err = emulator.Start(ctx, emulator.Options{Region: Region})
		return err
	}); err != nil {
		return nil, err
	}
	ns, err := s.Emulator.NewNamespace(ctx)
	if err != nil {
		return nil, err
	}
	if s.Target, err = target.NewLocal(ctx, ns); err != nil {
		return nil, err
	}
	work, removeWork, err := procs.MkdirTemp("mediastack-stack-*")
	if err != nil {
		return nil, err
	}
	s.removeWork = removeWork
	regions := opts.Regions
	if len(regions) == 0 {
		regions = []string{Region}
	}
	if len(regions) == 1 {
		err = s.applyRoot(ctx, root, work, regions[0])
	} else {
		err = s.applyStamped(ctx, root, work, regions)
	}
	if err != nil {
		return nil, err
	}

	if err := s.stage("start the local cloud (functions, fleet, database, CDN, DNS)", func() error {
		cloudOpts := opts.Cloud
		cloudOpts.Emulator, cloudOpts.Namespace, cloudOpts.Manifest, cloudOpts.Logf = s.Emulator, ns, manifest, opts.Logf
		cloudOpts.Regions = regions
		for i, r := range regions {
			cloudOpts.ClientRegions = append(cloudOpts.ClientRegions, r53dns.ClientRegion{Prefix: ClientRegionPrefix(i), Region: r})
		}
		s.Cloud, err = localcloud.Start(ctx, cloudOpts)
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.stage("sign in the demo user ("+localcloud.DemoUser+")", func() error {
		_, err := s.Cloud.SignIn(ctx, localcloud.DemoUser, localcloud.DemoPassword)
		return err
	}); err != nil {
		return nil, err
	}
	s.Endpoints = s.Cloud.Endpoints()
	if out, ok := s.Outputs["web_app_url"]; ok {
		_ = json.Unmarshal(out.Value, &s.Endpoints.WebAppURL) // null without the app
	}
	return s, nil
}

// RegionOutput is one field of a region's entry in the root stack's regions output (e.g.
// transcoder_function_name).
func (s *Stack) RegionOutput(region, field string) (string, error) {
	out, ok := s.Outputs["regions"]
	if !ok {
		return "", errors.New("the stack has no regions output")
	}
	var regions map[string]map[string]any
	if err := json.Unmarshal(out.Value, &regions); err != nil {
		return "", fmt.Errorf("regions output: %w", err)
	}
	r, ok := regions[region]
	if !ok {
		return "", fmt.Errorf("the regions output has no %s", region)
	}
	v, ok := r[field].(string)
	if !ok {
		return "", fmt.Errorf("the regions output of %s has no %s", region, field)
	}
	return v, nil
}

// applyRoot applies the root stack for one region.
func (s *Stack) applyRoot(ctx context.Context, root, work, region string) error {
	cliConfig, err := target.CLIConfigFile(root)
	if err != nil {
		return err
	}
	dir, err := s.Target.PrepareFolder(root, work, ".")
	if err != nil {
		return err
	}
	if s.tf, err = s.Target.TfexecIn(dir, cliConfig); err != nil {
		return err
	}
	if s.vars, err = stackVars(root, dir, s.Target, region, s.Emulator.URL(), s.moreVars); err != nil {
		return err
	}
	if err := s.stage("terraform apply (the root stack)", func() error {
		if err := s.tf.Init(ctx, tfexec.Backend(false)); err != nil {
			return err
		}
		s.applied = true // destroy even a half-applied stack
		apply := []tfexec.ApplyOption{tfexec.Parallelism(20)}
		for _, v := range s.vars {
			apply = append(apply, v)
		}
		return s.tf.Apply(ctx, apply...)
	}); err != nil {
		return err
	}
	s.Outputs, err = s.tf.Output(ctx)
	return err
}

// applyStamped stamps examples/multi-region in regions, a state each.
func (s *Stack) applyStamped(ctx context.Context, root, work string, regions []string) error {
	vars := map[string]any{
		"identity":     map[string]any{"allow_password_auth": true},
		"zone_name":    s.Target.RunID + ".media.example.com",
		"health_check": map[string]any{"request_interval": 10, "failure_threshold": 2},
	}
	for variable, path := range artifacts(root) {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s is missing: run scripts/setup (or make setup) to build it", path)
		}
		vars[variable] = path
	}
	cfg, err := s.Target.Stamp(root, work, regions, vars)
	if err != nil {
		return err
	}
	cfg.Logf = s.logf
	s.stamp = &cfg
	return s.stage(fmt.Sprintf("terraform apply, a state per region (%s) and the edge", strings.Join(regions, ", ")), func() error {
		s.applied = true
		_, err := stamp.Apply(ctx, cfg)
		return err
	})
}

// artifacts are the built programs the stacks deploy, by the variable that names them.
func artifacts(root string) map[string]string {
	return map[string]string{
		"upload_api_zip_path":       filepath.Join(root, "build", "upload-api.zip"),
		"transcoder_zip_path":       filepath.Join(root, "build", "transcoder.zip"),
		"transcode_worker_zip_path": filepath.Join(root, "build", "transcode-worker.zip"),
	}
}

// stackVars are the root stack's variables on the local target: the built artifacts, plain
// HTTP at the load balancer (no certificate authority AWS trusts here), password sign-in
// for the demo user, latency records in a zone of the run's own, and the web app, which
// browsers sign in to and upload through at the emulator's endpoint.
func stackVars(root, dir string, tg *target.Target, region, emulatorURL string, more map[string]any) ([]*tfexec.VarOption, error) {
	app, err := WebApp(root, emulatorURL)
	if err != nil {
		return nil, err
	}
	extra := map[string]any{
		"regions":          []string{region},
		"allow_plain_http": true,
		"identity":         map[string]any{"allow_password_auth": true},
		"dns":              map[string]any{"zone_name": tg.RunID + ".media.example.com", "health_checks": false},
		"web_app":          app,
	}
	for variable, path := range artifacts(root) {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%s is missing: run scripts/setup (or make setup) to build it", path)
		}
		extra[variable] = path
	}
	maps.Copy(extra, more)
	vars, err := tg.Vars(dir, extra)
	if err != nil {
		return nil, err
	}
	return target.VarOptions(vars)
}

// WebApp is the web_app variable of the root stack and examples/complete on the local
// target: the app as scripts/setup built it, and the emulator's endpoint, where browsers
// reach Cognito and the presigned uploads.
func WebApp(root, emulatorURL string) (map[string]any, error) {
	dir := filepath.Join(root, "build", "web")
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		return nil, fmt.Errorf("the web app is not built (%s has no index.html): run scripts/setup (or make setup) to build it", dir)
	}
	return map[string]any{"source_dir": dir, "aws_endpoint": emulatorURL}, nil
}

// WriteEndpoints writes the endpoints as JSON to path, for clients outside this process.
func (s *Stack) WriteEndpoints(path string) error {
	data, err := json.MarshalIndent(s.Endpoints, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path) // readers never see half a file
}

// DestroyTimeout bounds terraform destroy at teardown: of the root stack, and of every state
// of a multi-region deployment.
const (
	DestroyTimeout        = 5 * time.Minute
	StampedDestroyTimeout = 15 * time.Minute
)

// Down stops the local cloud, destroys the stack and stops the emulator; safe on a
// partial bring-up and to call twice.
func (s *Stack) Down(ctx context.Context) error {
	var errs []error
	if s.Cloud != nil {
		errs = append(errs, s.Cloud.Stop())
		s.Cloud = nil
	}
	if s.applied {
		errs = append(errs, s.stage("terraform destroy", func() error {
			if s.stamp != nil {
				ctx, cancel := context.WithTimeout(ctx, StampedDestroyTimeout)
				defer cancel()
				return stamp.Destroy(ctx, *s.stamp)
			}
			ctx, cancel := context.WithTimeout(ctx, DestroyTimeout)
			defer cancel()
			destroy := []tfexec.DestroyOption{tfexec.Parallelism(20)}
			for _, v := range s.vars {
				destroy = append(destroy, v)
			}
			return s.tf.Destroy(ctx, destroy...)
		}))
		s.applied, s.Outputs = false, nil
	}
	if s.Emulator != nil {
		errs = append(errs, s.Emulator.Stop())
		s.Emulator = nil
	}
	if s.removeWork != nil {
		errs = append(errs, s.removeWork())
		s.removeWork = nil
	}
	return errors.Join(errs...)
}
