package emulator_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
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
