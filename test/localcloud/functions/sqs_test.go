package functions

import (
	"context"
	"crypto/md5" //nolint:gosec // SQS's MD5OfBody is MD5 by its API
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const settle = 10 * time.Second // bound on waiting for the poller to act

// TestSQSMessageConsumedOnce: a message is delivered in Lambda's event shape, deleted after
// the function succeeds, and not delivered again.
func TestSQSMessageConsumedOnce(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 1, Mapping: &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(10)}})
	_, err := sqs.NewFromConfig(d.cfg).SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:    &d.queueURL,
		MessageBody: aws.String("ok"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("upload")},
		},
	})
	require.NoError(t, err)
	_, rec, m := d.poll(t)

	require.Eventually(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) == 1 && batches[0].Deleted == 1
	}, settle, 50*time.Millisecond, "the message is processed and deleted")
	visible, inFlight := d.counts(t, d.queueURL)
	assert.Equal(t, [2]int{0, 0}, [2]int{visible, inFlight}, "the queue is empty")
	// Past the visibility timeout a message that was not deleted would come back.
	assert.Never(t, func() bool {
		calls, _, _ := rec.snapshot()
		return len(calls) > 1
	}, 2*m.VisibilityTimeout, 100*time.Millisecond, "consumed once")

	calls, _, _ := rec.snapshot()
	require.Len(t, calls, 1)
	require.NoError(t, calls[0].err)
	var raw struct {
		Records []map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(calls[0].raw, &raw))
	require.Len(t, raw.Records, 1)
	keys := []string{}
	for k := range raw.Records[0] {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
		"md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"}, keys, "Lambda's record fields")
	r := calls[0].event.Records[0]
	sum := md5.Sum([]byte("ok")) //nolint:gosec // SQS's MD5OfBody is MD5 by its API
	assert.Equal(t, hex.EncodeToString(sum[:]), r.Md5OfBody)
	assert.Equal(t, "aws:sqs", r.EventSource)
	assert.Equal(t, d.queueARN, r.EventSourceARN)
	assert.Equal(t, d.ns.Region, r.AWSRegion)
	assert.Equal(t, "1", r.Attributes["ApproximateReceiveCount"])
	for _, a := range []string{"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
		assert.NotEmpty(t, r.Attributes[a], a)
	}
	assert.Equal(t, "upload", aws.ToString(r.MessageAttributes["kind"].StringValue))
	assert.Equal(t, "String", r.MessageAttributes["kind"].DataType)
	var attrs map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw.Records[0]["messageAttributes"], &attrs))
	assert.JSONEq(t, `{"stringValue":"upload","stringListValues":[],"binaryListValues":[],"dataType":"String"}`, string(attrs["kind"]),
		"Lambda's attribute shape: empty lists, not null")
}

// TestSQSPartialBatchFailures: with ReportBatchItemFailures only the reported messages stay;
// a report naming no message of the batch fails the whole batch.
func TestSQSPartialBatchFailures(t *testing.T) {
	t.Parallel()
	t.Run("reported items stay", func(t *testing.T) {
		t.Parallel()
		d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 30, Mapping: &lambda.CreateEventSourceMappingInput{
			BatchSize: aws.Int32(10), FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
		}})
		ids := d.send(t, "ok", "fail", "ok", "fail", "ok")
		_, rec, _ := d.poll(t)
		require.Eventually(t, func() bool {
			_, batches, _ := rec.snapshot()
			return len(batches) == 1
		}, settle, 50*time.Millisecond)
		_, batches, _ := rec.snapshot()
		b := batches[0]
		require.NoError(t, b.Err)
		assert.ElementsMatch(t, ids, b.MessageIDs, "one batch of all five")
		assert.ElementsMatch(t, []string{ids[1], ids[3]}, b.Failed)
		assert.Equal(t, 3, b.Deleted)
		visible, inFlight := d.counts(t, d.queueURL)
		assert.Equal(t, 0, visible)
		assert.Equal(t, 2, inFlight, "exactly the failed ones remain, invisible until the timeout")
	})
	t.Run("invalid item identifier fails the batch", func(t *testing.T) {
		t.Parallel()
		d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 30, Mapping: &lambda.CreateEventSourceMappingInput{
			BatchSize: aws.Int32(10), FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
		}})
		d.send(t, "ok", "badid", "ok")
		_, rec, _ := d.poll(t)
		require.Eventually(t, func() bool {
			_, batches, _ := rec.snapshot()
			return len(batches) == 1
		}, settle, 50*time.Millisecond)
		_, batches, _ := rec.snapshot()
		assert.Len(t, batches[0].MessageIDs, 3)
		assert.ErrorContains(t, batches[0].Err, "invalid partial batch response")
		assert.Zero(t, batches[0].Deleted)
		_, inFlight := d.counts(t, d.queueURL)
		assert.Equal(t, 3, inFlight, "nothing deleted")
	})
}

