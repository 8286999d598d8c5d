package localcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// LoseObject does what S3 does when it loses an object stored in the Reduced Redundancy
// class, which the emulator never does: the object is gone, and the bucket's notification
// configurations for s3:ReducedRedundancyLostObject (queues; the stack configures no other
// destination for it) receive the event, in S3's event message structure.
func (c *Cloud) LoseObject(ctx context.Context, region, bucket, key string) error {
	cfg := c.regionConfig(region)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return fmt.Errorf("lose %s/%s: %w", bucket, key, err)
	}
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		return fmt.Errorf("lose %s/%s: %w", bucket, key, err)
	}
	notifications, err := s3c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: &bucket})
	if err != nil {
		return fmt.Errorf("notify the loss of %s/%s: %w", bucket, key, err)
	}
	var errs []error
	for _, q := range notifications.QueueConfigurations {
		if !notifies(q.Events, q.Filter, key) {
			continue
		}
		body, err := lostObjectEvent(region, bucket, key, aws.ToString(q.Id), head)
		if err != nil {
			return err
		}
		arn := aws.ToString(q.QueueArn)
		parts := strings.Split(arn, ":") // arn:aws:sqs:<region>:<account>:<name>
		if len(parts) != 6 {
			return fmt.Errorf("notify the loss of %s/%s: %q is no queue ARN", bucket, key, arn)
		}
		qc := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.Region = parts[3] })
		queue, err := qc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5]), QueueOwnerAWSAccountId: aws.String(parts[4])})
		if err == nil {
			_, err = qc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: queue.QueueUrl, MessageBody: &body})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notify %s of the loss of %s/%s: %w", arn, bucket, key, err))
		}
	}
	return errors.Join(errs...)
}

// notifies says whether a notification configuration takes the loss of key.
func notifies(events []s3types.Event, filter *s3types.NotificationConfigurationFilter, key string) bool {
	if !slices.Contains(events, "s3:ReducedRedundancyLostObject") && !slices.Contains(events, "s3:*") {
		return false
	}
	if filter == nil || filter.Key == nil {
		return true
	}
	for _, r := range filter.Key.FilterRules {
		v := aws.ToString(r.Value)
		switch strings.ToLower(string(r.Name)) {
		case "prefix":
			if !strings.HasPrefix(key, v) {
				return false
			}
		case "suffix":
			if !strings.HasSuffix(key, v) {
				return false
			}
		}
	}
	return true
}

// lostObjectEvent is S3's event message of a lost object (keys URL-encoded, as S3 sends them).
func lostObjectEvent(region, bucket, key, configurationID string, head *s3.HeadObjectOutput) (string, error) {
	record := map[string]any{
		"eventVersion": "2.1",
		"eventSource":  "aws:s3",
		"awsRegion":    region,
		"eventTime":    time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventName":    "ReducedRedundancyLostObject",
		"s3": map[string]any{
			"s3SchemaVersion": "1.0",
			"configurationId": configurationID,
			"bucket":          map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{
				"key":  strings.ReplaceAll(url.QueryEscape(key), "%2F", "/"),
				"size": aws.ToInt64(head.ContentLength),
				"eTag": strings.Trim(aws.ToString(head.ETag), `"`),
			},
		},
	}
	data, err := json.Marshal(map[string]any{"Records": []any{record}})
	return string(data), err
}
