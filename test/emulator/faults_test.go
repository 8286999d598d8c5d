package emulator_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

// S3's SlowDown, injected into what SDKs sign: a client without retries sees it, the SDK's
// retries absorb it, and presigned URLs (browsers, the upload clients) are left alone.
func TestS3SlowDownIsAbsorbedByRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.StartT(t, emulator.Options{}) // the fault is the whole emulator's
	ns := e.NamespaceT(t)
	client, err := ns.S3Client(ctx)
	require.NoError(t, err)
	bucket := ns.ID + "-throttled"
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)

	require.NoError(t, e.SlowDownS3(ctx, 1, time.Minute))
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("refused")}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "SlowDown", apiErr.ErrorCode())

	presigned, err := s3.NewPresignClient(client).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("presigned")})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPut, presigned.URL, strings.NewReader("from a browser"))
	require.NoError(t, err)
	resp, err := e.CA().HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a presigned request is not throttled")

	require.NoError(t, e.SlowDownS3(ctx, 0.5, time.Minute))
	retrying := func(o *s3.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 10; so.MaxBackoff = 50 * time.Millisecond })
	}
	for i := range 10 {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("absorbed"), Body: bytes.NewReader([]byte{byte(i)})}, retrying)
		require.NoError(t, err, "the SDK's retries absorb a share of SlowDown")
	}
	state, err := e.S3SlowDownState(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0.5, state.Share)
	assert.Greater(t, state.Injected, 1)
	assert.Greater(t, state.Remaining, time.Duration(0))

	require.NoError(t, e.SlowDownS3(ctx, 0, 0))
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("after")}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	assert.NoError(t, err, "share 0 ends the fault")
	assert.Error(t, e.SlowDownS3(ctx, 2, time.Second), "a share above 1 is refused")
}
