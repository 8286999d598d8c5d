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
// for a passing reason after a backoff that grows with the attempts. Never sooner than a
// backoff that grows with the message's receives: a duplicate of a long job, whose holder
// keeps renewing its claim, must not spend the queue's maxReceiveCount (5 by default) and
// land in the DLQ while the job is still running (receives 30 s, 1, 2, 4 and 8 minutes apart
// outlast Lambda's 15-minute limit).
const (
	DefaultRetryBackoff = 30 * time.Second
	maxRetryBackoff     = 15 * time.Minute
	maxVisibility       = 12 * time.Hour // SQS's limit
)

// delayedRetry is an error whose message should come back after a while.
type delayedRetry struct {
	err   error
	after time.Duration
}

func (e *delayedRetry) Error() string { return e.err.Error() }
func (e *delayedRetry) Unwrap() error { return e.err }

func retryAfter(err error, after time.Duration) error { return &delayedRetry{err: err, after: after} }

// backoff is the wait after the n-th attempt or receive: base, doubling, at most 15 minutes.
func backoff(base time.Duration, n int) time.Duration {
	if base <= 0 {
		base = DefaultRetryBackoff
	}
	return min(base<<min(max(n, 1)-1, 10), maxRetryBackoff)
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
func putBack(ctx context.Context, log *slog.Logger, client VisibilityChanger, queueURL string, receipt *string, base time.Duration, receives int, err error) {
	after, ok := RetryAfter(err)
	if !ok || client == nil || queueURL == "" {
		return
	}
	after = max(after, backoff(base, receives))
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
