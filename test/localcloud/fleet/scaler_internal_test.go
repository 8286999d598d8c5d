package fleet

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/stretchr/testify/assert"
)

func TestBacklogPolicyIsFoundInTheMetricMath(t *testing.T) {
	policy := astypes.ScalingPolicy{PolicyType: aws.String("TargetTrackingScaling"), TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{
		TargetValue: aws.Float64(2),
		CustomizedMetricSpecification: &astypes.CustomizedMetricSpecification{Metrics: []astypes.TargetTrackingMetricDataQuery{
			{Id: aws.String("visible"), MetricStat: &astypes.TargetTrackingMetricStat{Metric: &astypes.Metric{
				Namespace: aws.String("AWS/SQS"), MetricName: aws.String("ApproximateNumberOfMessagesVisible"),
				Dimensions: []astypes.MetricDimension{{Name: aws.String("QueueName"), Value: aws.String("jobs")}},
			}}},
			{Id: aws.String("per_instance"), Expression: aws.String("visible / IF(instances > 0, instances, 1)")},
		}},
	}}
	cpu := astypes.ScalingPolicy{PolicyType: aws.String("TargetTrackingScaling"), TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{TargetValue: aws.Float64(50)}}
	got, ok := backlogPolicyOf([]astypes.ScalingPolicy{cpu, policy})
	assert.True(t, ok)
	assert.Equal(t, backlogPolicy{queueName: "jobs", target: 2}, got)
	_, ok = backlogPolicyOf([]astypes.ScalingPolicy{cpu})
	assert.False(t, ok, "a CPU policy is not a backlog policy")
}

func TestBacklogCapacity(t *testing.T) {
	p := backlogPolicy{queueName: "jobs", target: 2}
	const after = time.Minute
	tests := []struct {
		name                       string
		visible, inFlight, current int
		idle                       time.Duration
		want                       int
	}{
		{"from zero when work arrives", 1, 0, 0, 0, 1},
		{"a backlog of target per instance", 7, 0, 1, 0, 4},
		{"within max", 50, 0, 1, 0, 5},
		{"no scale-in under jobs in flight", 0, 2, 3, 0, 3},
		{"no scale-in before the queue is idle a while", 0, 0, 3, after / 2, 3},
		{"to min once idle", 0, 0, 3, after, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, backlogCapacity(p, tt.visible, tt.inFlight, tt.current, 0, 5, tt.idle, after))
		})
	}
}
