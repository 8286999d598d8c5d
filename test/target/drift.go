package target

import (
	"fmt"
	"reflect"
	"slices"
	"sort"

	tfjson "github.com/hashicorp/terraform-json"
)

// UnexpectedChanges lists what a plan of an applied configuration changes beyond allowed
// (AllowedDrift: by resource type, the attributes the target reads back differently): a
// replacement, a creation or deletion, or an update of any other attribute. Empty when a
// second plan is as it must be.
func UnexpectedChanges(plan *tfjson.Plan, allowed map[string][]string) []string {
	var out []string
	for _, rc := range plan.ResourceChanges {
		actions := rc.Change.Actions
		if actions.NoOp() || actions.Read() {
			continue
		}
		if !actions.Update() {
			out = append(out, fmt.Sprintf("%s: %v", rc.Address, actions))
			continue
		}
		for attr, values := range ChangedAttributes(rc.Change) {
			if !slices.Contains(allowed[rc.Type], attr) {
				out = append(out, fmt.Sprintf("%s: %s %v -> %v", rc.Address, attr, values[0], values[1]))
			}
		}
	}
	sort.Strings(out)
	return out
}

// ChangedAttributes are the top-level attributes a change alters, with their values before
// and after.
func ChangedAttributes(c *tfjson.Change) map[string][2]any {
	before, _ := c.Before.(map[string]any)
	after, _ := c.After.(map[string]any)
	changed := map[string][2]any{}
	for k, a := range after {
		if !reflect.DeepEqual(before[k], a) {
			changed[k] = [2]any{before[k], a}
		}
	}
	return changed
}
