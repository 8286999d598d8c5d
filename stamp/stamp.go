// Package stamp applies one platform across many regions, a Terraform state each: the home
// region first (it holds the user pool and the catalogue's primary that every other region
// uses), then every other region side by side, then the edge over all of them (latency
// records and their health checks); destroy goes the other way.
//
// Terraform has no provider for_each, so one state cannot hold N regions cleanly; and with a
// state per region, adding or removing one must plan no change in the others. So a region's
// state gets only what is its own and the home region's outputs, never the list of regions;
// only the edge sees them all.
//
// The two configurations follow a small contract:
//
//   - the region configuration declares the variables region, home_region and home; home is
//     null in the home region and, elsewhere, the home region's output "home"; it outputs
//     "home" (what the other regions need of the home) and "endpoint" (what the edge needs
//     of the region);
//   - the edge configuration declares the variable regions, a map from region to that
//     region's "endpoint" output.
//
// Every state has a workspace of its name in its configuration's folder (so any backend
// keeps them apart) and a Terraform data directory of its own, so that states of one folder
// run side by side.
package stamp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
)

// Config says what to stamp and how.
type Config struct {
	// Home is the home region; Regions every region, Home among them.
	Home    string
	Regions []string
	// RegionConfig is the folder of the configuration applied once per region; EdgeConfig
	// the folder of the one applied over all of them ("" for none).
	RegionConfig string
	EdgeConfig   string
	// Vars are variables of every state; RegionVars more for one region's state (its network
	// range, its certificate), winning over Vars.
	Vars       map[string]any
	RegionVars map[string]map[string]any
	// Binary is the Terraform (or OpenTofu) executable; "terraform" when empty.
	Binary string
	// Env is the environment of every run (credentials, CLI configuration); this process's
	// when nil. TF_DATA_DIR is set per state.
	Env map[string]string
	// Parallelism is Terraform's -parallelism; 10 when zero.
	Parallelism int
	// Logf receives each step with its timing; nil discards them.
	Logf func(format string, args ...any)
}

// EdgeState names the edge's state.
const EdgeState = "edge"

// Outputs are the states' outputs, each as JSON.
type Outputs struct {
	Regions map[string]map[string]json.RawMessage `json:"regions"`
	Edge    map[string]json.RawMessage            `json:"edge,omitempty"`
}

// Check reports what is wrong with c, every problem at once.
func (c Config) Check() error {
	var errs []error
	if len(c.Regions) == 0 {
		errs = append(errs, errors.New("regions: name at least one region, e.g. us-east-1"))
	}
	seen := map[string]bool{}
	for _, r := range c.Regions {
		if !validRegion(r) {
			errs = append(errs, fmt.Errorf("regions: %q is not an AWS region name like us-east-1", r))
		}
		if seen[r] {
			errs = append(errs, fmt.Errorf("regions: %s is named twice", r))
		}
		seen[r] = true
	}
	if !slices.Contains(c.Regions, c.Home) {
		errs = append(errs, fmt.Errorf("home: %q must be one of the regions (%s)", c.Home, strings.Join(c.Regions, ", ")))
	}
	for r := range c.RegionVars {
		if !seen[r] {
			errs = append(errs, fmt.Errorf("region_vars: %s is not one of the regions", r))
		}
	}
	if c.RegionConfig == "" {
		errs = append(errs, errors.New("region_config: name the folder of the per-region configuration"))
	}
	for _, dir := range []string{c.RegionConfig, c.EdgeConfig} {
		if st, err := os.Stat(dir); dir != "" && (err != nil || !st.IsDir()) {
			errs = append(errs, fmt.Errorf("%s is not a folder of Terraform configuration", dir))
		}
	}
	return errors.Join(errs...)
}

func validRegion(r string) bool {
	parts := strings.Split(r, "-")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return false
		}
	}
	return true
}

// others are the regions but the home one, in the order given.
func (c Config) others() []string {
	return slices.DeleteFunc(slices.Clone(c.Regions), func(r string) bool { return r == c.Home })
}

// RegionVars returns the variables of region's state: Vars, then the region's own, then the
// contract's; home is the home region's "home" output (nil in the home region). Nothing in
// them depends on the other regions, so adding one changes no other region's plan.
func (c Config) regionVars(region string, home json.RawMessage) map[string]any {
	vars := c.commonVars()
	maps.Copy(vars, c.RegionVars[region])
	vars["region"], vars["home_region"], vars["home"] = region, c.Home, nil
	if region != c.Home {
		vars["home"] = home
	}
	return vars
}

// edgeVars returns the edge's variables: Vars and every region's "endpoint" output.
func (c Config) edgeVars(out Outputs) (map[string]any, error) {
	vars := c.commonVars()
	endpoints := map[string]json.RawMessage{}
	for _, r := range c.Regions {
		e, ok := out.Regions[r]["endpoint"]
		if !ok {
			return nil, fmt.Errorf("region %s: its state has no output \"endpoint\", which the edge reads: apply it first (or its configuration lacks the output)", r)
		}
		endpoints[r] = e
	}
	vars["regions"] = endpoints
	return vars, nil
}

