package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const (
	// DefaultPollers is how many batches a mapping without MaximumConcurrency processes at
	// once: Lambda starts with five concurrent batches.
	DefaultPollers = 5
	// idleWait is the long poll of an empty queue; short, so that Stop never waits long for
	// a receive in flight (cancelling one could lose a message's receive to nobody).
	idleWait = 1
	// maxBackoff bounds the wait after a failed receive.
	maxBackoff = 5 * time.Second
)

// Mapping is an SQS event source mapping as Lambda's poller uses it.
type Mapping struct {
	UUID                    string
	FunctionARN             string
	QueueARN                string
	QueueURL                string
	Region                  string
	Enabled                 bool // State is not Disabled or Disabling
	BatchSize               int
	BatchingWindow          time.Duration
	ReportBatchItemFailures bool
	MaximumConcurrency      int // ScalingConfig.MaximumConcurrency; 0: not set
	VisibilityTimeout       time.Duration
}

// LoadMappings returns the SQS event source mappings of fn, read through the Lambda and SQS
// APIs of cfg, with each queue's URL and visibility timeout. Like Lambda, it refuses a queue
// whose visibility timeout is shorter than the function's timeout.
func LoadMappings(ctx context.Context, cfg aws.Config, fn *Spec) ([]Mapping, error) {
	// moto's FunctionName filter compares with the name the mapping was created with (often an
	// ARN), so list all and match the function's ARN here.
	var configs []lambdatypes.EventSourceMappingConfiguration
	pages := lambda.NewListEventSourceMappingsPaginator(lambda.NewFromConfig(cfg), &lambda.ListEventSourceMappingsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list event source mappings: %w", err)
		}
		configs = append(configs, page.EventSourceMappings...)
	}
	sqsClient := sqs.NewFromConfig(cfg)
	var mappings []Mapping
	for _, c := range configs {
		fnARN := aws.ToString(c.FunctionArn)
		if fnARN != fn.ARN && !strings.HasPrefix(fnARN, fn.ARN+":") {
			continue
		}
		queueARN, err := arn.Parse(aws.ToString(c.EventSourceArn))
		if err != nil || queueARN.Service != "sqs" {
			continue
		}
		if c.FilterCriteria != nil && len(c.FilterCriteria.Filters) > 0 {
			// Lambda deletes messages that match no filter; running without them would diverge.
			return nil, fmt.Errorf("event source mapping %s has filter criteria, which the local cloud does not evaluate", aws.ToString(c.UUID))
		}
		m := Mapping{
			UUID:           aws.ToString(c.UUID),
			FunctionARN:    fnARN,
			QueueARN:       queueARN.String(),
			Region:         queueARN.Region,
			Enabled:        state(c.State),
			BatchSize:      int(aws.ToInt32(c.BatchSize)),
			BatchingWindow: time.Duration(aws.ToInt32(c.MaximumBatchingWindowInSeconds)) * time.Second,
		}
		if m.BatchSize <= 0 {
			m.BatchSize = 10 // Lambda's default for SQS
		}
		for _, t := range c.FunctionResponseTypes {
			if t == lambdatypes.FunctionResponseTypeReportBatchItemFailures {
				m.ReportBatchItemFailures = true
			}
		}
		if c.ScalingConfig != nil {
			m.MaximumConcurrency = int(aws.ToInt32(c.ScalingConfig.MaximumConcurrency))
		}
		url, err := sqsClient.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &queueARN.Resource, QueueOwnerAWSAccountId: &queueARN.AccountID})
		if err != nil {
			return nil, fmt.Errorf("event source mapping %s: queue %s: %w", m.UUID, m.QueueARN, err)
		}
		m.QueueURL = aws.ToString(url.QueueUrl)
		attrs, err := sqsClient.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       &m.QueueURL,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout},
		})
		if err != nil {
			return nil, fmt.Errorf("event source mapping %s: queue attributes: %w", m.UUID, err)
		}
		vt, _ := strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
		m.VisibilityTimeout = time.Duration(vt) * time.Second
		if m.VisibilityTimeout < fn.Timeout {
			return nil, fmt.Errorf("event source mapping %s: Queue visibility timeout: %d seconds is less than Function timeout: %d seconds", m.UUID, vt, int(fn.Timeout.Seconds()))
		}
		mappings = append(mappings, m)
	}
	return mappings, nil
}

func state(s *string) bool {
	switch aws.ToString(s) {
	case "Disabled", "Disabling", "Deleting":
		return false
	}
	return true
}

// Invoker runs a function; *Function is one.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Batch reports one processed batch, for logs and live views.
type Batch struct {
	MessageIDs []string
	Err        error    // the invocation's error: nothing was deleted
	Failed     []string // message ids reported in batchItemFailures, left in the queue
	Deleted    int
	Duration   time.Duration
}

// PollerOptions are optional.
type PollerOptions struct {
	Logf    func(format string, args ...any) // log.Printf when nil
	OnBatch func(Batch)                      // called after each batch, from the poller's goroutines
}

