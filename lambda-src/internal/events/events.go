// Package events holds the messages that cross the stack: the S3 notifications that reach
// the transcode queue, the object keys they carry, and the media events on the SNS topic.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/uuid"
)

// Upload is an object that S3 reported as created (an original), or as lost.
type Upload struct {
	Bucket    string
	Key       string
	SizeBytes int64
	// Lost: S3 reports the object lost from Reduced Redundancy storage
	// (s3:ReducedRedundancyLostObject) rather than created.
	Lost bool
}

// ParseS3Notification reads an SQS message body carrying an S3 event notification. The
// s3:TestEvent that S3 sends when notifications are configured yields no uploads and no
// error; so does an event of another kind than ObjectCreated and ReducedRedundancyLostObject. Anything that is not an S3
// notification is an error: such a message can never be processed.
func ParseS3Notification(body string) ([]Upload, error) {
	// Only the fields used: the Lambda library's S3Event parses eventTime strictly, and
	// emulators write it without a zone.
	var ev struct {
		Event   string `json:"Event"`
		Records []struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			S3          struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key  string `json:"key"`
					Size int64  `json:"size"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		return nil, fmt.Errorf("not an S3 notification: %w", err)
	}
	if ev.Event == "s3:TestEvent" {
		return nil, nil
	}
	if ev.Records == nil {
		return nil, errors.New("not an S3 notification: no Records")
	}
	var uploads []Upload
	for _, r := range ev.Records {
		lost := r.EventName == "ReducedRedundancyLostObject"
		if r.EventSource != "aws:s3" || (!lost && !strings.HasPrefix(r.EventName, "ObjectCreated:")) {
			continue
		}
		// Keys arrive form-encoded: "+" for a space, %XX for the rest.
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return nil, fmt.Errorf("S3 notification: key %q: %w", r.S3.Object.Key, err)
		}
		uploads = append(uploads, Upload{Bucket: r.S3.Bucket.Name, Key: key, SizeBytes: r.S3.Object.Size, Lost: lost})
	}
	return uploads, nil
}

// OriginalKey is the key of an original in the originals bucket.
func OriginalKey(owner, mediaID string) string {
	return "uploads/" + owner + "/" + mediaID + "/original"
}

// ParseOriginalKey splits "uploads/<owner>/<media_id>/original".
func ParseOriginalKey(key string) (owner, mediaID string, err error) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] != "uploads" || parts[3] != "original" || parts[1] == "" {
		return "", "", fmt.Errorf("key %q is not uploads/<owner>/<media_id>/original", key)
	}
	if _, err := uuid.Parse(parts[2]); err != nil {
		return "", "", fmt.Errorf("key %q: media id is not a UUID", key)
	}
	return parts[1], parts[2], nil
}

// Media event statuses.
const (
	StatusReady   = "ready"
	StatusFailed  = "failed"
	StatusDeleted = "deleted" // by its owner, through the upload API
)

// Publisher is the part of the SNS client that publishes media events.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Publish publishes ev on the media topic, its status also as the "status" message
// attribute, so that subscribers filter on it without parsing the body.
func Publish(ctx context.Context, p Publisher, topicARN string, ev MediaEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = p.Publish(ctx, &sns.PublishInput{
		TopicArn: &topicARN,
		Message:  aws.String(string(body)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"status": {DataType: aws.String("String"), StringValue: aws.String(ev.Status)},
		},
	})
	return err
}

// MediaEvent is published on the media topic when a media item becomes ready, fails or is
// deleted.
type MediaEvent struct {
	MediaID    string      `json:"media_id"`
	Owner      string      `json:"owner"`
	Status     string      `json:"status"`
	Error      string      `json:"error,omitempty"`
	HLSURL     string      `json:"hls_url,omitempty"`
	DASHURL    string      `json:"dash_url,omitempty"`
	PosterURL  string      `json:"poster_url,omitempty"`
	Renditions []Rendition `json:"renditions,omitempty"`
	// ThumbnailsURL is the WebVTT track of the scrubbing thumbnails.
	ThumbnailsURL string `json:"thumbnails_url,omitempty"`
}

// Rendition is an MP4 in a MediaEvent.
type Rendition struct {
	Height int    `json:"height"`
	Width  int    `json:"width"`
	URL    string `json:"url"`
	Bytes  int64  `json:"bytes"`
}
