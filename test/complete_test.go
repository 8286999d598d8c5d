package test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/hashicorp/terraform-exec/tfexec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestComplete deploys examples/complete (one region with everything, its distribution,
// latency records and a media events subscriber) and checks through the AWS APIs how the
// modules were wired to each other: the values one module hands another really arrive, and
// the data paths between them (upload -> transcode queue, topic -> subscriber) really flow.
// Each module's own settings are checked in depth by its own test.
func TestComplete(t *testing.T) {
	t.Parallel()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	zip := standInZip(root)

	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/complete", map[string]any{
		"upload_api_zip_path": zip,
		"transcoder_zip_path": zip,
		"zone_name":           tg.RunID + ".media.example.com",
		"web_app":             map[string]any{"source_dir": filepath.Join(root, "build", "web")},
		// The end-to-end suite's deployments add the worker fleet and leave their destroy
		// to this test.
		"worker_fleet": map[string]any{"zip_path": zip},
	})
	ctx := context.Background()
	cfg := tg.AWSConfig()
	s3c := tg.S3Client()
	sqsc := sqs.NewFromConfig(cfg)
	out := terraform.OutputAllContext(t, context.Background(), opts)
	output := func(name string) string {
		v, ok := out[name].(string)
		require.True(t, ok, "output %s must be a string, got %#v", name, out[name])
		return v
	}
	originals, derivatives := output("originals_bucket_id"), output("derivatives_bucket_id")
	cdnBaseURL := output("cdn_base_url")

	t.Run("buckets", func(t *testing.T) {
		for _, bucket := range []string{originals, derivatives} {
			assertPrivateBucket(ctx, t, s3c, bucket)
		}
		ver, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &originals})
		require.NoError(t, err)
		assert.Equal(t, s3types.BucketVersioningStatusEnabled, ver.Status, "originals are versioned")
		assert.True(t, bucketPolicy(ctx, t, s3c, derivatives).denies("s3:x-amz-storage-class", "REDUCED_REDUNDANCY"),
			"derivatives accept only the configured storage class")
		policy, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &derivatives})
		require.NoError(t, err)
		distribution := cloudFrontDistribution(ctx, t, cloudfront.NewFromConfig(cfg), output("cdn_distribution_id"))
		assert.Contains(t, aws.ToString(policy.Policy), "distribution/"+aws.ToString(distribution.Id),
			"the derivatives bucket lets exactly this stack's distribution read")
	})

	t.Run("an upload reaches the transcode queue", func(t *testing.T) {
		queueURL := output("transcode_queue_url")
		attrs := queueAttributes(ctx, t, sqsc, queueURL)
		assert.Equal(t, "1800", attrs["VisibilityTimeout"], "six times the function's 300 s timeout")
		assert.Contains(t, attrs["RedrivePolicy"], "-transcode-dlq")

		key := "uploads/user-1/" + tg.RunID + "/original"
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &originals, Key: &key, Body: strings.NewReader("video bytes")})
		require.NoError(t, err)
		// Nothing consumed it yet: the first receive is the first (the emulator leaves the
		// event source mapping to the local cloud's poller, as AWS leaves it to Lambda's).
		// S3's own s3:TestEvent is in the queue too; the poller acknowledges those.
		var upload *sqstypes.Message
		var event struct {
			Records []struct {
				EventName string
				S3        struct{ Object struct{ Key string } }
			}
		}
		for attempt := 0; upload == nil && attempt < 5; attempt++ {
			msgs, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl: &queueURL, WaitTimeSeconds: 5, MaxNumberOfMessages: 10, VisibilityTimeout: 30,
				MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
			})
			require.NoError(t, err)
			for i, m := range msgs.Messages {
				if json.Unmarshal([]byte(aws.ToString(m.Body)), &event) == nil && len(event.Records) == 1 {
					upload = &msgs.Messages[i]
					break
				}
			}
		}
		require.NotNil(t, upload, "the upload's notification must reach the transcode queue")
		assert.Equal(t, "ObjectCreated:Put", event.Records[0].EventName)
		// Keys in S3 events are URL-encoded.
		got, err := url.QueryUnescape(event.Records[0].S3.Object.Key)
		require.NoError(t, err)
		assert.Equal(t, key, got)
		assert.Equal(t, "1", upload.Attributes["ApproximateReceiveCount"])
	})

	t.Run("media events reach the subscriber", func(t *testing.T) {
		inbox := output("media_events_inbox_url")
		_, err := sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String(output("media_events_topic_arn")),
			Message:  aws.String(`{"media_id":"m1","status":"ready"}`),
		})
		require.NoError(t, err)
		msgs, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &inbox, WaitTimeSeconds: 5})
		require.NoError(t, err)
		require.Len(t, msgs.Messages, 1)
		assert.JSONEq(t, `{"media_id":"m1","status":"ready"}`, aws.ToString(msgs.Messages[0].Body), "raw delivery: the event as published")
	})

	t.Run("transcoder", func(t *testing.T) {
		fn, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(output("transcoder_function_name"))})
		require.NoError(t, err)
		c := fn.Configuration
		assert.Equal(t, lambdatypes.RuntimeProvidedal2023, c.Runtime)
		env := c.Environment.Variables
		host, port := splitEndpoint(t, output("database_endpoint"))
		assert.Equal(t, host, env["DB_HOST"])
		assert.Equal(t, port, env["DB_PORT"])
		assert.Equal(t, "media", env["DB_NAME"])
		assert.Equal(t, output("database_secret_arn"), env["DB_SECRET_ARN"])
		assert.Equal(t, cdnBaseURL, env["CDN_BASE_URL"])
		assert.Equal(t, derivatives, env["DERIVATIVES_BUCKET"])
		assert.Equal(t, output("media_events_topic_arn"), env["TOPIC_ARN"])
		assertNoSecretValues(t, env)

		mappings, err := lambda.NewFromConfig(cfg).ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{
			EventSourceArn: aws.String(queueAttributes(ctx, t, sqsc, output("transcode_queue_url"))["QueueArn"])})
		require.NoError(t, err)
		require.Len(t, mappings.EventSourceMappings, 1, "the function consumes the transcode queue")
		m := mappings.EventSourceMappings[0]
		assert.Equal(t, aws.ToString(c.FunctionArn), aws.ToString(m.FunctionArn))
		assert.Equal(t, []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures}, m.FunctionResponseTypes)
		require.NotNil(t, m.ScalingConfig)
		assert.Equal(t, int32(5), aws.ToInt32(m.ScalingConfig.MaximumConcurrency))

		require.NotNil(t, c.VpcConfig, "the function runs in the VPC to reach the private database")
		assert.Len(t, c.VpcConfig.SubnetIds, 2)
		require.Len(t, c.VpcConfig.SecurityGroupIds, 1)
		assertDatabaseOpenTo(ctx, t, cfg, output("database_endpoint"), c.VpcConfig.SecurityGroupIds[0])
	})

	t.Run("upload API fleet", func(t *testing.T) {
		group := autoScalingGroup(ctx, t, autoscaling.NewFromConfig(cfg), output("upload_api_asg_name"))
		require.Len(t, group.TargetGroupARNs, 1, "the fleet is behind the load balancer's target group")
		service, data := launchTemplateService(ctx, t, ec2.NewFromConfig(cfg), aws.ToString(group.LaunchTemplate.LaunchTemplateId))
		assert.Equal(t, ec2types.LaunchTemplateHttpTokensStateRequired, data.MetadataOptions.HttpTokens, "IMDSv2 must be required")
		env := service.Environment
		assert.Equal(t, "https://cognito-idp."+tg.Region+".amazonaws.com/"+output("user_pool_id"), env["JWT_ISSUER"])
		assert.Equal(t, output("user_pool_client_id"), env["JWT_AUDIENCE"])
		assert.Equal(t, originals, env["ORIGINALS_BUCKET"])
		assert.Equal(t, cdnBaseURL, env["CDN_BASE_URL"])
		assert.Equal(t, output("database_secret_arn"), env["DB_SECRET_ARN"])
		assertNoSecretValues(t, env)

		sgs, err := ec2.NewFromConfig(cfg).DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
			LaunchTemplateId: group.LaunchTemplate.LaunchTemplateId, Versions: []string{"$Latest"}})
		require.NoError(t, err)
		groups := sgs.LaunchTemplateVersions[0].LaunchTemplateData.NetworkInterfaces[0].Groups
		require.Len(t, groups, 1)
		assertDatabaseOpenTo(ctx, t, cfg, output("database_endpoint"), groups[0])
	})

	t.Run("database", func(t *testing.T) {
		db := dbInstance(ctx, t, rds.NewFromConfig(cfg), output("database_endpoint"))
		assert.True(t, aws.ToBool(db.StorageEncrypted))
		assert.False(t, aws.ToBool(db.PubliclyAccessible))
		assert.GreaterOrEqual(t, aws.ToInt32(db.BackupRetentionPeriod), int32(7))
		require.NotNil(t, db.MasterUserSecret, "the password is managed by RDS in Secrets Manager")
		assert.Equal(t, output("database_secret_arn"), aws.ToString(db.MasterUserSecret.SecretArn))
	})

	t.Run("latency record", func(t *testing.T) {
		zoneID := output("dns_zone_id")
		records, err := route53.NewFromConfig(cfg).ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: &zoneID})
		require.NoError(t, err)
		var aliases []string
		for _, r := range records.ResourceRecordSets {
			if r.Type == r53types.RRTypeA && r.AliasTarget != nil {
				assert.Equal(t, tg.Region, string(r.Region))
				aliases = append(aliases, strings.ToLower(trimDot(aws.ToString(r.AliasTarget.DNSName))))
			}
		}
		require.Len(t, aliases, 1)
		assert.Contains(t, output("api_url"), strings.TrimPrefix(aliases[0], "dualstack."), "the record aliases this region's load balancer")
	})

	t.Run("cdn", func(t *testing.T) {
		d := cloudFrontDistribution(ctx, t, cloudfront.NewFromConfig(cfg), output("cdn_distribution_id"))
		assert.Equal(t, cdnBaseURL, "https://"+aws.ToString(d.DomainName))
		dc := d.DistributionConfig
		require.Len(t, dc.Origins.Items, 3, "the derivatives bucket, the web app's bucket and the upload API")
		origins := map[string]cftypes.Origin{}
		for _, o := range dc.Origins.Items {
			origins[aws.ToString(o.Id)] = o
		}
		assert.True(t, strings.HasPrefix(aws.ToString(origins["derivatives"].DomainName), derivatives+".s3."), "media comes from this region's derivatives bucket")
		assert.True(t, strings.HasPrefix(aws.ToString(origins["web-app"].DomainName), output("web_app_bucket_id")+".s3."), "the app comes from its bucket")
		api := origins["upload-api"]
		assert.Contains(t, output("api_url"), aws.ToString(api.DomainName), "public reads come from this region's load balancer")
		require.NotNil(t, api.CustomOriginConfig)
		assert.Equal(t, cftypes.OriginProtocolPolicyHttpOnly, api.CustomOriginConfig.OriginProtocolPolicy, "without a certificate the load balancer serves plain HTTP")
		assert.Equal(t, cftypes.ViewerProtocolPolicyRedirectToHttps, dc.DefaultCacheBehavior.ViewerProtocolPolicy)
		var patterns []string
		for _, b := range dc.CacheBehaviors.Items {
			patterns = append(patterns, aws.ToString(b.PathPattern))
			assert.NotEqual(t, cftypes.ViewerProtocolPolicyAllowAll, b.ViewerProtocolPolicy)
			if aws.ToString(b.TargetOriginId) == "upload-api" {
				assert.Zero(t, aws.ToInt64(b.DefaultTTL), "the API's reads keep only what the API marks cacheable")
				assert.Contains(t, b.ForwardedValues.Headers.Items, "Authorization")
			}
		}
		assert.Equal(t, []string{"/app/*", "/v1/*", "*.m3u8", "*.mpd", "*.ts", "*.m4s", "*.mp4", "*.jpg"}, patterns,
			"the app and the API first, then playlists, segments, renditions and posters, each cached apart")
		app := dc.CacheBehaviors.Items[0]
		policy, err := cloudfront.NewFromConfig(cfg).GetResponseHeadersPolicy(ctx, &cloudfront.GetResponseHeadersPolicyInput{Id: app.ResponseHeadersPolicyId})
		require.NoError(t, err, "the app's behaviour has its response headers policy")
		csp := aws.ToString(policy.ResponseHeadersPolicy.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy)
		assert.Contains(t, csp, "https://"+originals+".s3.", "the app uploads to this region's originals bucket")

		// The app's config.json names this stack.
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(output("web_app_bucket_id")), Key: aws.String("app/config.json")})
		require.NoError(t, err)
		defer obj.Body.Close()
		var appConfig map[string]any
		require.NoError(t, json.NewDecoder(obj.Body).Decode(&appConfig))
		assert.Equal(t, output("user_pool_id"), appConfig["user_pool_id"])
		assert.Equal(t, output("user_pool_client_id"), appConfig["user_pool_client_id"])
		assert.Equal(t, cdnBaseURL, appConfig["api_url"], "the app calls the API through the distribution")
		assert.Equal(t, cdnBaseURL, appConfig["cdn_base_url"])

		// moto drops the control's id from the origin, so the control is checked by its name.
		oacs, err := cloudfront.NewFromConfig(cfg).ListOriginAccessControls(ctx, &cloudfront.ListOriginAccessControlsInput{})
		require.NoError(t, err)
		var oac *cftypes.OriginAccessControlSummary
		for i, o := range oacs.OriginAccessControlList.Items {
			if strings.HasPrefix(aws.ToString(o.Name), tg.RunID+"-media") {
				oac = &oacs.OriginAccessControlList.Items[i]
			}
		}
		require.NotNil(t, oac, "the distribution's origin access control must exist")
		assert.Equal(t, cftypes.OriginAccessControlOriginTypesS3, oac.OriginAccessControlOriginType)
		assert.Equal(t, cftypes.OriginAccessControlSigningBehaviorsAlways, oac.SigningBehavior)
		assert.Equal(t, cftypes.OriginAccessControlSigningProtocolsSigv4, oac.SigningProtocol)
	})

	// Applying again changes nothing, and the plan, whose values are now all known, passes
	// the policies that had to wait for apply (KMS keys, IAM policies).
	t.Run("idempotent and compliant once applied", func(t *testing.T) {
		tf, err := tg.TfexecIn(opts.TerraformDir, opts.EnvVars["TF_CLI_CONFIG_FILE"])
		require.NoError(t, err)
		planFile := filepath.Join(opts.TerraformDir, "replan.tfplan")
		planOpts := []tfexec.PlanOption{tfexec.Out(planFile)}
		for _, f := range opts.VarFiles {
			planOpts = append(planOpts, tfexec.VarFile(f))
		}
		changed, err := tf.Plan(ctx, planOpts...)
		require.NoError(t, err)
		plan, err := tf.ShowPlanFile(ctx, planFile)
		require.NoError(t, err)
		allowed := tg.AllowedDrift()
		assert.Empty(t, target.UnexpectedChanges(plan, allowed), "a second plan changes only what the target reads back differently")
		if len(allowed) == 0 {
			assert.False(t, changed, "a second plan must be empty")
		}
		raw, err := json.Marshal(plan)
		require.NoError(t, err)
		planJSON := filepath.Join(opts.TerraformDir, "replan.json")
		require.NoError(t, os.WriteFile(planJSON, raw, 0o644))
		conftest(t, root, planJSON)
	})

	// Destroy leaves nothing behind, although the buckets and queues hold objects and messages.
	terraform.DestroyContext(t, context.Background(), opts)
	for _, bucket := range []string{originals, derivatives} {
		_, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
		var notFound *s3types.NotFound
		assert.ErrorAs(t, err, &notFound, "bucket %s must be gone", bucket)
	}
	_, err = lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(output("transcoder_function_name"))})
	var noFunction *lambdatypes.ResourceNotFoundException
	assert.ErrorAs(t, err, &noFunction, "the function must be gone")
	dbs, err := rds.NewFromConfig(cfg).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	assert.Empty(t, dbs.DBInstances, "the database must be gone")
	groups, err := autoscaling.NewFromConfig(cfg).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	require.NoError(t, err)
	assert.Empty(t, groups.AutoScalingGroups, "the fleet must be gone")
}