// Poller consumes one mapping's queue with Lambda's semantics: batches of up to BatchSize
// gathered within the batching window, received with the queue's visibility timeout;
// after a successful invoke the batch is deleted, except the items the function reported
// with ReportBatchItemFailures; after a failed one nothing is, so that the messages
// reappear after the visibility timeout and SQS redrives them after maxReceiveCount.
type Poller struct {
	m        Mapping
	sqs      *sqs.Client
	fn       Invoker
	opts     PollerOptions
	stopping chan struct{}
	force    context.Context // cancelled when Stop gives up draining
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
	// duplicateUntil, while in the future, delivers every batch twice (see DuplicateFor).
	duplicateUntil atomic.Int64 // unix nanoseconds
}

// DuplicateFor delivers every batch received in the next d twice, to two invocations at
// once, as SQS's at-least-once delivery may hand one message to two consumers: the
// function must act on each message once whatever its deliveries.
func (p *Poller) DuplicateFor(d time.Duration) {
	p.duplicateUntil.Store(time.Now().Add(d).UnixNano())
}

// QueueARN is the queue the poller consumes.
func (p *Poller) QueueARN() string { return p.m.QueueARN }

// StartPoller starts polling m's queue with client (which should act as the function's
// execution role, see Spec.RoleConfig) and invoking fn. A disabled mapping gets a poller that
// polls nothing. Stop ends it.
func StartPoller(m Mapping, client *sqs.Client, fn Invoker, opts PollerOptions) *Poller {
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	p := &Poller{m: m, sqs: client, fn: fn, opts: opts, stopping: make(chan struct{})}
	p.force, p.cancel = context.WithCancel(context.Background())
	if !m.Enabled {
		return p
	}
	concurrency := m.MaximumConcurrency
	if concurrency <= 0 {
		concurrency = DefaultPollers
	}
	p.wg.Go(func() { p.run(concurrency) })
	return p
}

// Stop stops receiving, lets batches in flight finish, and returns. When ctx ends first, their
// invocations are cancelled (their environments killed; the messages reappear later).
func (p *Poller) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { close(p.stopping) })
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	defer p.cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.cancel()
		<-done
		return fmt.Errorf("stop poller of %s: %w", p.m.QueueARN, ctx.Err())
	}
}

func (p *Poller) stopped() bool {
	select {
	case <-p.stopping:
		return true
	default:
		return false
	}
}

