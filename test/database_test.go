package test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/gruntwork-io/terratest/modules/logger"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestDatabase deploys examples/database and checks the instance, its managed secret and
// its security group through the AWS APIs.
func TestDatabase(t *testing.T) {
	t.Parallel()
	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/database", nil)
	ctx := context.Background()
	cfg := tg.AWSConfig()

	id := terraform.OutputContext(t, context.Background(), opts, "instance_id")
	out, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: &id})
	require.NoError(t, err)
	require.Len(t, out.DBInstances, 1)
	db := out.DBInstances[0]
	assert.Equal(t, "postgres", aws.ToString(db.Engine))
	assert.False(t, aws.ToBool(db.PubliclyAccessible), "the database must be private")
	assert.True(t, aws.ToBool(db.StorageEncrypted), "storage must be encrypted")
	assert.GreaterOrEqual(t, aws.ToInt32(db.BackupRetentionPeriod), int32(7))
	assert.Equal(t, "media", aws.ToString(db.DBName))
	require.NotEmpty(t, db.DBParameterGroups)
	assert.Equal(t, tg.RunID+"-media-postgres16", aws.ToString(db.DBParameterGroups[0].DBParameterGroupName))

	// The password lives in the RDS-managed secret, not in the configuration.
	require.NotNil(t, db.MasterUserSecret, "RDS must manage the master password")
	secretARN := terraform.OutputContext(t, context.Background(), opts, "master_user_secret_arn")
	assert.Equal(t, secretARN, aws.ToString(db.MasterUserSecret.SecretArn))
	secret, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &secretARN})
	require.NoError(t, err)
	var creds struct{ Username, Password string }
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(secret.SecretString)), &creds))
	assert.NotEmpty(t, creds.Username)
	if tg.Name != target.Local { // moto 5.2 writes "admin" into every managed secret
		assert.Equal(t, "media_admin", creds.Username)
	}
	assert.NotEmpty(t, creds.Password)
	quiet := *opts
	quiet.Logger = logger.Discard // the state is long and says nothing a failure needs
	state := terraform.ShowContext(t, context.Background(), &quiet)
	assert.NotContains(t, state, creds.Password, "the password must not be in the Terraform state")

	// Only the application group reaches the port.
	dbGroup := terraform.OutputContext(t, context.Background(), opts, "database_security_group_id")
	appGroup := terraform.OutputContext(t, context.Background(), opts, "app_security_group_id")
	groups, err := ec2.NewFromConfig(cfg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{dbGroup}})
	require.NoError(t, err)
	require.Len(t, groups.SecurityGroups, 1)
	ingress := groups.SecurityGroups[0].IpPermissions
	require.Len(t, ingress, 1)
	assert.Equal(t, int32(5432), aws.ToInt32(ingress[0].FromPort))
	assert.Empty(t, ingress[0].IpRanges, "no CIDR may reach the database")
	require.Len(t, ingress[0].UserIdGroupPairs, 1)
	assert.Equal(t, appGroup, aws.ToString(ingress[0].UserIdGroupPairs[0].GroupId))
}
