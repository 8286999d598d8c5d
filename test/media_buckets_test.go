package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/gruntwork-io/terratest/modules/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/target/targettest"
)

// TestMediaBuckets deploys examples/media-buckets to the selected target and checks through
// the S3 API what was really created, not what Terraform reports, then destroys it and checks
// that the buckets are gone.
func TestMediaBuckets(t *testing.T) {
	t.Parallel()
	tg := targettest.New(t)
	opts := targettest.Deploy(t, tg, "examples/media-buckets", nil)

	ctx := context.Background()
	s3c := tg.S3Client()
	originals := terraform.OutputContext(t, context.Background(), opts, "originals_bucket_id")
	derivatives := terraform.OutputContext(t, context.Background(), opts, "derivatives_bucket_id")
	assert.True(t, strings.HasPrefix(originals, tg.RunID), "bucket names carry the run id")

	for _, bucket := range []string{originals, derivatives} {
		t.Run(bucket, func(t *testing.T) { assertPrivateBucket(ctx, t, s3c, bucket) })
	}

	ver, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &originals})
	require.NoError(t, err)
	assert.Equal(t, s3types.BucketVersioningStatusEnabled, ver.Status, "originals are versioned")

	lc, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &originals})
	require.NoError(t, err)
	var ruleIDs []string
	for _, r := range lc.Rules {
		ruleIDs = append(ruleIDs, aws.ToString(r.ID))
	}
	assert.ElementsMatch(t, []string{"expire-noncurrent-versions", "abort-incomplete-multipart-uploads"}, ruleIDs)

	cors, err := s3c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &originals})
	require.NoError(t, err)
	require.Len(t, cors.CORSRules, 1)
	assert.Equal(t, []string{"https://app.example.com"}, cors.CORSRules[0].AllowedOrigins)

	derivativesPolicy := bucketPolicy(ctx, t, s3c, derivatives)
	assert.True(t, derivativesPolicy.denies("s3:x-amz-storage-class", "REDUCED_REDUNDANCY"),
		"derivatives must refuse writes in any class but REDUCED_REDUNDANCY")
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &derivatives, Key: aws.String("m/720p.mp4"), Body: strings.NewReader("rendition"),
		StorageClass: s3types.StorageClassReducedRedundancy,
	})
	require.NoError(t, err, "a derivative in the configured class must be accepted")
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &derivatives, Key: aws.String("m/poster.jpg"), Body: strings.NewReader("poster"),
		StorageClass: s3types.StorageClassStandard,
	})
	assert.Equal(t, http.StatusForbidden, httpStatus(err), "a derivative in STANDARD must be refused by the bucket policy, got %v", err)

	// A rendition larger than one part goes multipart: the class is named once, by
	// CreateMultipartUpload, and the parts, which carry none, must pass.
	rendition := bytes.Repeat([]byte("rendition"), (6<<20)/9+1)
	_, err = transfermanager.New(s3c, func(o *transfermanager.Options) { o.PartSizeBytes = 5 << 20 }).UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: &derivatives, Key: aws.String("m/1080p.mp4"), Body: bytes.NewReader(rendition), StorageClass: tmtypes.StorageClassReducedRedundancy,
	})
	require.NoError(t, err, "a multipart upload in the configured class must be accepted")
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &derivatives, Key: aws.String("m/1080p.mp4")})
	require.NoError(t, err)
	assert.Equal(t, s3types.StorageClassReducedRedundancy, head.StorageClass)
	assert.Equal(t, int64(len(rendition)), aws.ToInt64(head.ContentLength))
	_, err = s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &derivatives, Key: aws.String("m/720p.mp4"), StorageClass: s3types.StorageClassStandard,
	})
	assert.Equal(t, http.StatusForbidden, httpStatus(err), "a multipart upload in STANDARD must be refused, got %v", err)

	// An object in a bucket must not stop the teardown: force_destroy is set by the harness.
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &originals, Key: aws.String("uploads/someone/clip.mp4"), Body: strings.NewReader("not a video"),
	})
	require.NoError(t, err)

	terraform.DestroyContext(t, context.Background(), opts)
	for _, bucket := range []string{originals, derivatives} {
		_, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
		var notFound *s3types.NotFound
		assert.True(t, errors.As(err, &notFound), "bucket %s must be gone after destroy, got %v", bucket, err)
	}
}

// assertPrivateBucket checks what every bucket of the stack must be: public access blocked,
// encrypted, owned by the bucket owner alone, and refusing requests without TLS.
func assertPrivateBucket(ctx context.Context, t *testing.T, s3c *s3.Client, bucket string) {
	t.Helper()
	pab, err := s3c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &bucket})
	require.NoError(t, err)
	c := pab.PublicAccessBlockConfiguration
	assert.True(t, aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.BlockPublicPolicy) &&
		aws.ToBool(c.IgnorePublicAcls) && aws.ToBool(c.RestrictPublicBuckets), "public access must be blocked")

	enc, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
	require.NoError(t, err)
	require.NotEmpty(t, enc.ServerSideEncryptionConfiguration.Rules)
	assert.Equal(t, s3types.ServerSideEncryptionAes256,
		enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)

	own, err := s3c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &bucket})
	require.NoError(t, err)
	assert.Equal(t, s3types.ObjectOwnershipBucketOwnerEnforced, own.OwnershipControls.Rules[0].ObjectOwnership)

	policy := bucketPolicy(ctx, t, s3c, bucket)
	assert.True(t, policy.denies("aws:SecureTransport", "false"), "the policy must deny requests without TLS")
}

// bucketPolicyDoc is the part of an S3 bucket policy the checks read.
type bucketPolicyDoc struct {
	Statement []struct {
		Effect    string
		Condition map[string]map[string]any
	}
}

func bucketPolicy(ctx context.Context, t *testing.T, s3c *s3.Client, bucket string) bucketPolicyDoc {
	t.Helper()
	out, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
	require.NoError(t, err)
	var doc bucketPolicyDoc
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc))
	return doc
}

// denies reports whether a Deny statement has a condition on key with the given value.
func (d bucketPolicyDoc) denies(key, value string) bool {
	for _, s := range d.Statement {
		if s.Effect != "Deny" {
			continue
		}
		for _, cond := range s.Condition {
			switch v := cond[key].(type) {
			case string:
				if v == value {
					return true
				}
			case []any:
				for _, x := range v {
					if x == value {
						return true
					}
				}
			}
		}
	}
	return false
}

// httpStatus is the HTTP status of a failed AWS call, 0 when err has none.
func httpStatus(err error) int {
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode()
	}
	return 0
}
