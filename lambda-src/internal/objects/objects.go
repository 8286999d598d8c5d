// Package objects removes S3 objects for good: every version and delete marker, so that a
// deleted media leaves nothing in a versioned bucket either.
package objects

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Client is the part of the S3 client that Purge needs.
type Client interface {
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// PurgeKey deletes every version and delete marker of exactly key (not of the keys it is a
// prefix of), and returns how many it deleted.
func PurgeKey(ctx context.Context, c Client, bucket, key string) (int, error) {
	return Purge(ctx, c, bucket, key, func(k string) bool { return k == key })
}

// Purge deletes every version and delete marker of the objects under prefix in bucket
// whose key keep does not refuse (nil keeps all), and returns how many it deleted. An
// unversioned bucket lists each object once, as version "null".
func Purge(ctx context.Context, c Client, bucket, prefix string, keep func(key string) bool) (int, error) {
	in := &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &prefix}
	deleted := 0
	for {
		page, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			return deleted, fmt.Errorf("list versions under %s/%s: %w", bucket, prefix, err)
		}
		var ids []s3types.ObjectIdentifier // at most 1000 a page, DeleteObjects' limit
		add := func(key, version *string) {
			if keep == nil || keep(aws.ToString(key)) {
				ids = append(ids, s3types.ObjectIdentifier{Key: key, VersionId: version})
			}
		}
		for _, v := range page.Versions {
			add(v.Key, v.VersionId)
		}
		for _, m := range page.DeleteMarkers {
			add(m.Key, m.VersionId)
		}
		if len(ids) > 0 {
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
			if err != nil {
				return deleted, fmt.Errorf("delete under %s/%s: %w", bucket, prefix, err)
			}
			if len(out.Errors) > 0 {
				e := out.Errors[0]
				return deleted, fmt.Errorf("delete %s/%s: %s: %s", bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
			}
			deleted += len(ids)
		}
		if !aws.ToBool(page.IsTruncated) {
			return deleted, nil
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}
