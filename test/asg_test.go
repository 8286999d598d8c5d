package test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// TestUploadAPIFleet deploys examples/asg and checks, through the EC2 and Auto Scaling APIs,
// the launch template (IMDSv2, no public IP, encrypted root volume, user data installing the
// artifact) and the group built from it.
func TestUploadAPIFleet(t *testing.T) {
	t.Parallel()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	artifact := standInZip(root)

	tg := target.New(t)
	opts := tg.Deploy(t, "examples/asg", map[string]any{"artifact_path": artifact})
	ctx := context.Background()
	cfg := tg.AWSConfig()
	templateID := terraform.Output(t, opts, "launch_template_id")
	asgName := terraform.Output(t, opts, "asg_name")
	bucket := terraform.Output(t, opts, "artifacts_bucket")

	versions, err := ec2.NewFromConfig(cfg).DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: &templateID, Versions: []string{"$Latest"},
	})
	require.NoError(t, err)
	require.Len(t, versions.LaunchTemplateVersions, 1)
	data := versions.LaunchTemplateVersions[0].LaunchTemplateData
	require.NotNil(t, data.MetadataOptions)
	assert.Equal(t, ec2types.LaunchTemplateHttpTokensStateRequired, data.MetadataOptions.HttpTokens, "IMDSv2 must be required")
	require.NotEmpty(t, data.NetworkInterfaces)
	assert.False(t, aws.ToBool(data.NetworkInterfaces[0].AssociatePublicIpAddress), "no public IP")
	require.NotEmpty(t, data.BlockDeviceMappings)
	assert.True(t, aws.ToBool(data.BlockDeviceMappings[0].Ebs.Encrypted), "the root volume must be encrypted")

	userData, err := base64.StdEncoding.DecodeString(aws.ToString(data.UserData))
	require.NoError(t, err)
	lines := strings.Split(string(userData), "\n")
	require.Greater(t, len(lines), 2)
	var service struct {
		Name, Artifact string
		Port           int
		Environment    map[string]string
	}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "# mediastack-service: ")), &service))
	assert.Equal(t, "upload-api", service.Name)
	assert.Equal(t, 8080, service.Port)
	assert.Equal(t, "s3://"+bucket+"/upload-api/upload-api.zip", service.Artifact)
	assert.Equal(t, ":8080", service.Environment["LISTEN_ADDR"])

	// The artifact the user data names is really there.
	_, err = tg.S3Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("upload-api/upload-api.zip")})
	require.NoError(t, err)

	groups, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{asgName}})
	require.NoError(t, err)
	require.Len(t, groups.AutoScalingGroups, 1)
	group := groups.AutoScalingGroups[0]
	assert.Equal(t, int32(1), aws.ToInt32(group.DesiredCapacity))
	require.NotNil(t, group.LaunchTemplate)
	assert.Equal(t, templateID, aws.ToString(group.LaunchTemplate.LaunchTemplateId))
	assert.Len(t, strings.Split(aws.ToString(group.VPCZoneIdentifier), ","), 2, "the group spans two subnets")

	policies, err := autoscaling.NewFromConfig(cfg).DescribePolicies(ctx, &autoscaling.DescribePoliciesInput{AutoScalingGroupName: &asgName})
	require.NoError(t, err)
	require.Len(t, policies.ScalingPolicies, 1)
	assert.Equal(t, "TargetTrackingScaling", aws.ToString(policies.ScalingPolicies[0].PolicyType))
}
