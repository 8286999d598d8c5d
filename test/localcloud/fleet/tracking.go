package fleet

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Target tracking on the predefined metrics that modules/asg writes for a service fleet,
// evaluated from what the local load balancer and instances measure:
//
//   - ALBRequestCountPerTarget: the requests the listeners forwarded to the policy's target
//     group in a period, per minute, divided by its healthy targets (CloudWatch's
//     RequestCountPerTarget);
//   - ASGAverageCPUUtilization: the CPU time of each instance's process over the period, in
//     percent of one vCPU, averaged over the group's instances.
//
// Auto Scaling evaluates a target tracking policy through two alarms it creates: scale out
// when the metric is above the target for 3 consecutive one-minute datapoints, scale in when
// it is below 90 % of the target for 15. It scales out proportionally (capacity × metric /
// target, AWS: "as fast as it can") and in more gradually. Here the datapoints are
// Options.MetricPeriod long (10 s by default, so that a test of minutes sees what an hour
// does on AWS), scale in needs ScaleInAfter of low datapoints, and no decision is taken
// while launched instances have not yet come into service (AWS's instance warm-up), nor
// with the datapoints of a size the group has left.

// Predefined metric types of a target tracking policy.
const (
	metricRequestsPerTarget = "ALBRequestCountPerTarget"
	metricAverageCPU        = "ASGAverageCPUUtilization"
)

// trackingPolicy is a group's target tracking policy on a predefined metric.
type trackingPolicy struct {
	metric string
	target float64
	// resourceLabel names the target group of ALBRequestCountPerTarget:
	// app/<alb>/<id>/targetgroup/<tg>/<id>.
	resourceLabel  string
	disableScaleIn bool
}

// trackingPolicyOf finds the predefined-metric target tracking policy among a group's.
func trackingPolicyOf(policies []astypes.ScalingPolicy) (trackingPolicy, bool) {
	for _, p := range policies {
		tt := p.TargetTrackingConfiguration
		if aws.ToString(p.PolicyType) != "TargetTrackingScaling" || tt == nil || tt.PredefinedMetricSpecification == nil || aws.ToFloat64(tt.TargetValue) <= 0 {
			continue
		}
		spec := tt.PredefinedMetricSpecification
		switch metric := string(spec.PredefinedMetricType); metric {
		case metricRequestsPerTarget, metricAverageCPU:
			return trackingPolicy{
				metric:         metric,
				target:         aws.ToFloat64(tt.TargetValue),
				resourceLabel:  aws.ToString(spec.ResourceLabel),
				disableScaleIn: aws.ToBool(tt.DisableScaleIn),
			}, true
		}
	}
	return trackingPolicy{}, false
}

// targetGroupOf finds the target group a resource label names among ARNs
// (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<tg>/<id>).
func targetGroupOf(label string, arns []string) (string, bool) {
	i := strings.Index(label, "targetgroup/")
	if i < 0 {
		return "", false
	}
	for _, arn := range arns {
		if strings.HasSuffix(arn, ":"+label[i:]) {
			return arn, true
		}
	}
	return "", false
}

// sample is what a group's metric is computed from, read once per poll.
type sample struct {
	at       time.Time
	requests uint64                   // forwarded to the policy's target group, ever
	healthy  int                      // healthy targets in it
	cpu      map[string]time.Duration // CPU time of each instance's process, ever
}

// tracker turns a group's samples into datapoints, one per period.
type tracker struct {
	policy     trackingPolicy
	start      sample // the current period's first
	datapoints []float64
}