// TestSQSRedriveToDLQ: a failing message is received maxReceiveCount times, then SQS moves
// it to the DLQ, not before.
func TestSQSRedriveToDLQ(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 1, MaxReceiveCount: 2, Mapping: &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(1)}})
	ids := d.send(t, "error")
	_, rec, _ := d.poll(t)

	waitCalls := func(n int) {
		require.Eventually(t, func() bool {
			calls, _, _ := rec.snapshot()
			return len(calls) >= n
		}, settle, 20*time.Millisecond)
	}
	waitCalls(1)
	dlqVisible, _ := d.counts(t, d.dlqURL)
	assert.Zero(t, dlqVisible, "not in the DLQ after the first failure")
	waitCalls(2)
	dlqVisible, _ = d.counts(t, d.dlqURL)
	assert.Zero(t, dlqVisible, "not in the DLQ after the second failure")

	require.Eventually(t, func() bool {
		v, _ := d.counts(t, d.dlqURL)
		return v == 1
	}, settle, 100*time.Millisecond, "in the DLQ after maxReceiveCount receives")
	calls, _, _ := rec.snapshot()
	require.Len(t, calls, 2, "invoked exactly maxReceiveCount times")
	for i, c := range calls {
		assert.Equal(t, "errorString", functionError(t, c.err).Type)
		assert.Equal(t, ids[0], c.event.Records[0].MessageId)
		assert.Equal(t, []string{"1", "2"}[i], c.event.Records[0].Attributes["ApproximateReceiveCount"])
	}
	visible, inFlight := d.counts(t, d.queueURL)
	assert.Equal(t, [2]int{0, 0}, [2]int{visible, inFlight})
	out, err := sqs.NewFromConfig(d.cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &d.dlqURL})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	assert.Equal(t, ids[0], aws.ToString(out.Messages[0].MessageId))
}

// TestSQSTimeoutRetried: an invocation past the function's timeout is killed, its message
// comes back after the visibility timeout and succeeds on a fresh environment.
func TestSQSTimeoutRetried(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 1, MaxReceiveCount: 3, Mapping: &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(1)}})
	d.send(t, "slowfirst:30")
	fn, rec, _ := d.poll(t)

	require.Eventually(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) == 2
	}, settle, 50*time.Millisecond)
	calls, batches, _ := rec.snapshot()
	assert.Equal(t, "Sandbox.Timedout", functionError(t, batches[0].Err).Type)
	assert.Zero(t, batches[0].Deleted)
	assert.NoError(t, batches[1].Err)
	assert.Equal(t, 1, batches[1].Deleted)
	assert.Equal(t, "2", calls[1].event.Records[0].Attributes["ApproximateReceiveCount"])
	assert.Equal(t, 1, fn.Environments(), "the killed environment was replaced, not kept")
	visible, inFlight := d.counts(t, d.queueURL)
	assert.Equal(t, [2]int{0, 0}, [2]int{visible, inFlight})
	dlqVisible, _ := d.counts(t, d.dlqURL)
	assert.Zero(t, dlqVisible)
}

// TestSQSMaximumConcurrency: ScalingConfig.MaximumConcurrency caps concurrent invocations
// even when the function could run more.
func TestSQSMaximumConcurrency(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 5, VisibilityTimeout: 30, Mapping: &lambda.CreateEventSourceMappingInput{
		BatchSize: aws.Int32(1), ScalingConfig: &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(2)},
	}})
	d.send(t, slices.Repeat([]string{"sleep:0.5"}, 6)...)
	fn, rec, m := d.poll(t)
	assert.Equal(t, 2, m.MaximumConcurrency)
	assert.Equal(t, DefaultConcurrency, fn.Spec().MaxConcurrency, "the function alone would allow more")

	require.Eventually(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) == 6
	}, settle, 50*time.Millisecond)
	_, batches, maxInFlight := rec.snapshot()
	assert.Equal(t, 2, maxInFlight, "two at once: parallel, and no more than the cap")
	for _, b := range batches {
		assert.NoError(t, b.Err)
		assert.Equal(t, 1, b.Deleted)
	}
	visible, inFlight := d.counts(t, d.queueURL)
	assert.Equal(t, [2]int{0, 0}, [2]int{visible, inFlight})
}