// commonVars is a copy of the variables of every state.
func (c Config) commonVars() map[string]any {
	vars := maps.Clone(c.Vars)
	if vars == nil {
		vars = map[string]any{}
	}
	return vars
}

// state is one Terraform state: a workspace of a folder with its own data directory.
type state struct {
	name    string
	tf      *tfexec.Terraform
	varFile string
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// step runs fn, logging its name and how long it took.
func (c Config) step(name string, fn func() error) error {
	start := time.Now()
	c.logf("%s ...", name)
	if err := fn(); err != nil {
		c.logf("%s: failed after %s", name, time.Since(start).Round(time.Second))
		return fmt.Errorf("%s: %w", name, err)
	}
	c.logf("%s: done in %s", name, time.Since(start).Round(time.Second))
	return nil
}

// open prepares the state name of the folder dir: its data directory, init, its workspace.
func (c Config) open(ctx context.Context, dir, name string) (*state, error) {
	binary := c.Binary
	if binary == "" {
		binary = "terraform"
	}
	tf, err := tfexec.NewTerraform(dir, binary)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	if c.Env == nil {
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
	} else {
		maps.Copy(env, c.Env)
	}
	for k := range env {
		if strings.HasPrefix(k, "TF_VAR_") {
			return nil, fmt.Errorf("%s is set, but every state's variables come from the stamp file: put %s in its vars", k, strings.TrimPrefix(k, "TF_VAR_"))
		}
	}
	env = tfexec.CleanEnv(env) // terraform-exec sets TF_LOG, TF_CLI_ARGS and the like itself
	dataDir := filepath.Join(dir, ".terraform", "stamp", name)
	env["TF_DATA_DIR"] = dataDir
	if err := tf.SetEnv(env); err != nil {
		return nil, err
	}
	// On cancellation (Ctrl-C) Terraform is interrupted and given time to finish what is in
	// flight and write its state; a database or distribution can take many minutes. Only
	// Windows refuses, where Terraform cannot be interrupted gracefully at all.
	_ = tf.SetWaitDelay(30 * time.Minute)
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, err
	}
	if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	workspaces, current, err := tf.WorkspaceList(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case current == name:
	case slices.Contains(workspaces, name):
		err = tf.WorkspaceSelect(ctx, name)
	default:
		err = tf.WorkspaceNew(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", name, err)
	}
	return &state{name: name, tf: tf, varFile: filepath.Join(dataDir, "stamp.tfvars.json")}, nil
}

// writeVars writes the state's variables as a JSON variables file, which keeps multi-line
// values (a PEM key) intact and lets a state's configuration ignore variables it does not
// declare (Terraform warns of them, where -var flags would fail).
func (s *state) writeVars(vars map[string]any) error {
	data, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(s.varFile, data, 0o600)
}

func (s *state) outputs(ctx context.Context) (map[string]json.RawMessage, error) {
	meta, err := s.tf.Output(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(meta))
	for k, m := range meta {
		out[k] = m.Value
	}
	return out, nil
}

func (c Config) parallelism() int {
	if c.Parallelism == 0 {
		return 10
	}
	return c.Parallelism
}

// Apply applies the home region, then the other regions side by side, then the edge, and
// returns every state's outputs.
func Apply(ctx context.Context, c Config) (Outputs, error) {
	out := Outputs{Regions: map[string]map[string]json.RawMessage{}}
	if err := c.Check(); err != nil {
		return out, err
	}
	states, err := c.openRegions(ctx)
	if err != nil {
		return out, err
	}
	var mu sync.Mutex
	apply := func(region string, home json.RawMessage) error {
		return c.step("apply "+region, func() error {
			o, err := states[region].apply(ctx, c, c.regionVars(region, home))
			mu.Lock()
			out.Regions[region] = o
			mu.Unlock()
			return err
		})
	}
	if err := apply(c.Home, nil); err != nil {
		return out, err
	}
	home, ok := out.Regions[c.Home]["home"]
	if !ok {
		return out, fmt.Errorf("region %s: its configuration has no output \"home\", which the other regions read", c.Home)
	}
	if err := eachRegion(c.others(), func(r string) error { return apply(r, home) }); err != nil {
		return out, err
	}
	if c.EdgeConfig == "" {
		return out, nil
	}
	err = c.step("apply "+EdgeState, func() error {
		vars, err := c.edgeVars(out)
		if err != nil {
			return err
		}
		s, err := c.open(ctx, c.EdgeConfig, EdgeState)
		if err != nil {
			return err
		}
		out.Edge, err = s.apply(ctx, c, vars)
		return err
	})
	return out, err
}

// openRegions opens every region's state, one after the other: init writes the folder's
// lock file, which runs side by side would race on.
func (c Config) openRegions(ctx context.Context) (map[string]*state, error) {
	states := map[string]*state{}
	for _, r := range append([]string{c.Home}, c.others()...) {
		s, err := c.open(ctx, c.RegionConfig, r)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", r, err)
		}
		states[r] = s
	}
	return states, nil
}

