package fleet

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrackingPolicyOfPredefinedMetrics(t *testing.T) {
	requests := astypes.ScalingPolicy{PolicyType: aws.String("TargetTrackingScaling"), TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{
		TargetValue: aws.Float64(500),
		PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{
			PredefinedMetricType: astypes.MetricTypeALBRequestCountPerTarget,
			ResourceLabel:        aws.String("app/api/50dc6c495c0c9188/targetgroup/api/943f017f100becff"),
		},
	}}
	got, ok := trackingPolicyOf([]astypes.ScalingPolicy{requests})
	require.True(t, ok)
	assert.Equal(t, trackingPolicy{metric: metricRequestsPerTarget, target: 500, resourceLabel: "app/api/50dc6c495c0c9188/targetgroup/api/943f017f100becff"}, got)

	arn, ok := targetGroupOf(got.resourceLabel, []string{
		"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/943f017f100becff",
		"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/943f017f100becff",
	})
	assert.True(t, ok)
	assert.Equal(t, "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/943f017f100becff", arn)
	_, ok = targetGroupOf("app/api/50dc6c495c0c9188", []string{arn})
	assert.False(t, ok, "a label without its target group")

	network := astypes.ScalingPolicy{PolicyType: aws.String("TargetTrackingScaling"), TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{
		TargetValue:                   aws.Float64(1e6),
		PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeASGAverageNetworkIn},
	}}
	_, ok = trackingPolicyOf([]astypes.ScalingPolicy{network})
	assert.False(t, ok, "metrics the local cloud does not measure are not tracked")
}

// Datapoints follow CloudWatch's: requests per minute per healthy target, CPU in percent.
func TestTrackerDatapoints(t *testing.T) {
	t0 := time.Now()
	tr := &tracker{policy: trackingPolicy{metric: metricRequestsPerTarget, target: 60}}
	tr.observe(sample{at: t0, requests: 100, healthy: 2}, 10*time.Second, 5)
	tr.observe(sample{at: t0.Add(5 * time.Second), requests: 130, healthy: 2}, 10*time.Second, 5)
	assert.Empty(t, tr.datapoints, "no datapoint before the period ends")
	tr.observe(sample{at: t0.Add(10 * time.Second), requests: 160, healthy: 2}, 10*time.Second, 5)
	assert.Equal(t, []float64{180}, tr.datapoints, "60 requests in 10 s on 2 targets")
	tr.observe(sample{at: t0.Add(20 * time.Second), requests: 160, healthy: 0}, 10*time.Second, 5)
	assert.Empty(t, tr.datapoints, "no healthy target: missing data")

	cpu := &tracker{policy: trackingPolicy{metric: metricAverageCPU, target: 50}}
	cpu.observe(sample{at: t0, cpu: map[string]time.Duration{"a": 0, "b": time.Second}}, time.Second, 5)
	cpu.observe(sample{at: t0.Add(2 * time.Second), cpu: map[string]time.Duration{"a": time.Second, "b": 3 * time.Second, "new": time.Second}}, time.Second, 5)
	assert.Equal(t, []float64{75}, cpu.datapoints, "50 % and 100 %; an instance without a first sample does not count")
}

func TestTrackerCapacity(t *testing.T) {
	tests := []struct {
		name               string
		datapoints         []float64
		current, inService int
		disableScaleIn     bool
		want               int
	}{
		{"three datapoints above: proportional", []float64{90, 150, 130}, 2, 2, false, 5},
		{"within max", []float64{900, 900, 900}, 2, 2, false, 6},
		{"two above are not enough", []float64{40, 150, 130}, 2, 2, false, 2},
		{"near the target: no change", []float64{58, 59, 55, 57}, 2, 2, false, 2},
		{"low for the scale-in datapoints: sized for the busiest", []float64{10, 20, 25, 5}, 4, 4, false, 2},
		{"never below min", []float64{0, 0, 0, 0}, 4, 4, false, 1},
		{"scale-in disabled", []float64{0, 0, 0, 0}, 4, 4, true, 4},
		{"one high datapoint stops the scale-in", []float64{10, 70, 25, 5}, 4, 4, false, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &tracker{policy: trackingPolicy{metric: metricRequestsPerTarget, target: 60, disableScaleIn: tt.disableScaleIn}, datapoints: tt.datapoints}
			assert.Equal(t, tt.want, tr.capacity(tt.current, tt.inService, 1, 6, 4))
		})
	}
}

func TestCPUTimeOfAProcess(t *testing.T) {
	before, err := cpuTime(os.Getpid())
	require.NoError(t, err)
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := cpuTime(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, after, before, "a busy loop uses CPU time")
	_, err = cpuTime(1 << 30)
	assert.Error(t, err, "no such process")
}
