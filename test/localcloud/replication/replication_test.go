package replication_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/replication"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

// S3 Replication as S3 documents it: new versions under the rule's prefix are copied into the
// destination in the rule's storage class, older objects and other prefixes are not, and a
// delete marker follows when the rule says so.
func TestNewObjectsAreReplicatedPerTheRules(t *testing.T) {
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	client, err := ns.S3Client(ctx)
	require.NoError(t, err)
	src, dst := ns.ID+"-originals", ns.ID+"-originals-replica"
	for _, b := range []string{src, dst} {
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
		require.NoError(t, err)
		_, err = client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
		require.NoError(t, err)
	}
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(ns.ID + "-replication"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	_, err = client.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String(src), ReplicationConfiguration: &s3types.ReplicationConfiguration{
		Role: role.Role.Arn,
		Rules: []s3types.ReplicationRule{{
			ID: aws.String("originals"), Status: s3types.ReplicationRuleStatusEnabled, Priority: aws.Int32(1),
			Filter:                  &s3types.ReplicationRuleFilter{Prefix: aws.String("uploads/")},
			DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusEnabled},
			Destination:             &s3types.Destination{Bucket: aws.String("arn:aws:s3:::" + dst), StorageClass: s3types.StorageClassStandardIa},
		}},
	}})
	require.NoError(t, err)
	put := func(key, body string) {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key), Body: strings.NewReader(body), ContentType: aws.String("video/mp4")})
		require.NoError(t, err)
	}
	put("uploads/before.mp4", "older than the rule's first pass")
	time.Sleep(1500 * time.Millisecond)

	r := replication.Start(replication.Options{S3: client, Interval: 200 * time.Millisecond, Logf: t.Logf,
		Include:     func(b string) bool { return strings.HasPrefix(b, ns.ID) },
		Credentials: func(arn string) aws.CredentialsProvider { return roles.Credentials(cfg, arn, "s3-replication") }})
	defer r.Stop()
	put("uploads/a/clip.mp4", "the original")
	put("elsewhere/b.mp4", "not under the rule's prefix")

	// A generous bound: the suite runs this beside deployments that load the machine.
	require.Eventually(t, func() bool { return r.Replicated() >= 1 }, time.Minute, 100*time.Millisecond)
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String("uploads/a/clip.mp4")})
	require.NoError(t, err)
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	assert.Equal(t, "the original", string(body))
	assert.Equal(t, "video/mp4", aws.ToString(got.ContentType), "metadata goes with the replica")
	assert.Equal(t, s3types.StorageClassStandardIa, got.StorageClass, "in the rule's storage class")
	for _, key := range []string{"uploads/before.mp4", "elsewhere/b.mp4"} {
		_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(key)})
		assert.Error(t, err, "%s is not replicated", key)
	}

	_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("uploads/a/clip.mp4")})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String("uploads/a/clip.mp4")})
		var notFound *s3types.NotFound
		return errors.As(err, &notFound)
	}, time.Minute, 100*time.Millisecond, "the delete marker is replicated")
	assert.Equal(t, 2, r.Replicated(), "one version and one delete marker")
}
