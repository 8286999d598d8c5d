package test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestCDN deploys examples/cdn and checks the distribution through the CloudFront API:
// the derivatives bucket as origin, HTTPS for viewers, and per-path TTLs.
func TestCDN(t *testing.T) {
	t.Parallel()
	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/cdn", nil)
	ctx := context.Background()
	client := cloudfront.NewFromConfig(tg.AWSConfig())
	id := terraform.OutputContext(t, context.Background(), opts, "distribution_id")
	derivatives := terraform.OutputContext(t, context.Background(), opts, "derivatives_bucket_id")

	out, err := client.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: &id})
	require.NoError(t, err)
	cfg := out.DistributionConfig
	require.Len(t, cfg.Origins.Items, 1)
	assert.Contains(t, aws.ToString(cfg.Origins.Items[0].DomainName), derivatives, "the origin is the derivatives bucket")
	assert.Equal(t, cftypes.ViewerProtocolPolicyRedirectToHttps, cfg.DefaultCacheBehavior.ViewerProtocolPolicy)

	ttls := map[string]int64{}
	for _, b := range cfg.CacheBehaviors.Items {
		assert.NotEqual(t, cftypes.ViewerProtocolPolicyAllowAll, b.ViewerProtocolPolicy, "%s must not allow plain HTTP", aws.ToString(b.PathPattern))
		ttls[aws.ToString(b.PathPattern)] = aws.ToInt64(b.DefaultTTL)
	}
	assert.Less(t, ttls["*.m3u8"], ttls["*.ts"], "playlists change, segments do not: playlists must expire sooner")
	assert.Equal(t, ttls["*.ts"], ttls["*.mp4"])

	// The origin access control exists and signs every request. (moto drops the control's
	// id from the origin it is attached to, so it is checked on its own.)
	oacs, err := client.ListOriginAccessControls(ctx, &cloudfront.ListOriginAccessControlsInput{})
	require.NoError(t, err)
	found := false
	for _, o := range oacs.OriginAccessControlList.Items {
		if o.OriginAccessControlOriginType == cftypes.OriginAccessControlOriginTypesS3 {
			found = true
			assert.Equal(t, cftypes.OriginAccessControlSigningBehaviorsAlways, o.SigningBehavior)
			assert.Equal(t, cftypes.OriginAccessControlSigningProtocolsSigv4, o.SigningProtocol)
		}
	}
	assert.True(t, found, "an S3 origin access control must exist")
}

// TestLatencyDNS deploys examples/latency-dns and checks the latency records through the
// Route 53 API: one alias per region, each with its set identifier and region.
func TestLatencyDNS(t *testing.T) {
	t.Parallel()
	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/latency-dns", map[string]any{"zone_name": tg.RunID + ".media.example.com"})
	ctx := context.Background()
	zoneID := terraform.OutputContext(t, context.Background(), opts, "zone_id")
	fqdn := terraform.OutputContext(t, context.Background(), opts, "fqdn")

	records, err := route53.NewFromConfig(tg.AWSConfig()).ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: &zoneID})
	require.NoError(t, err)
	regions := map[string]string{}
	for _, r := range records.ResourceRecordSets {
		if r.Type != r53types.RRTypeA || r.AliasTarget == nil {
			continue
		}
		assert.Equal(t, fqdn, trimDot(aws.ToString(r.Name)))
		assert.True(t, r.AliasTarget.EvaluateTargetHealth, "records must follow their target's health")
		regions[string(r.Region)] = aws.ToString(r.SetIdentifier)
	}
	assert.Equal(t, map[string]string{"us-east-1": "us-east-1", "eu-west-1": "eu-west-1"}, regions, "one latency record per region")
}

func trimDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}
