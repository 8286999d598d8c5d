package roles_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

// TestEndpointServesTheRoleToTokenHolders reads the endpoint as an SDK configured by the
// environment it grants would, and checks who the credentials are.
func TestEndpointServesTheRoleToTokenHolders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(ns.ID + "-instance"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	require.NoError(t, err)

	e, err := roles.StartEndpoint()
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, e.Close()) })
	env, revoke := e.Grant(roles.Credentials(cfg, aws.ToString(role.Role.Arn), "i-0123456789abcdef0"))
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/`, env[roles.FullURIEnv], "the SDKs accept plain HTTP only on loopback")
	holder := func(env map[string]string) aws.Config {
		c := cfg.Copy()
		c.Credentials = roles.Fetched(env)
		return c
	}

	creds, err := holder(env).Credentials.Retrieve(ctx)
	require.NoError(t, err)
	assert.True(t, creds.CanExpire, "the SDK learns when to come back for fresh ones")
	assert.WithinDuration(t, time.Now().Add(roles.SessionDuration), creds.Expires, time.Minute)
	who, err := sts.NewFromConfig(holder(env)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::"+ns.AccountID+":assumed-role/"+ns.ID+"-instance/i-0123456789abcdef0", aws.ToString(who.Arn))

	_, err = holder(map[string]string{roles.FullURIEnv: env[roles.FullURIEnv], roles.TokenEnv: "not-the-token"}).Credentials.Retrieve(ctx)
	assert.ErrorContains(t, err, "unknown or revoked authorization token")
	revoke()
	_, err = holder(env).Credentials.Retrieve(ctx)
	assert.Error(t, err, "a revoked grant serves nothing")
}