func queueAttributes(ctx context.Context, t *testing.T, c *sqs.Client, url string) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	require.NoError(t, err)
	return out.Attributes
}

func splitEndpoint(t *testing.T, endpoint string) (host, port string) {
	t.Helper()
	i := strings.LastIndex(endpoint, ":")
	require.Positive(t, i, "endpoint %q must be host:port", endpoint)
	return endpoint[:i], endpoint[i+1:]
}

// assertNoSecretValues checks that an environment names its secrets instead of holding them.
func assertNoSecretValues(t *testing.T, env map[string]string) {
	t.Helper()
	for k := range env {
		assert.NotRegexp(t, `(?i)PASSWORD|PRIVATE_KEY$`, k, "secrets come from Secrets Manager, never the environment")
	}
}

func dbInstance(ctx context.Context, t *testing.T, c *rds.Client, endpoint string) *rdstypes.DBInstance {
	t.Helper()
	host, _ := splitEndpoint(t, endpoint)
	out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	for i, db := range out.DBInstances {
		if db.Endpoint != nil && aws.ToString(db.Endpoint.Address) == host {
			return &out.DBInstances[i]
		}
	}
	require.FailNow(t, "no DB instance has the endpoint "+endpoint)
	return nil
}

// assertDatabaseOpenTo checks that the database's security group admits sg on its port.
func assertDatabaseOpenTo(ctx context.Context, t *testing.T, cfg aws.Config, endpoint, sg string) {
	t.Helper()
	db := dbInstance(ctx, t, rds.NewFromConfig(cfg), endpoint)
	require.Len(t, db.VpcSecurityGroups, 1)
	out, err := ec2.NewFromConfig(cfg).DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{aws.ToString(db.VpcSecurityGroups[0].VpcSecurityGroupId)}}},
	})
	require.NoError(t, err)
	for _, r := range out.SecurityGroupRules {
		if !aws.ToBool(r.IsEgress) && r.ReferencedGroupInfo != nil && aws.ToString(r.ReferencedGroupInfo.GroupId) == sg {
			assert.Equal(t, aws.ToInt32(db.Endpoint.Port), aws.ToInt32(r.FromPort))
			return
		}
	}
	assert.Fail(t, "the database's security group must admit "+sg)
}

