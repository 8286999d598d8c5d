package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// A message that must come back is put back for as long as it has to wait, not for the
// queue's visibility timeout (six times the function's: 90 minutes by default): a delivery
// that found the media busy returns when the holder's claim can have ended, one that failed
// for a passing reason after a backoff that grows with the attempts.
const (
	retryBackoff    = 30 * time.Second
	maxRetryBackoff = 15 * time.Minute
	maxVisibility   = 12 * time.Hour // SQS's limit
)

// delayedRetry is an error whose message should come back after After.
type delayedRetry struct {
	err   error
	after time.Duration
}

func (e *delayedRetry) Error() string { return e.err.Error() }
func (e *delayedRetry) Unwrap() error { return e.err }

func retryAfter(err error, after time.Duration) error { return &delayedRetry{err: err, after: after} }

// backoff is the wait before the transcode attempt after attempt.
func backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	return min(retryBackoff<<min(attempt-1, 10), maxRetryBackoff)
}

// RetryAfter reports how soon the message of err can succeed, when err says.
func RetryAfter(err error) (time.Duration, bool) {
	var d *delayedRetry
	if errors.As(err, &d) {
		return d.after, true
	}
	return 0, false
}

// VisibilityChanger is the part of the SQS client that puts a message back early.
type VisibilityChanger interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// putBack makes the message of receipt visible again after the wait err names, if any. On
// failure the queue's visibility timeout brings it back, later.
func putBack(ctx context.Context, log *slog.Logger, client VisibilityChanger, queueURL string, receipt *string, err error) {
	after, ok := RetryAfter(err)
	if !ok || client == nil || queueURL == "" {
		return
	}
	seconds := int32(math.Ceil(min(after, maxVisibility).Seconds()))
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if _, err := client.ChangeMessageVisibility(cctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &queueURL, ReceiptHandle: receipt, VisibilityTimeout: seconds,
	}); err != nil {
		log.Warn("put the message back early; the visibility timeout will", "error", err)
		return
	}
	log.Info("message comes back", "after_s", seconds)
}

// QueueURL is the URL of the queue of an SQS ARN (arn:aws:sqs:region:account:name), the
// form SQS documents; Lambda's events name their queue by ARN only.
func QueueURL(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[3] == "" || parts[4] == "" || parts[5] == "" {
		return "", fmt.Errorf("%q is not an SQS queue ARN", arn)
	}
	domain := "amazonaws.com"
	if parts[1] == "aws-cn" {
		domain = "amazonaws.com.cn"
	}
	return fmt.Sprintf("https://sqs.%s.%s/%s/%s", parts[3], domain, parts[4], parts[5]), nil
}
