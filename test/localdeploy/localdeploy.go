// Package localdeploy brings the root stack up on this machine: the emulator, `terraform
// apply` of the repository's root stack into an emulated account, the local cloud running
// what was deployed, and a signed-in demo user. `make demo` and `make up` use it.
package localdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
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
	// Cloud holds further local cloud options (OnBatch, ClientRegions); Up sets its
	// Emulator, Namespace, Manifest and Logf.
	Cloud localcloud.Options
}

// Stack is the root stack deployed on the local target with its local cloud running.
type Stack struct {
	Emulator  *emulator.Emulator
	Target    *target.Target
	Cloud     *localcloud.Cloud
	Outputs   map[string]tfexec.OutputMeta
	Endpoints localcloud.Endpoints

	tf         *tfexec.Terraform
	vars       []*tfexec.VarOption
	removeWork func() error
	stage      func(name string, fn func() error) error
}

// Region is where the stack runs.
const Region = "us-east-1"

// Up starts the emulator, applies the root stack, starts the local cloud and signs the demo
// user in. On failure it tears down what it brought up. ctx bounds the bring-up only.
func Up(ctx context.Context, opts Options) (_ *Stack, err error) {
	s := &Stack{stage: opts.Stage}
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
	cliConfig, err := target.CLIConfigFile(root)
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
	dir, err := s.Target.PrepareFolder(root, work, ".")
	if err != nil {
		return nil, err
	}
	if s.tf, err = s.Target.TfexecIn(dir, cliConfig); err != nil {
		return nil, err
	}
	if s.vars, err = stackVars(root, dir, s.Target); err != nil {
		return nil, err
	}
	if err := s.stage("terraform apply (the root stack)", func() error {
		if err := s.tf.Init(ctx, tfexec.Backend(false)); err != nil {
			return err
		}
		apply := []tfexec.ApplyOption{tfexec.Parallelism(20)}
		for _, v := range s.vars {
			apply = append(apply, v)
		}
		return s.tf.Apply(ctx, apply...)
	}); err != nil {
		return nil, err
	}
	if s.Outputs, err = s.tf.Output(ctx); err != nil {
		return nil, err
	}

	if err := s.stage("start the local cloud (functions, fleet, database, CDN, DNS)", func() error {
		cloudOpts := opts.Cloud
		cloudOpts.Emulator, cloudOpts.Namespace, cloudOpts.Manifest, cloudOpts.Logf = s.Emulator, ns, manifest, opts.Logf
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
	return s, nil
}

// stackVars are the root stack's variables on the local target: the built artifacts, plain
// HTTP at the load balancer (no certificate authority AWS trusts here), password sign-in
// for the demo user, and latency records in a zone of the run's own.
func stackVars(root, dir string, tg *target.Target) ([]*tfexec.VarOption, error) {
	extra := map[string]any{
		"allow_plain_http": true,
		"identity":         map[string]any{"allow_password_auth": true},
		"dns":              map[string]any{"zone_name": tg.RunID + ".media.example.com", "health_checks": false},
	}
	for variable, artifact := range map[string]string{"upload_api_zip_path": "upload-api.zip", "transcoder_zip_path": "transcoder.zip"} {
		path := filepath.Join(root, "build", artifact)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%s is missing: run scripts/setup (or make setup) to build it", path)
		}
		extra[variable] = path
	}
	vars, err := tg.Vars(dir, extra)
	if err != nil {
		return nil, err
	}
	return target.VarOptions(vars)
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

// DestroyTimeout bounds terraform destroy at teardown.
const DestroyTimeout = 5 * time.Minute

// Down stops the local cloud, destroys the stack and stops the emulator; safe on a
// partial bring-up and to call twice.
func (s *Stack) Down(ctx context.Context) error {
	var errs []error
	if s.Cloud != nil {
		errs = append(errs, s.Cloud.Stop())
		s.Cloud = nil
	}
	if s.tf != nil && s.Outputs != nil {
		errs = append(errs, s.stage("terraform destroy", func() error {
			ctx, cancel := context.WithTimeout(ctx, DestroyTimeout)
			defer cancel()
			destroy := []tfexec.DestroyOption{tfexec.Parallelism(20)}
			for _, v := range s.vars {
				destroy = append(destroy, v)
			}
			return s.tf.Destroy(ctx, destroy...)
		}))
		s.Outputs = nil
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
