package test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestNetwork deploys examples/network and checks through the EC2 API: subnets in two zones,
// private routes through the S3 endpoint and not to the internet, a default security group
// that allows nothing, and flow logs.
func TestNetwork(t *testing.T) {
	t.Parallel()
	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/network", nil)
	ctx := context.Background()
	client := ec2.NewFromConfig(tg.AWSConfig())
	vpcID := terraform.OutputContext(t, context.Background(), opts, "vpc_id")
	private := terraform.OutputListContext(t, context.Background(), opts, "private_subnet_ids")
	public := terraform.OutputListContext(t, context.Background(), opts, "public_subnet_ids")
	require.Len(t, private, 2)
	require.Len(t, public, 2)

	subnets, err := client.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: private})
	require.NoError(t, err)
	zones := map[string]bool{}
	for _, s := range subnets.Subnets {
		zones[aws.ToString(s.AvailabilityZone)] = true
		assert.False(t, aws.ToBool(s.MapPublicIpOnLaunch))
	}
	assert.Len(t, zones, 2, "private subnets must be in two zones")

	filter := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}
	tables, err := client.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: filter})
	require.NoError(t, err)
	privateSet := map[string]bool{private[0]: true, private[1]: true}
	checked := 0
	for _, rt := range tables.RouteTables {
		isPrivate := false
		for _, a := range rt.Associations {
			isPrivate = isPrivate || privateSet[aws.ToString(a.SubnetId)]
		}
		if !isPrivate {
			continue
		}
		checked++
		for _, r := range rt.Routes {
			assert.False(t, strings.HasPrefix(aws.ToString(r.GatewayId), "igw-"), "a private subnet must not route to the internet gateway")
			assert.NotEqual(t, "0.0.0.0/0", aws.ToString(r.DestinationCidrBlock), "no default route without NAT")
		}
	}
	assert.Equal(t, 2, checked, "each private subnet has its own route table")

	endpoints, err := client.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: filter})
	require.NoError(t, err)
	require.Len(t, endpoints.VpcEndpoints, 1)
	assert.Equal(t, ec2types.VpcEndpointTypeGateway, endpoints.VpcEndpoints[0].VpcEndpointType)
	assert.ElementsMatch(t, terraform.OutputListContext(t, context.Background(), opts, "private_route_table_ids"), endpoints.VpcEndpoints[0].RouteTableIds)

	groups, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: append(filter,
		ec2types.Filter{Name: aws.String("group-name"), Values: []string{"default"}})})
	require.NoError(t, err)
	require.Len(t, groups.SecurityGroups, 1)
	assert.Empty(t, groups.SecurityGroups[0].IpPermissions, "the default group allows no ingress")
	assert.Empty(t, groups.SecurityGroups[0].IpPermissionsEgress, "the default group allows no egress")

	logs, err := client.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{Filter: []ec2types.Filter{{Name: aws.String("resource-id"), Values: []string{vpcID}}}})
	require.NoError(t, err)
	require.Len(t, logs.FlowLogs, 1)
	assert.Equal(t, ec2types.TrafficTypeAll, logs.FlowLogs[0].TrafficType)
}
