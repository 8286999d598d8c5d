package emulator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

// TestSignedGetsUnderIAMEnforcement checks the emulator's fix to moto's signature check of
// bodyless requests: GETs with and without a query (CloudFront's ?Resource=<arn>, which
// Terraform reads after creating a distribution) pass under IAM enforcement.
func TestSignedGetsUnderIAMEnforcement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.StartT(t, emulator.Options{EnforceIAM: true})
	ns := e.NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	cf := cloudfront.NewFromConfig(cfg)
	out, err := cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
		CallerReference: aws.String("x"), Comment: aws.String("x"), Enabled: aws.Bool(true),
		Origins:              &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{Id: aws.String("o"), DomainName: aws.String("b.s3.amazonaws.com"), S3OriginConfig: &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")}}}},
		DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{TargetOriginId: aws.String("o"), ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyAllowAll, ForwardedValues: &cftypes.ForwardedValues{QueryString: aws.Bool(false), Cookies: &cftypes.CookiePreference{Forward: cftypes.ItemSelectionNone}}, MinTTL: aws.Int64(0)},
	}})
	require.NoError(t, err)
	_, err = cf.ListTagsForResource(ctx, &cloudfront.ListTagsForResourceInput{Resource: out.Distribution.ARN})
	assert.NoError(t, err, "a GET whose query holds an ARN")
	_, err = cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: out.Distribution.Id})
	assert.NoError(t, err, "a GET without a query")

	// An ARN in the path: Lambda's ListTags of a resource.
	_, err = lambda.NewFromConfig(cfg).ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String("arn:aws:lambda:" + ns.Region + ":" + ns.AccountID + ":function:missing")})
	var apiErr smithy.APIError
	if assert.ErrorAs(t, err, &apiErr, "a missing function is reported as such") {
		assert.Equal(t, "ResourceNotFoundException", apiErr.ErrorCode(), "not a signature mismatch: %v", err)
	}

}

// TestPresignedRequestsUnderIAMEnforcement checks the emulator's reading of presigned
// requests under IAM enforcement (moto failed them with a 500): the signer's permissions
// decide, and an expired URL is refused.
func TestPresignedRequestsUnderIAMEnforcement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.StartT(t, emulator.Options{EnforceIAM: true})
	ns := e.NamespaceT(t)
	admin, err := ns.S3Client(ctx)
	require.NoError(t, err)
	bucket := ns.ID + "-presigned"
	_, err = admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)
	put := func(client *s3.Client, key string, expires time.Duration) int {
		req, err := s3.NewPresignClient(client).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key},
			s3.WithPresignExpires(expires))
		require.NoError(t, err)
		r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, strings.NewReader("bytes"))
		require.NoError(t, err)
		r.Header = req.SignedHeader.Clone()
		resp, err := e.CA().HTTPClient().Do(r)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, put(admin, "allowed", time.Minute), "the admin may put")

	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	iamc := iam.NewFromConfig(cfg)
	createUser(t, iamc, ns.ID+"-reader")
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(ns.ID + "-reader")})
	require.NoError(t, err)
	reader := cfg.Copy()
	reader.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	assert.Equal(t, http.StatusForbidden, put(s3.NewFromConfig(reader, pathStyle), "denied", time.Minute), "a user without s3:PutObject may not")

	// Temporary credentials (the upload API's instance role) carry their session token in
	// the query.
	roleName := ns.ID + "-uploader"
	created, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: &roleName,
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	_, err = iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &roleName, PolicyName: aws.String("put"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`)})
	require.NoError(t, err)
	session, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: created.Role.Arn, RoleSessionName: aws.String("i-0123456789")})
	require.NoError(t, err)
	asRole := cfg.Copy()
	asRole.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(session.Credentials.AccessKeyId),
		aws.ToString(session.Credentials.SecretAccessKey), aws.ToString(session.Credentials.SessionToken))
	assert.Equal(t, http.StatusOK, put(s3.NewFromConfig(asRole, pathStyle), "from-the-role", time.Minute), "the role may put")

	req, err := s3.NewPresignClient(admin).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("late")},
		func(o *s3.PresignOptions) { o.Expires = time.Second })
	require.NoError(t, err)
	time.Sleep(2 * time.Second) // the URL must really have expired
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, strings.NewReader("bytes"))
	require.NoError(t, err)
	resp, err := e.CA().HTTPClient().Do(r)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "an expired URL is refused")
}
