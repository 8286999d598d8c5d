package emulator_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

// A presigned PUT is held to what was signed, as S3 holds it: the signed Content-Length and
// Content-Type, the signature itself, and the expiry; with IAM enforcement off, too.
func TestPresignedPutsAreHeldToWhatWasSigned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := emulator.Shared(t)
	ns := e.NamespaceT(t)
	client, err := ns.S3Client(ctx)
	require.NoError(t, err)
	bucket := ns.ID + "-presigned"
	_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)
	presigner := s3.NewPresignClient(client)
	body := "twelve bytes"
	presign := func(t *testing.T, key string, expires time.Duration) string {
		req, err := presigner.PresignPutObject(ctx, &s3.PutObjectInput{
			Bucket: &bucket, Key: &key, ContentType: aws.String("video/mp4"), ContentLength: aws.Int64(int64(len(body))),
		}, s3.WithPresignExpires(expires))
		require.NoError(t, err)
		return req.URL
	}
	put := func(t *testing.T, url, contentType, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		resp, err := e.CA().HTTPClient().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}

	url := presign(t, "clip.mp4", time.Hour)
	code, answer := put(t, url, "video/mp4", "a much longer body than was signed")
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, answer, "SignatureDoesNotMatch", "a body of another size")
	code, answer = put(t, url, "text/html", body)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, answer, "SignatureDoesNotMatch", "another content type")
	code, answer = put(t, strings.Replace(url, "clip.mp4", "other.mp4", 1), "video/mp4", body)
	assert.Equal(t, http.StatusForbidden, code, "another key: %s", answer)
	_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("clip.mp4")})
	assert.Error(t, err, "nothing refused was stored")

	code, answer = put(t, url, "video/mp4", body)
	require.Equal(t, http.StatusOK, code, "what was signed: %s", answer)
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("clip.mp4")})
	require.NoError(t, err)
	assert.Equal(t, "video/mp4", aws.ToString(head.ContentType))

	expired := presign(t, "late.mp4", time.Second)
	time.Sleep(2 * time.Second)
	code, answer = put(t, expired, "video/mp4", body)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, answer, "Request has expired")
}