// observe adds s; when a period has passed since its first sample, it closes the period's
// datapoint. A period without a healthy target or a running instance has none.
func (t *tracker) observe(s sample, period time.Duration, keep int) {
	if t.start.at.IsZero() {
		t.start = s
		return
	}
	elapsed := s.at.Sub(t.start.at)
	if elapsed < period {
		return
	}
	var value float64
	ok := false
	switch t.policy.metric {
	case metricRequestsPerTarget:
		if s.healthy > 0 {
			perMinute := float64(s.requests-t.start.requests) * float64(time.Minute) / float64(elapsed)
			value, ok = perMinute/float64(s.healthy), true
		}
	case metricAverageCPU:
		var sum float64
		n := 0
		for id, cpu := range s.cpu {
			if before, seen := t.start.cpu[id]; seen {
				sum += 100 * float64(cpu-before) / float64(elapsed)
				n++
			}
		}
		if n > 0 {
			value, ok = sum/float64(n), true
		}
	}
	t.start = s
	if !ok {
		t.datapoints = nil // missing data: the alarms are in INSUFFICIENT_DATA
		return
	}
	t.datapoints = append(t.datapoints, value)
	if len(t.datapoints) > keep {
		t.datapoints = t.datapoints[len(t.datapoints)-keep:]
	}
}

// scaleOutDatapoints is how many consecutive datapoints above the target scale out.
const scaleOutDatapoints = 3

// capacity is the capacity the datapoints ask for, given the instances in service; current
// when they ask for no change.
func (t *tracker) capacity(current, inService, minSize, maxSize, scaleInDatapoints int) int {
	dp := t.datapoints
	proportional := func(metric float64) int {
		return int(math.Ceil(float64(max(inService, 1)) * metric / t.policy.target))
	}
	if last := lastN(dp, scaleOutDatapoints); last != nil && all(last, func(v float64) bool { return v > t.policy.target }) {
		if want := min(proportional(last[len(last)-1]), maxSize); want > current {
			return want
		}
	}
	if t.policy.disableScaleIn {
		return current
	}
	if last := lastN(dp, scaleInDatapoints); last != nil && all(last, func(v float64) bool { return v < 0.9*t.policy.target }) {
		// Gradually: sized for the busiest of the low datapoints.
		if want := max(proportional(maxOf(last)), minSize); want < current {
			return want
		}
	}
	return current
}

func lastN(v []float64, n int) []float64 {
	if n <= 0 || len(v) < n {
		return nil
	}
	return v[len(v)-n:]
}

func all(v []float64, ok func(float64) bool) bool {
	for _, x := range v {
		if !ok(x) {
			return false
		}
	}
	return true
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// sampleGroup reads the group's metric inputs, and how many of its instances are in
// service: healthy in the policy's target group, or running for a CPU policy.
func (f *Fleet) sampleGroup(name string, p trackingPolicy, tgARNs []string) (s sample, inService int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s = sample{at: time.Now(), cpu: map[string]time.Duration{}}
	g := f.groups[name]
	if g == nil {
		return s, 0, nil
	}
	switch p.metric {
	case metricRequestsPerTarget:
		arn, ok := targetGroupOf(p.resourceLabel, tgARNs)
		if !ok {
			return s, 0, fmt.Errorf("its policy's resource label %q names none of its target groups", p.resourceLabel)
		}
		tg := f.tgs[arn]
		if tg == nil {
			return s, 0, nil // read at the next poll
		}
		s.requests = tg.requests.Load()
		s.healthy = tg.healthyTargets()
		tg.mu.Lock()
		for id := range g.instances {
			if t := tg.targets[id]; t != nil && t.stateLocked() == elbtypes.TargetHealthStateEnumHealthy {
				inService++
			}
		}
		tg.mu.Unlock()
	case metricAverageCPU:
		for id, inst := range g.instances {
			if cpu, err := cpuTime(inst.proc.PID()); err == nil {
				s.cpu[id] = cpu
				inService++
			}
		}
	}
	return s, inService, nil
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times on every architecture.
const clockTicks = 100

// cpuTime is the user and system CPU time a process has used, from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command, field 2, is in parentheses and may hold spaces; utime and stime are
	// fields 14 and 15, the 12th and 13th after it.
	i := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[i+1:]))
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}