// run receives batches while fewer than its concurrency are in flight, and processes each
// in a goroutine of its own. One receiver per mapping, so that a batching window gathers
// every message that arrives in it, and no message waits invisible for a free invoke.
func (p *Poller) run(concurrency int) {
	slots := make(chan struct{}, concurrency)
	backoff := 100 * time.Millisecond
	for {
		select {
		case slots <- struct{}{}:
		case <-p.stopping:
			return
		}
		if p.stopped() {
			return
		}
		batch, err := p.collect()
		if err != nil {
			if p.force.Err() != nil {
				return
			}
			p.opts.Logf("lambda poller %s: receive: %v", p.m.QueueARN, err)
			select {
			case <-p.stopping:
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
		} else {
			backoff = 100 * time.Millisecond
		}
		if len(batch) == 0 {
			<-slots
			continue
		}
		// What was received before an error is processed like any batch.
		p.wg.Go(func() {
			defer func() { <-slots }()
			if time.Now().UnixNano() < p.duplicateUntil.Load() {
				p.wg.Go(func() { p.process(batch) })
			}
			p.process(batch)
		})
	}
}

// collect receives up to BatchSize messages: it waits for a first one, then, within the
// batching window that starts with it, for more, as Lambda's poller does.
func (p *Poller) collect() ([]sqstypes.Message, error) {
	var batch []sqstypes.Message
	var windowEnd time.Time
	for len(batch) < p.m.BatchSize && !p.stopped() {
		// Waits of at most idleWait, also within a batching window (whole seconds, SQS's
		// granularity and the window's), so that Stop is never kept waiting long.
		if len(batch) > 0 && time.Until(windowEnd) <= 0 {
			break
		}
		out, err := p.sqs.ReceiveMessage(p.force, &sqs.ReceiveMessageInput{
			QueueUrl:                    &p.m.QueueURL,
			MaxNumberOfMessages:         int32(min(10, p.m.BatchSize-len(batch))), //nolint:gosec // at most 10
			WaitTimeSeconds:             idleWait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return batch, err
		}
		if len(batch) == 0 && len(out.Messages) > 0 {
			windowEnd = time.Now().Add(p.m.BatchingWindow)
		}
		batch = append(batch, out.Messages...)
		if len(batch) > 0 && p.m.BatchingWindow == 0 {
			break
		}
	}
	return batch, nil
}

// process invokes the function with one batch and deletes what succeeded.
func (p *Poller) process(msgs []sqstypes.Message) {
	start := time.Now()
	report := Batch{}
	ids := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		report.MessageIDs = append(report.MessageIDs, aws.ToString(m.MessageId))
		ids[aws.ToString(m.MessageId)] = true
	}
	defer func() {
		report.Duration = time.Since(start)
		if p.opts.OnBatch != nil {
			p.opts.OnBatch(report)
		}
	}()

	payload, err := json.Marshal(p.event(msgs))
	if err != nil {
		report.Err = err
		return
	}
	resp, err := p.fn.Invoke(p.force, payload)
	if err != nil {
		report.Err = err
		p.opts.Logf("lambda poller %s: batch of %d failed, left for redelivery: %v", p.m.QueueARN, len(msgs), err)
		return
	}
	failed := map[string]bool{}
	if p.m.ReportBatchItemFailures {
		f, err := batchItemFailures(resp, ids)
		if err != nil {
			report.Err = err
			p.opts.Logf("lambda poller %s: batch of %d failed, left for redelivery: %v", p.m.QueueARN, len(msgs), err)
			return
		}
		failed = f
	}
	var receipts []*string
	for _, m := range msgs {
		if failed[aws.ToString(m.MessageId)] {
			report.Failed = append(report.Failed, aws.ToString(m.MessageId))
			continue
		}
		receipts = append(receipts, m.ReceiptHandle)
	}
	report.Deleted = p.delete(receipts)
}

// batchItemFailures reads a partial batch response as Lambda does: an empty or null
// response or list is complete success; invalid JSON, or an item whose itemIdentifier is
// missing, empty or not a message of the batch, fails the whole batch.
func batchItemFailures(resp []byte, ids map[string]bool) (map[string]bool, error) {
	failed := map[string]bool{}
	resp = bytes.TrimSpace(resp)
	if len(resp) == 0 || string(resp) == "null" {
		return failed, nil
	}
	var doc struct {
		BatchItemFailures []map[string]*string `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(resp, &doc); err != nil {
		return nil, fmt.Errorf("invalid partial batch response: %w", err)
	}
	for _, item := range doc.BatchItemFailures {
		id, ok := item["itemIdentifier"]
		if !ok || id == nil || *id == "" || !ids[*id] {
			return nil, fmt.Errorf("invalid partial batch response: itemIdentifier %s is not a message of the batch", describe(id))
		}
		failed[*id] = true
	}
	return failed, nil
}

func describe(id *string) string {
	if id == nil {
		return "null"
	}
	return strconv.Quote(*id)
}

// delete removes the messages one call each and returns how many went. Not
// DeleteMessageBatch: AWS authorises it as sqs:DeleteMessage, the permission execution roles
// carry, but moto checks sqs:DeleteMessageBatch. It runs after a successful invoke even while
// stopping, so it has its own deadline.
func (p *Poller) delete(receipts []*string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	deleted := 0
	for _, r := range receipts {
		if _, err := p.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &p.m.QueueURL, ReceiptHandle: r}); err != nil {
			p.opts.Logf("lambda poller %s: delete: %v", p.m.QueueARN, err)
			continue
		}
		deleted++
	}
	return deleted
}

// sqsEvent is the SQS event as Lambda sends it: the fields and order of Lambda's own
// (events.SQSMessage would add an empty md5OfMessageAttributes, which Lambda leaves out).
type sqsEvent struct {
	Records []sqsRecord `json:"Records"`
}

type sqsRecord struct {
	MessageID              string                                `json:"messageId"`
	ReceiptHandle          string                                `json:"receiptHandle"`
	Body                   string                                `json:"body"`
	Attributes             map[string]string                     `json:"attributes"`
	MessageAttributes      map[string]events.SQSMessageAttribute `json:"messageAttributes"`
	MD5OfMessageAttributes string                                `json:"md5OfMessageAttributes,omitempty"`
	MD5OfBody              string                                `json:"md5OfBody"`
	EventSource            string                                `json:"eventSource"`
	EventSourceARN         string                                `json:"eventSourceARN"`
	AWSRegion              string                                `json:"awsRegion"`
}

// event builds the SQS event for a batch.
func (p *Poller) event(msgs []sqstypes.Message) sqsEvent {
	ev := sqsEvent{Records: make([]sqsRecord, 0, len(msgs))}
	for _, m := range msgs {
		r := sqsRecord{
			MessageID:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Attributes:             m.Attributes,
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			MD5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			MD5OfBody:              aws.ToString(m.MD5OfBody),
			EventSource:            "aws:sqs",
			EventSourceARN:         p.m.QueueARN,
			AWSRegion:              p.m.Region,
		}
		if r.Attributes == nil {
			r.Attributes = map[string]string{}
		}
		for name, a := range m.MessageAttributes {
			r.MessageAttributes[name] = events.SQSMessageAttribute{
				StringValue:      a.StringValue,
				BinaryValue:      a.BinaryValue,
				StringListValues: nonNil(a.StringListValues),
				BinaryListValues: nonNil(a.BinaryListValues),
				DataType:         aws.ToString(a.DataType),
			}
		}
		ev.Records = append(ev.Records, r)
	}
	return ev
}

// nonNil makes an absent list [] in JSON, as Lambda writes it, not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
