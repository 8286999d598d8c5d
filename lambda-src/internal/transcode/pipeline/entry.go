package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// HandleSQSEvent is the Lambda handler: each record is handled in turn, and those to be
// redelivered are reported as batch item failures, so that SQS deletes the others.
func (p *Processor) HandleSQSEvent(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		log := p.log().With("message_id", rec.MessageId)
		if ctx.Err() != nil { // no time left: let SQS bring the rest back
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		if err := p.Handle(ctx, rec.Body); err != nil {
			log.Warn("message will be redelivered", "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			queueURL, qerr := QueueURL(rec.EventSourceARN)
			if qerr != nil {
				log.Warn("cannot put the message back early", "error", qerr)
				continue
			}
			receives, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
			putBack(ctx, log, p.SQS, queueURL, &rec.ReceiptHandle, p.RetryBackoff, receives, err)
		}
	}
	return resp, nil
}

// SQSAPI is the part of the SQS client the Poller needs.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Poller is the worker daemon's loop: long polling, one message at a time, its visibility
// extended while it is worked on, deleted when done with.
type Poller struct {
	SQS        SQSAPI
	QueueURL   string
	Handle     func(ctx context.Context, body string) error
	Visibility time.Duration // kept ahead of the work; 2 minutes when 0
	WaitTime   time.Duration // long-polling wait; 20 s when 0
	// RetryBackoff is the first wait of a message put back; DefaultRetryBackoff when 0.
	RetryBackoff time.Duration
	Log          *slog.Logger
}

// Run receives until stop ends, then returns once the message in hand is finished. work is
// the context of the processing: cancel it to abandon the message in hand (it is released
// for another worker at once).
//
// A long poll in progress when stop ends is not cut off but allowed to answer (within
// WaitTime): SQS may already have handed it a message, which a dropped connection would leave
// in flight, invisible to every worker, until its visibility timeout. What it brings after
// stop is released at once instead of worked on.
func (p *Poller) Run(stop, work context.Context) error {
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	vis := p.Visibility
	if vis <= 0 {
		vis = 2 * time.Minute
	}
	wait := p.WaitTime
	if wait <= 0 {
		wait = 20 * time.Second
	}
	delay := time.Second
	for stop.Err() == nil {
		out, err := p.SQS.ReceiveMessage(work, &sqs.ReceiveMessageInput{
			QueueUrl:                    &p.QueueURL,
			MaxNumberOfMessages:         1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
			WaitTimeSeconds:             int32(wait / time.Second),
			VisibilityTimeout:           int32(vis / time.Second),
		})
		if err != nil {
			if stop.Err() != nil {
				break
			}
			log.Error("receive", "error", err)
			select { // back off, the queue or the network is unwell
			case <-stop.Done():
			case <-time.After(delay):
			}
			delay = min(2*delay, time.Minute)
			continue
		}
		delay = time.Second
		if stop.Err() != nil {
			p.release(work, log, out.Messages)
			break
		}
		for _, m := range out.Messages {
			receives, _ := strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
			p.process(work, log, m.ReceiptHandle, aws.ToString(m.MessageId), aws.ToString(m.Body), receives, vis)
		}
	}
	log.Info("poller stopped")
	return nil
}

// release makes messages received but not begun visible again, for another worker now.
func (p *Poller) release(ctx context.Context, log *slog.Logger, msgs []sqstypes.Message) {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	for _, m := range msgs {
		if _, err := p.SQS.ChangeMessageVisibility(cctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: &p.QueueURL, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		}); err != nil {
			log.Warn("could not release a message received while stopping; it returns at its visibility timeout", "message_id", aws.ToString(m.MessageId), "error", err)
			continue
		}
		log.Info("released a message received while stopping", "message_id", aws.ToString(m.MessageId))
	}
}

func (p *Poller) process(ctx context.Context, log *slog.Logger, receipt *string, id, body string, receives int, vis time.Duration) {
	log = log.With("message_id", id)
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // keep the message invisible to others while it is worked on
		t := time.NewTicker(vis / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if _, err := p.SQS.ChangeMessageVisibility(hctx, &sqs.ChangeMessageVisibilityInput{
					QueueUrl: &p.QueueURL, ReceiptHandle: receipt, VisibilityTimeout: int32(vis / time.Second), //nolint:gosec // a visibility timeout of at most 12 hours, as SQS bounds it
				}); err != nil && hctx.Err() == nil {
					log.Warn("extend visibility", "error", err)
				}
			}
		}
	}()
	err := p.Handle(hctx, body)
	cancel()
	cctx, ccancel := cleanupContext(ctx)
	defer ccancel()
	if err == nil {
		if _, err := p.SQS.DeleteMessage(cctx, &sqs.DeleteMessageInput{QueueUrl: &p.QueueURL, ReceiptHandle: receipt}); err != nil {
			log.Error("delete message", "error", err)
		}
		return
	}
	if _, ok := RetryAfter(err); ok && ctx.Err() == nil {
		putBack(ctx, log, p.SQS, p.QueueURL, receipt, p.RetryBackoff, receives, err)
	} else if errors.Is(ctx.Err(), context.Canceled) {
		// Abandoned at shutdown: another worker may take it now rather than after the timeout.
		if _, err := p.SQS.ChangeMessageVisibility(cctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: &p.QueueURL, ReceiptHandle: receipt, VisibilityTimeout: 0,
		}); err != nil {
			log.Warn("release message", "error", err)
		}
	}
	log.Warn("message will be redelivered", "error", err)
}
