package load

import (
	"context"
	"strings"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/fleet"
)

// FleetSize counts the instances in service (healthy in every target group) of the local
// fleet's groups whose name contains group, for Options.FleetSize; nil without a fleet.
func FleetSize(f *fleet.Fleet, group string) func(context.Context) (int, error) {
	if f == nil {
		return nil
	}
	return func(context.Context) (int, error) {
		n := 0
		for name, g := range f.Groups() {
			if !strings.Contains(name, group) {
				continue
			}
			for _, inst := range g.Instances {
				healthy := len(inst.Health) > 0
				for _, state := range inst.Health {
					healthy = healthy && state == elbtypes.TargetHealthStateEnumHealthy
				}
				if healthy {
					n++
				}
			}
		}
		return n, nil
	}
}