// apply applies the state with vars and returns its outputs.
func (s *state) apply(ctx context.Context, c Config, vars map[string]any) (map[string]json.RawMessage, error) {
	if err := s.writeVars(vars); err != nil {
		return nil, err
	}
	if err := s.tf.Apply(ctx, tfexec.VarFile(s.varFile), tfexec.Parallelism(c.parallelism())); err != nil {
		return nil, err
	}
	return s.outputs(ctx)
}

// Plan plans every state, side by side, with the variables Apply would give it and returns
// the plans by state: after an Apply, none changes anything. The other regions and the edge
// take the applied states' outputs, so they are planned once the home region is applied.
func Plan(ctx context.Context, c Config) (plans map[string]*tfjson.Plan, err error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	states, out, err := c.openApplied(ctx)
	if err != nil {
		return nil, err
	}
	home, applied := out.Regions[c.Home]["home"]
	if !applied && len(c.Regions) > 1 {
		return nil, fmt.Errorf("the home region %s is not applied yet: the other regions take its outputs, so run stamp apply first", c.Home)
	}
	vars := map[string]map[string]any{}
	for r := range states {
		vars[r] = c.regionVars(r, home)
	}
	if c.EdgeConfig != "" {
		if states[EdgeState], err = c.open(ctx, c.EdgeConfig, EdgeState); err != nil {
			return nil, err
		}
		if vars[EdgeState], err = c.edgeVars(out); err != nil {
			return nil, err
		}
	}
	plans = map[string]*tfjson.Plan{}
	var mu sync.Mutex
	err = eachRegion(slices.Collect(maps.Keys(states)), func(name string) error {
		return c.step("plan "+name, func() error {
			s := states[name]
			if err := s.writeVars(vars[name]); err != nil {
				return err
			}
			file := filepath.Join(filepath.Dir(s.varFile), "stamp.tfplan")
			if _, err := s.tf.Plan(ctx, tfexec.VarFile(s.varFile), tfexec.Out(file), tfexec.Parallelism(c.parallelism())); err != nil {
				return err
			}
			p, err := s.tf.ShowPlanFile(ctx, file)
			mu.Lock()
			plans[name] = p
			mu.Unlock()
			return err
		})
	})
	return plans, err
}

// openApplied opens every region's state and reads its outputs (none for a state never
// applied).
func (c Config) openApplied(ctx context.Context) (map[string]*state, Outputs, error) {
	out := Outputs{Regions: map[string]map[string]json.RawMessage{}}
	states, err := c.openRegions(ctx)
	if err != nil {
		return nil, out, err
	}
	for r, s := range states {
		if out.Regions[r], err = s.outputs(ctx); err != nil {
			return nil, out, fmt.Errorf("read %s: %w", r, err)
		}
	}
	return states, out, nil
}

// Destroy destroys the edge, then every region but the home side by side, then the home
// region. A state that holds nothing is left alone, so Destroy finishes what a failed Apply
// or Destroy left.
func Destroy(ctx context.Context, c Config) error {
	if err := c.Check(); err != nil {
		return err
	}
	states, out, err := c.openApplied(ctx)
	if err != nil {
		return err
	}
	destroy := func(s *state, vars map[string]any) error {
		if empty, err := s.empty(ctx); err != nil || empty {
			return err
		}
		return c.step("destroy "+s.name, func() error {
			if err := s.writeVars(vars); err != nil {
				return err
			}
			return s.tf.Destroy(ctx, tfexec.VarFile(s.varFile), tfexec.Parallelism(c.parallelism()))
		})
	}
	if c.EdgeConfig != "" {
		s, err := c.open(ctx, c.EdgeConfig, EdgeState)
		if err != nil {
			return err
		}
		vars, err := c.edgeVars(out)
		if err != nil { // a region never applied: the edge never named it either
			vars = c.commonVars()
			vars["regions"] = map[string]any{}
		}
		if err := destroy(s, vars); err != nil {
			return err // the regions stay while the edge points at them
		}
	}
	home := out.Regions[c.Home]["home"]
	if err := eachRegion(c.others(), func(r string) error { return destroy(states[r], c.regionVars(r, home)) }); err != nil {
		return err // the home stays while another region replicates from it
	}
	return destroy(states[c.Home], c.regionVars(c.Home, nil))
}

// empty reports whether the state holds no resource.
func (s *state) empty(ctx context.Context) (bool, error) {
	st, err := s.tf.Show(ctx)
	if err != nil {
		return false, err
	}
	return st == nil || st.Values == nil || st.Values.RootModule == nil ||
		(len(st.Values.RootModule.Resources) == 0 && len(st.Values.RootModule.ChildModules) == 0), nil
}

// eachRegion runs fn for every region at once and joins their errors.
func eachRegion(regions []string, fn func(string) error) error {
	errs := make([]error, len(regions))
	var wg sync.WaitGroup
	for i, r := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(r)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