// TestSQSDisabledMapping: a disabled mapping is not polled.
func TestSQSDisabledMapping(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 1, Mapping: &lambda.CreateEventSourceMappingInput{Enabled: aws.Bool(false)}})
	d.send(t, "ok")
	_, rec, m := d.poll(t)
	assert.False(t, m.Enabled)
	assert.Never(t, func() bool {
		_, inFlight := d.counts(t, d.queueURL)
		calls, _, _ := rec.snapshot()
		return inFlight > 0 || len(calls) > 0
	}, 1500*time.Millisecond, 100*time.Millisecond, "nothing receives the message")
	out, err := sqs.NewFromConfig(d.cfg).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &d.queueURL, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	assert.Equal(t, "1", out.Messages[0].Attributes["ApproximateReceiveCount"], "this is its first receive")
}

// TestLoadMappingsVisibilityTimeout: like Lambda, a queue whose visibility timeout is shorter
// than the function's timeout is refused.
func TestLoadMappingsVisibilityTimeout(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 3, VisibilityTimeout: 2, Mapping: &lambda.CreateEventSourceMappingInput{}})
	_, m := testFunction(t)
	spec, err := Load(context.Background(), d.cfg, d.name, m)
	require.NoError(t, err)
	_, err = LoadMappings(context.Background(), d.cfg, spec)
	assert.ErrorContains(t, err, "Queue visibility timeout: 2 seconds is less than Function timeout: 3 seconds")
}

// TestSQSBatchingWindow: messages arriving within MaximumBatchingWindowInSeconds of the
// first one go into the same invocation.
func TestSQSBatchingWindow(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 30, Mapping: &lambda.CreateEventSourceMappingInput{
		BatchSize: aws.Int32(10), MaximumBatchingWindowInSeconds: aws.Int32(2), ScalingConfig: &lambdatypes.ScalingConfig{MaximumConcurrency: aws.Int32(2)},
	}})
	_, rec, m := d.poll(t)
	assert.Equal(t, 2*time.Second, m.BatchingWindow)
	first := d.send(t, "ok")
	time.Sleep(500 * time.Millisecond) // the second message must arrive inside the window
	second := d.send(t, "ok", "ok")
	require.Eventually(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) > 0
	}, settle, 50*time.Millisecond)
	_, batches, _ := rec.snapshot()
	assert.ElementsMatch(t, append(first, second...), batches[0].MessageIDs, "one invocation for all three")
	assert.Equal(t, 3, batches[0].Deleted)
}

// TestPollerStop: Stop lets a batch in flight finish; when its context ends first, the
// invocation is cancelled, its environment killed and the message left for redelivery.
func TestPollerStop(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 20, VisibilityTimeout: 30, Mapping: &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(1)}})
	d.send(t, "sleep:30")
	fn := d.load(t)
	spec := fn.Spec()
	mappings, err := LoadMappings(context.Background(), d.cfg, &spec)
	require.NoError(t, err)
	rec := &recorder{fn: fn}
	p := StartPoller(mappings[0], sqs.NewFromConfig(spec.RoleConfig(d.cfg)), rec, PollerOptions{Logf: t.Logf, OnBatch: rec.onBatch})
	require.Eventually(t, func() bool {
		_, _, inFlight := rec.snapshot()
		return inFlight == 1 && fn.Environments() == 1
	}, settle, 20*time.Millisecond, "the invocation runs")

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	assert.ErrorIs(t, p.Stop(ctx), context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
	_, batches, _ := rec.snapshot()
	require.Len(t, batches, 1)
	assert.ErrorIs(t, batches[0].Err, context.Canceled)
	assert.Zero(t, batches[0].Deleted)
	assert.Equal(t, 0, fn.Environments(), "the environment was killed")
	_, inFlight := d.counts(t, d.queueURL)
	assert.Equal(t, 1, inFlight, "the message waits for its visibility timeout")
}

// TestSQSDuplicateDeliveries: while duplicating, a batch goes to two invocations at once, as
// SQS's at-least-once delivery may do; both deletions succeed and the queue is empty after.
func TestSQSDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	d := deploy(t, deployOptions{Timeout: 1, VisibilityTimeout: 1, Mapping: &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(10)}})
	_, rec, _ := d.poll(t)
	d.poller.DuplicateFor(time.Minute)
	ids := d.send(t, "ok")
	require.Eventually(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) == 2
	}, settle, 50*time.Millisecond, "the message is delivered twice")
	_, batches, _ := rec.snapshot()
	for _, b := range batches {
		assert.Equal(t, ids, b.MessageIDs)
		assert.NoError(t, b.Err)
		assert.Equal(t, 1, b.Deleted, "each delivery deletes it, the second gracefully")
	}
	visible, inFlight := d.counts(t, d.queueURL)
	assert.Equal(t, [2]int{0, 0}, [2]int{visible, inFlight}, "the queue is empty")

	d.poller.DuplicateFor(0)
	d.send(t, "ok")
	require.Eventually(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) == 3
	}, settle, 50*time.Millisecond)
	assert.Never(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) > 3
	}, time.Second, 50*time.Millisecond, "delivered once when the fault is over")
}
