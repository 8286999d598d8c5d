// Package cdn is what the programs ask of the media's CloudFront distribution.
package cdn

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// Invalidator is the part of the CloudFront client that invalidates.
type Invalidator interface {
	CreateInvalidation(ctx context.Context, in *cloudfront.CreateInvalidationInput, optFns ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error)
}

// MediaPath is the invalidation path of every file of a media.
func MediaPath(mediaID string) string { return "/" + mediaID + "/*" }

// InvalidateMedia drops every file of a media from the distribution's caches. ref makes the
// request unique (CloudFront takes a repeated reference for the same request): one per
// deletion request, per re-derivation.
func InvalidateMedia(ctx context.Context, c Invalidator, distributionID, mediaID, ref string) error {
	_, err := c.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: &distributionID,
		InvalidationBatch: &cftypes.InvalidationBatch{
			CallerReference: aws.String(mediaID + "-" + ref),
			Paths:           &cftypes.Paths{Quantity: aws.Int32(1), Items: []string{MediaPath(mediaID)}},
		},
	})
	if err != nil {
		return fmt.Errorf("invalidate %s on distribution %s: %w", MediaPath(mediaID), distributionID, err)
	}
	return nil
}
