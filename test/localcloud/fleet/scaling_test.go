package fleet_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/fleet"
)

// A scale-in takes the instance out of the rotation at once and stops it only when what it
// is serving has finished: no request is dropped. A request that outlasts the target
// group's deregistration delay is cut when the delay ends, as on AWS.
func TestScaleInDrainsRequestsInFlight(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true})
	s.setDesired(t, 3)
	s.waitSize(t, 3)
	before := s.group(t).Instances

	t.Run("no request is dropped", func(t *testing.T) {
		load := s.startLoad(t, "/?sleep=300ms", 6)
		time.Sleep(time.Second) // every instance has requests in flight
		s.setDesired(t, 2)
		var drained fleet.Instance
		require.Eventually(t, func() bool {
			if d := s.group(t).Draining; len(d) == 1 {
				drained = d[0]
				return true
			}
			return false
		}, waitFor, 10*time.Millisecond, "the removed instance drains")
		for _, state := range drained.Health {
			assert.Equal(t, elbtypes.TargetHealthStateEnumDraining, state)
		}
		s.waitSize(t, 2)
		assertGone(t, drained)
		time.Sleep(500 * time.Millisecond)
		ok, failed := load.stop()
		assert.Empty(t, failed, "requests that failed during the scale-in")
		assert.Greater(t, ok, 20, "requests served")
	})

	t.Run("the deregistration delay bounds the drain", func(t *testing.T) {
		// One long request on each instance: round-robin gives each its own.
		long := fmt.Sprintf("/?sleep=%s", 3*drainFor)
		results := make(chan error, 2)
		for range 2 {
			go func() {
				resp, err := http.Get("http://" + s.listener(t, 80) + long)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				results <- err
			}()
		}
		time.Sleep(500 * time.Millisecond)
		s.setDesired(t, 1)
		s.waitSize(t, 1)
		// The drained instance stopped before its request could end: that request fails
		// with the ALB's 502, and the kept instance's one succeeds.
		var errs []error
		for range 2 {
			errs = append(errs, <-results)
		}
		assert.ElementsMatch(t, []string{"<nil>", "status 502"}, []string{fmt.Sprint(errs[0]), fmt.Sprint(errs[1])})
	})
	for _, inst := range before {
		if inst.ID != s.group(t).Instances[0].ID {
			assertGone(t, inst)
		}
	}
}

// A target tracking policy on requests per target grows the group while the load balancer
// counts more than the target per healthy target, and shrinks it when the load ends.
func TestGroupTracksRequestsPerTarget(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true, metricPeriod: time.Second, scaleInAfter: 3 * time.Second})
	s.resize(t, 1, 1)
	s.waitSize(t, 1)
	// At most 60 requests a minute (one a second) per target.
	s.putTrackingPolicy(t, astypes.MetricTypeALBRequestCountPerTarget, s.resourceLabel(), 60)

	load := s.startLoad(t, "/?sleep=100ms", 2) // about 20 a second
	require.Eventually(t, func() bool { return s.group(t).DesiredCapacity >= 3 }, waitFor, 100*time.Millisecond, "the group grows under load")
	s.waitHealthy(t)
	assert.Len(t, s.spread(t, "http://"+s.listener(t, 80)+"/", 2*s.group(t).DesiredCapacity), s.group(t).DesiredCapacity, "the new instances take traffic")
	_, failed := load.stop()
	assert.Empty(t, failed)
	require.Eventually(t, func() bool { g := s.group(t); return g.DesiredCapacity == 1 && len(g.Instances) == 1 }, waitFor, 100*time.Millisecond, "and shrinks to its minimum without load")
}

// A target tracking policy on average CPU grows the group while its instances are busy.
func TestGroupTracksAverageCPU(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true, metricPeriod: time.Second, scaleInAfter: 3 * time.Second})
	s.resize(t, 1, 1)
	s.waitSize(t, 1)
	// Two busy loops on one instance against a target of 5 % of a vCPU: the datapoints stay
	// above the target even when the rest of the suite leaves each loop a tenth of a core,
	// and an idle instance (health checks only) stays far below it.
	s.putTrackingPolicy(t, astypes.MetricTypeASGAverageCPUUtilization, "", 5)

	load := s.startLoad(t, "/burn?for=200ms", 2)
	require.Eventually(t, func() bool { return s.group(t).DesiredCapacity >= 2 }, waitFor, 100*time.Millisecond, "the group grows while its CPU is above the target")
	_, failed := load.stop()
	assert.Empty(t, failed)
	require.Eventually(t, func() bool { g := s.group(t); return g.DesiredCapacity == 1 && len(g.Instances) == 1 }, waitFor, 100*time.Millisecond, "and shrinks when it is idle")
}

// ---------------------------------------------------------------------------------------

// waitSize waits until the group runs n healthy instances and none is draining.
func (s *stack) waitSize(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		g := s.group(t)
		return len(g.Instances) == n && len(g.Draining) == 0
	}, waitFor, 50*time.Millisecond, "%d instances", n)
	s.waitHealthy(t)
}

// resize sets the group's minimum and desired capacity.
func (s *stack) resize(t *testing.T, minSize, desired int32) {
	t.Helper()
	_, err := autoscaling.NewFromConfig(s.cfg).UpdateAutoScalingGroup(context.Background(), &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: &s.name, MinSize: &minSize, DesiredCapacity: &desired,
	})
	require.NoError(t, err)
}

// resourceLabel is the ALB's and port 80's target group's label, as modules/alb outputs it.
func (s *stack) resourceLabel() string {
	lb := s.lbARN[strings.Index(s.lbARN, "loadbalancer/")+len("loadbalancer/"):]
	return lb + "/" + s.tgARN[strings.LastIndex(s.tgARN, ":")+1:]
}

// putTrackingPolicy gives the group a target tracking policy, as modules/asg writes it.
func (s *stack) putTrackingPolicy(t *testing.T, metric astypes.MetricType, label string, target float64) {
	t.Helper()
	spec := &astypes.PredefinedMetricSpecification{PredefinedMetricType: metric}
	if label != "" {
		spec.ResourceLabel = &label
	}
	_, err := autoscaling.NewFromConfig(s.cfg).PutScalingPolicy(context.Background(), &autoscaling.PutScalingPolicyInput{
		AutoScalingGroupName: &s.name,
		PolicyName:           aws.String(s.name + "-tracking"),
		PolicyType:           aws.String("TargetTrackingScaling"),
		TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{
			PredefinedMetricSpecification: spec,
			TargetValue:                   &target,
		},
	})
	require.NoError(t, err)
}

// load is a set of clients requesting one path through the listener in a loop.
type load struct {
	stopping atomic.Bool
	wg       sync.WaitGroup
	ok       atomic.Int64
	mu       sync.Mutex
	failed   []string
}

// startLoad runs clients on the port 80 listener until stop, which is also a cleanup.
func (s *stack) startLoad(t *testing.T, path string, clients int) *load {
	t.Helper()
	l := &load{}
	url := "http://" + s.listener(t, 80) + path
	client := &http.Client{Timeout: waitFor}
	for range clients {
		l.wg.Go(func() {
			for !l.stopping.Load() {
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					l.mu.Lock()
					l.failed = append(l.failed, err.Error())
					l.mu.Unlock()
					continue
				}
				l.ok.Add(1)
			}
		})
	}
	t.Cleanup(func() { l.stop() })
	return l
}

// stop ends the clients and says how many requests succeeded and how the others failed.
func (l *load) stop() (ok int, failed []string) {
	l.stopping.Store(true)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.ok.Load()), l.failed
}
