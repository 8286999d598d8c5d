package test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target"
	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestTranscoderPipeline deploys examples/transcoder (buckets, queue, topic, function) and
// checks through the AWS APIs that the pieces are configured and wired as the modules say.
// The function's code here is a stand-in zip: what runs inside is tested elsewhere.
func TestTranscoderPipeline(t *testing.T) {
	t.Parallel()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	zipPath := standInZip(root)

	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/transcoder", map[string]any{"function_zip_path": zipPath})
	ctx := context.Background()
	cfg := tg.AWSConfig()
	functionName := terraform.OutputContext(t, context.Background(), opts, "function_name")
	queueURL := terraform.OutputContext(t, context.Background(), opts, "queue_url")
	topicARN := terraform.OutputContext(t, context.Background(), opts, "topic_arn")

	// The function: runtime, limits, environment, tracing, and the code that was built.
	fn, err := lambda.NewFromConfig(cfg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &functionName})
	require.NoError(t, err)
	c := fn.Configuration
	assert.Equal(t, lambdatypes.RuntimeProvidedal2023, c.Runtime)
	assert.Equal(t, "bootstrap", aws.ToString(c.Handler))
	assert.Equal(t, int32(300), aws.ToInt32(c.Timeout))
	assert.Equal(t, int32(3008), aws.ToInt32(c.MemorySize))
	assert.Equal(t, int32(10240), aws.ToInt32(c.EphemeralStorage.Size))
	assert.Equal(t, lambdatypes.TracingModeActive, c.TracingConfig.Mode)
	zipBytes, err := os.ReadFile(zipPath)
	require.NoError(t, err)
	sum := sha256.Sum256(zipBytes)
	assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), aws.ToString(c.CodeSha256), "the deployed code is the built zip")
	env := c.Environment.Variables
	assert.Equal(t, "REDUCED_REDUNDANCY", env["DERIVATIVES_STORAGE_CLASS"])
	assert.Equal(t, tg.RunID+"-derivatives", env["DERIVATIVES_BUCKET"])
	assert.Equal(t, tg.RunID+"-originals", env["ORIGINALS_BUCKET"])
	assert.Equal(t, topicARN, env["TOPIC_ARN"])

	// The event source mapping: the transcode queue, partial batch responses, a concurrency cap.
	queueAttrs, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &queueURL, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	require.NoError(t, err)
	attrs := queueAttrs.Attributes
	mappings, err := lambda.NewFromConfig(cfg).ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String(attrs["QueueArn"])})
	require.NoError(t, err)
	require.Len(t, mappings.EventSourceMappings, 1)
	m := mappings.EventSourceMappings[0]
	assert.Equal(t, aws.ToString(c.FunctionArn), aws.ToString(m.FunctionArn))
	assert.Equal(t, attrs["QueueArn"], aws.ToString(m.EventSourceArn))
	assert.Equal(t, int32(1), aws.ToInt32(m.BatchSize))
	assert.Equal(t, []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures}, m.FunctionResponseTypes)
	require.NotNil(t, m.ScalingConfig)
	assert.Equal(t, int32(5), aws.ToInt32(m.ScalingConfig.MaximumConcurrency))

	// The queue: visibility 6 x the function's timeout, redrive to the DLQ, encryption.
	assert.Equal(t, "1800", attrs["VisibilityTimeout"])
	assert.Equal(t, "true", attrs["SqsManagedSseEnabled"])
	var redrive struct {
		DeadLetterTargetArn string
		MaxReceiveCount     json.Number
	}
	require.NoError(t, json.Unmarshal([]byte(attrs["RedrivePolicy"]), &redrive))
	assert.Equal(t, "5", redrive.MaxReceiveCount.String())
	assert.Contains(t, redrive.DeadLetterTargetArn, tg.RunID+"-transcode-dlq")

	// New originals notify the queue.
	originals := tg.RunID + "-originals"
	notif, err := tg.S3Client().GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &originals})
	require.NoError(t, err)
	require.Len(t, notif.QueueConfigurations, 1)
	assert.Equal(t, attrs["QueueArn"], aws.ToString(notif.QueueConfigurations[0].QueueArn))

	// The topic is encrypted with its own key.
	topic, err := sns.NewFromConfig(cfg).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &topicARN})
	require.NoError(t, err)
	assert.Contains(t, topic.Attributes["KmsMasterKeyId"], ":key/")

	// The role may write derivatives only in the configured storage class.
	roleName := functionName + "-role"
	policy, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &roleName, PolicyName: aws.String("transcode")})
	require.NoError(t, err)
	doc, err := url.QueryUnescape(aws.ToString(policy.PolicyDocument))
	require.NoError(t, err)
	var parsed struct {
		Statement []struct {
			Sid       string
			Condition map[string]map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(doc), &parsed))
	found := false
	for _, s := range parsed.Statement {
		if s.Sid == "WriteDerivativesInOneStorageClass" {
			found = true
			assert.Equal(t, "REDUCED_REDUNDANCY", s.Condition["StringEqualsIfExists"]["s3:x-amz-storage-class"], "parts of a multipart upload carry no class")
		}
	}
	assert.True(t, found, "the role must have the storage-class-bound write statement: %s", doc)
}
