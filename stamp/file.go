package stamp

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsimple"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// file is a stamp file (stamp.hcl): what a team keeps in its repository beside its two
// configurations.
type file struct {
	Home         string               `hcl:"home"`
	Regions      []string             `hcl:"regions"`
	RegionConfig string               `hcl:"region_config"`
	EdgeConfig   string               `hcl:"edge_config,optional"`
	Vars         cty.Value            `hcl:"vars,optional"`
	RegionVars   map[string]cty.Value `hcl:"region_vars,optional"`
}

// ReadFile reads a stamp file. Folders in it are relative to the file; variables are any
// HCL values.
func ReadFile(path string) (Config, error) {
	var f file
	if err := hclsimple.DecodeFile(path, nil, &f); err != nil {
		var diags hcl.Diagnostics
		if errors.As(err, &diags) { // every problem, each with its place in the file
			errs := make([]error, len(diags))
			for i, d := range diags {
				errs[i] = d
			}
			return Config{}, errors.Join(errs...)
		}
		return Config{}, err
	}
	dir := filepath.Dir(path)
	c := Config{Home: f.Home, Regions: f.Regions, RegionConfig: filepath.Join(dir, f.RegionConfig), RegionVars: map[string]map[string]any{}}
	if f.EdgeConfig != "" {
		c.EdgeConfig = filepath.Join(dir, f.EdgeConfig)
	}
	var err error
	if c.Vars, err = object(f.Vars); err != nil {
		return Config{}, fmt.Errorf("%s: vars: %w", path, err)
	}
	for r, v := range f.RegionVars {
		if c.RegionVars[r], err = object(v); err != nil {
			return Config{}, fmt.Errorf("%s: region_vars[%q]: %w", path, r, err)
		}
	}
	return c, nil
}

// object turns an HCL object value into Go values as JSON reads them.
func object(v cty.Value) (map[string]any, error) {
	out := map[string]any{}
	if v.IsNull() {
		return out, nil
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		return nil, fmt.Errorf("want an object of variable = value, got %s", v.Type().FriendlyName())
	}
	data, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	return out, json.Unmarshal(data, &out)
}