func autoScalingGroup(ctx context.Context, t *testing.T, c *autoscaling.Client, name string) *astypes.AutoScalingGroup {
	t.Helper()
	out, err := c.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	require.NoError(t, err)
	require.Len(t, out.AutoScalingGroups, 1)
	require.NotNil(t, out.AutoScalingGroups[0].LaunchTemplate)
	return &out.AutoScalingGroups[0]
}

// fleetService is what the user data's second line states about the service it installs.
type fleetService struct {
	Name, Artifact string
	Port           int
	Environment    map[string]string
}

// launchTemplateService reads the latest version of a launch template and the service its
// user data installs.
func launchTemplateService(ctx context.Context, t *testing.T, c *ec2.Client, id string) (fleetService, *ec2types.ResponseLaunchTemplateData) {
	t.Helper()
	versions, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: &id, Versions: []string{"$Latest"}})
	require.NoError(t, err)
	require.Len(t, versions.LaunchTemplateVersions, 1)
	data := versions.LaunchTemplateVersions[0].LaunchTemplateData
	userData, err := base64.StdEncoding.DecodeString(aws.ToString(data.UserData))
	require.NoError(t, err)
	lines := strings.Split(string(userData), "\n")
	require.Greater(t, len(lines), 2)
	var service fleetService
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "# mediastack-service: ")), &service))
	return service, data
}

func cloudFrontDistribution(ctx context.Context, t *testing.T, c *cloudfront.Client, id string) *cftypes.Distribution {
	t.Helper()
	out, err := c.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: &id})
	require.NoError(t, err)
	return out.Distribution
}
