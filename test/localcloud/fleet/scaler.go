package fleet

import (
	"context"
	"errors"
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

// scale evaluates each group's target tracking policy (a queue's backlog, or a predefined
// metric, see tracking.go) and sets the desired capacity of those whose target capacity
// changed, through the Auto Scaling API, which the group then follows.
func (f *Fleet) scale(ctx context.Context, groups []astypes.AutoScalingGroup) error {
	var errs []error
	for _, g := range groups {
		name := aws.ToString(g.AutoScalingGroupName)
		out, err := f.asg.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: &name})
		if err != nil {
			return fmt.Errorf("describe policies of %s: %w", name, err)
		}
		if policy, ok := backlogPolicyOf(out.ScalingPolicies); ok {
			errs = append(errs, f.scaleOnBacklog(ctx, g, policy))
		} else if policy, ok := trackingPolicyOf(out.ScalingPolicies); ok {
			errs = append(errs, f.scaleOnMetric(ctx, g, policy))
		}
	}
	return errors.Join(errs...)
}

// scaleOnBacklog sizes a group for its queue's backlog.
func (f *Fleet) scaleOnBacklog(ctx context.Context, g astypes.AutoScalingGroup, policy backlogPolicy) error {
	name := aws.ToString(g.AutoScalingGroupName)
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
	return f.setDesired(ctx, g, want, fmt.Sprintf("%d visible and %d in flight on %s, target %g per instance", visible, inFlight, policy.queueName, policy.target))
}

// scaleOnMetric adds the group's sample to its datapoints and sizes it for them.
func (f *Fleet) scaleOnMetric(ctx context.Context, g astypes.AutoScalingGroup, policy trackingPolicy) error {
	name := aws.ToString(g.AutoScalingGroupName)
	s, inService, err := f.sampleGroup(name, policy, g.TargetGroupARNs)
	if err != nil {
		return fmt.Errorf("group %s: %w", name, err)
	}
	scaleInDatapoints := max(1, int(f.opts.ScaleInAfter/f.opts.MetricPeriod))
	f.mu.Lock()
	t := f.trackers[name]
	if t == nil || t.policy != policy {
		t = &tracker{policy: policy}
		f.trackers[name] = t
	}
	t.observe(s, f.opts.MetricPeriod, max(scaleOutDatapoints, scaleInDatapoints))
	current := int(aws.ToInt32(g.DesiredCapacity))
	want := current
	if inService == current { // no decision while launched instances warm up
		want = t.capacity(current, inService, int(aws.ToInt32(g.MinSize)), int(aws.ToInt32(g.MaxSize)), scaleInDatapoints)
	}
	var why string
	if n := len(t.datapoints); n > 0 {
		why = fmt.Sprintf("%s %.1f (target %g) over the last %d datapoints", policy.metric, t.datapoints[n-1], policy.target, min(n, max(scaleOutDatapoints, scaleInDatapoints)))
	}
	if want != current {
		t.datapoints = nil // the next decision waits for datapoints of the new size
	}
	f.mu.Unlock()
	return f.setDesired(ctx, g, want, why)
}

// setDesired sets the group's desired capacity to want when it differs, saying why.
func (f *Fleet) setDesired(ctx context.Context, g astypes.AutoScalingGroup, want int, why string) error {
	name := aws.ToString(g.AutoScalingGroupName)
	current := int(aws.ToInt32(g.DesiredCapacity))
	if want == current {
		return nil
	}
	if _, err := f.asg.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: &name, DesiredCapacity: aws.Int32(int32(want))}); err != nil { //nolint:gosec // a group's capacity, at most its max size
		return fmt.Errorf("scale %s: %w", name, err)
	}
	// The group follows at the next poll, with the instances Auto Scaling launched.
	f.opts.Logf("fleet: %s: %s: desired %d -> %d", name, why, current, want)
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
