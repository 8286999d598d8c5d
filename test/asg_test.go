package test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestFleets deploys examples/asg, which composes the network, alb, private-bucket, queue and
// asg modules, and checks through the EC2, Auto Scaling and S3 APIs: the launch template
// (IMDSv2, no public IP, encrypted root volume, user data installing the uploaded artifact),
// the upload API's group in the private subnets behind the load balancer's target group with
// ELB health checks and requests-per-target scaling, its port open to the load balancer
// only, and the worker fleet's spot mix scaled on the queue's backlog per instance.
func TestFleets(t *testing.T) {
	t.Parallel()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	artifact := standInZip(root)

	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/asg", map[string]any{"artifact_path": artifact})
	ctx := context.Background()
	cfg := tg.AWSConfig()
	templateID := terraform.OutputContext(t, context.Background(), opts, "launch_template_id")
	asgName := terraform.OutputContext(t, context.Background(), opts, "asg_name")
	bucket := terraform.OutputContext(t, context.Background(), opts, "artifacts_bucket")
	key := terraform.OutputContext(t, context.Background(), opts, "artifact_key")

	service, data := launchTemplateService(ctx, t, ec2.NewFromConfig(cfg), templateID)
	require.NotNil(t, data.MetadataOptions)
	assert.Equal(t, ec2types.LaunchTemplateHttpTokensStateRequired, data.MetadataOptions.HttpTokens, "IMDSv2 must be required")
	assert.Equal(t, int32(1), aws.ToInt32(data.MetadataOptions.HttpPutResponseHopLimit))
	require.NotEmpty(t, data.NetworkInterfaces)
	assert.False(t, aws.ToBool(data.NetworkInterfaces[0].AssociatePublicIpAddress), "no public IP")
	require.NotEmpty(t, data.BlockDeviceMappings)
	assert.True(t, aws.ToBool(data.BlockDeviceMappings[0].Ebs.Encrypted), "the root volume must be encrypted")
	assert.Equal(t, ec2types.VolumeTypeGp3, data.BlockDeviceMappings[0].Ebs.VolumeType)

	assert.Equal(t, "upload-api", service.Name)
	assert.Equal(t, 8080, service.Port)
	assert.Equal(t, "s3://"+bucket+"/"+key, service.Artifact)
	assert.Equal(t, ":8080", service.Environment["LISTEN_ADDR"])
	assert.Equal(t, terraform.OutputContext(t, context.Background(), opts, "url"), service.Environment["PUBLIC_URL"], "the environment takes other modules' outputs")

	// The artifact the user data names is the zip the example uploaded.
	head, err := tg.S3Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	info, err := os.Stat(artifact)
	require.NoError(t, err)
	assert.Equal(t, info.Size(), aws.ToInt64(head.ContentLength))

	scaling := autoscaling.NewFromConfig(cfg)
	groups, err := scaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{asgName}})
	require.NoError(t, err)
	require.Len(t, groups.AutoScalingGroups, 1)
	group := groups.AutoScalingGroups[0]
	assert.Equal(t, int32(1), aws.ToInt32(group.DesiredCapacity))
	require.NotNil(t, group.LaunchTemplate)
	assert.Equal(t, templateID, aws.ToString(group.LaunchTemplate.LaunchTemplateId))
	assert.ElementsMatch(t, terraform.OutputListContext(t, context.Background(), opts, "private_subnet_ids"), strings.Split(aws.ToString(group.VPCZoneIdentifier), ","),
		"the group spans the network's private subnets")
	assert.Equal(t, []string{terraform.OutputContext(t, context.Background(), opts, "target_group_arn")}, group.TargetGroupARNs)
	assert.Equal(t, "ELB", aws.ToString(group.HealthCheckType), "the load balancer's health check replaces instances")

	policies, err := scaling.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: &asgName})
	require.NoError(t, err)
	require.Len(t, policies.ScalingPolicies, 1)
	policy := policies.ScalingPolicies[0]
	assert.Equal(t, "TargetTrackingScaling", aws.ToString(policy.PolicyType))
	require.NotNil(t, policy.TargetTrackingConfiguration)
	require.NotNil(t, policy.TargetTrackingConfiguration.PredefinedMetricSpecification)
	assert.Equal(t, astypes.MetricTypeALBRequestCountPerTarget, policy.TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType)
	assert.Regexp(t, `^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$`, aws.ToString(policy.TargetTrackingConfiguration.PredefinedMetricSpecification.ResourceLabel))

	// The service port is open to the load balancer's group and nothing else.
	sgs, err := ec2.NewFromConfig(cfg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{terraform.OutputContext(t, context.Background(), opts, "security_group_id")}})
	require.NoError(t, err)
	require.Len(t, sgs.SecurityGroups, 1)
	require.Len(t, sgs.SecurityGroups[0].IpPermissions, 1)
	ingress := sgs.SecurityGroups[0].IpPermissions[0]
	assert.Equal(t, int32(8080), aws.ToInt32(ingress.FromPort))
	assert.Empty(t, ingress.IpRanges)
	require.Len(t, ingress.UserIdGroupPairs, 1)
	assert.Equal(t, terraform.OutputContext(t, context.Background(), opts, "alb_security_group_id"), aws.ToString(ingress.UserIdGroupPairs[0].GroupId))

	// The worker fleet: spot above no on-demand base, over several types, scaled on backlog.
	workers := terraform.OutputContext(t, context.Background(), opts, "worker_asg_name")
	groups, err = scaling.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{workers}})
	require.NoError(t, err)
	require.Len(t, groups.AutoScalingGroups, 1)
	mixed := groups.AutoScalingGroups[0].MixedInstancesPolicy
	require.NotNil(t, mixed, "the workers use a mixed-instances policy")
	require.NotNil(t, mixed.InstancesDistribution)
	assert.Equal(t, int32(0), aws.ToInt32(mixed.InstancesDistribution.OnDemandPercentageAboveBaseCapacity))
	assert.Equal(t, "price-capacity-optimized", aws.ToString(mixed.InstancesDistribution.SpotAllocationStrategy))
	require.NotNil(t, mixed.LaunchTemplate)
	assert.Len(t, mixed.LaunchTemplate.Overrides, 3)

	policies, err = scaling.DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: &workers})
	require.NoError(t, err)
	require.Len(t, policies.ScalingPolicies, 1)
	tracking := policies.ScalingPolicies[0].TargetTrackingConfiguration
	require.NotNil(t, tracking)
	assert.Equal(t, float64(10), aws.ToFloat64(tracking.TargetValue))
	require.NotNil(t, tracking.CustomizedMetricSpecification)
	var expression string
	queueSeen := false
	for _, m := range tracking.CustomizedMetricSpecification.Metrics {
		if aws.ToBool(m.ReturnData) {
			expression = aws.ToString(m.Expression)
		}
		if m.MetricStat != nil && aws.ToString(m.MetricStat.Metric.MetricName) == "ApproximateNumberOfMessagesVisible" {
			require.Len(t, m.MetricStat.Metric.Dimensions, 1)
			assert.Equal(t, terraform.OutputContext(t, context.Background(), opts, "queue_name"), aws.ToString(m.MetricStat.Metric.Dimensions[0].Value))
			queueSeen = true
		}
	}
	assert.True(t, queueSeen, "the backlog metric reads the job queue")
	assert.Contains(t, expression, "visible / ", "the returned metric is messages per instance")
}
