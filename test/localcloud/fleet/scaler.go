package fleet

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Target tracking on a queue's backlog per instance, as Auto Scaling evaluates the policy
// that modules/asg writes for a worker fleet (AWS's "Scaling based on Amazon SQS": the
// metric is the queue's visible messages divided by the in-service instances, at least 1,
// and the policy keeps it at the target). The capacity that holds the metric at the target
// is ceil(visible / target), within the group's min and max. Auto Scaling scales out on
// alarms a minute or more apart; here the group grows at the next poll. It scales in
// conservatively, and here only once the queue has had nothing visible or in flight for
// ScaleInAfter, so that no instance is stopped under a job.

// backlogPolicy is a group's queue-backlog target tracking policy.
type backlogPolicy struct {
	queueName string
	target    float64
}

// backlogPolicyOf finds the queue-backlog target tracking policy among a group's policies.
func backlogPolicyOf(policies []astypes.ScalingPolicy) (backlogPolicy, bool) {
	for _, p := range policies {
		tt := p.TargetTrackingConfiguration
		if aws.ToString(p.PolicyType) != "TargetTrackingScaling" || tt == nil || tt.CustomizedMetricSpecification == nil || aws.ToFloat64(tt.TargetValue) <= 0 {
			continue
		}
		for _, m := range tt.CustomizedMetricSpecification.Metrics {
			if m.MetricStat == nil || m.MetricStat.Metric == nil {
				continue
			}
			metric := m.MetricStat.Metric
			if aws.ToString(metric.Namespace) != "AWS/SQS" || aws.ToString(metric.MetricName) != "ApproximateNumberOfMessagesVisible" {
				continue
			}
			for _, d := range metric.Dimensions {
				if aws.ToString(d.Name) == "QueueName" {
					return backlogPolicy{queueName: aws.ToString(d.Value), target: aws.ToFloat64(tt.TargetValue)}, true
				}
			}
		}
	}
	return backlogPolicy{}, false
}

// backlogCapacity is the capacity the policy asks for with visible messages and inFlight
// ones being worked on, given the current capacity and how long the queue has been idle.
func backlogCapacity(p backlogPolicy, visible, inFlight, current, minSize, maxSize int, idleFor, scaleInAfter time.Duration) int {
	want := int(math.Ceil(float64(visible) / p.target))
	if want < current && (visible > 0 || inFlight > 0 || idleFor < scaleInAfter) {
		want = current // scale in only once the queue has been idle a while
	}
	return min(max(want, minSize), maxSize)
}

// scaleOnBacklog evaluates the queue-backlog policies of the groups and sets the desired
// capacity of those whose target capacity changed, through the Auto Scaling API, which the
// group then follows.
func (f *Fleet) scaleOnBacklog(ctx context.Context, groups []astypes.AutoScalingGroup) error {
	for _, g := range groups {
		name := aws.ToString(g.AutoScalingGroupName)
		out, err := f.asg.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: &name})
		if err != nil {
			return fmt.Errorf("describe policies of %s: %w", name, err)
		}
		policy, ok := backlogPolicyOf(out.ScalingPolicies)
		if !ok {
			continue
		}
		visible, inFlight, err := f.queueDepth(ctx, policy.queueName)
		if err != nil {
			return fmt.Errorf("backlog of %s: %w", name, err)
		}
		f.mu.Lock()
		if visible > 0 || inFlight > 0 {
			f.busySince[name] = time.Now()
		} else if _, ok := f.busySince[name]; !ok {
			f.busySince[name] = time.Now()
		}
		idleFor := time.Since(f.busySince[name])
		f.mu.Unlock()
		current := int(aws.ToInt32(g.DesiredCapacity))
		want := backlogCapacity(policy, visible, inFlight, current, int(aws.ToInt32(g.MinSize)), int(aws.ToInt32(g.MaxSize)), idleFor, f.opts.ScaleInAfter)
		if want == current {
			continue
		}
		if _, err := f.asg.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: &name, DesiredCapacity: aws.Int32(int32(want))}); err != nil {
			return fmt.Errorf("scale %s: %w", name, err)
		}
		// The group follows at the next poll, with the instances Auto Scaling launched.
		f.opts.Logf("fleet: %s: %d visible and %d in flight on %s, target %g per instance: desired %d -> %d", name, visible, inFlight, policy.queueName, policy.target, current, want)
	}
	return nil
}

// queueDepth reads a queue's visible and in-flight messages, by its name.
func (f *Fleet) queueDepth(ctx context.Context, name string) (visible, inFlight int, err error) {
	u, err := f.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
	if err != nil {
		return 0, 0, err
	}
	attrs, err := f.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	}})
	if err != nil {
		return 0, 0, err
	}
	visible, _ = strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight, nil
}
