package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lateAnswerSQS is a queue whose one long poll hands out a message only when answer is
// closed, as SQS does when a message arrives near the end of the wait: by then the message is
// taken, whether or not the caller still listens.
type lateAnswerSQS struct {
	polling, answer chan struct{}

	mu       sync.Mutex
	receives int
	released []string
	deleted  []string
}

func (q *lateAnswerSQS) ReceiveMessage(ctx context.Context, _ *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	q.mu.Lock()
	q.receives++
	first := q.receives == 1
	q.mu.Unlock()
	if !first {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	close(q.polling)
	<-q.answer
	if err := ctx.Err(); err != nil {
		return nil, err // the message stays taken, invisible until its timeout
	}
	return &sqs.ReceiveMessageOutput{Messages: []sqstypes.Message{{
		MessageId: aws.String("m-1"), ReceiptHandle: aws.String("receipt-1"), Body: aws.String("{}"),
	}}}, nil
}

func (q *lateAnswerSQS) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleted = append(q.deleted, aws.ToString(in.ReceiptHandle))
	return &sqs.DeleteMessageOutput{}, nil
}

func (q *lateAnswerSQS) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if in.VisibilityTimeout == 0 {
		q.released = append(q.released, aws.ToString(in.ReceiptHandle))
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// A worker told to stop while its long poll is open (a scale-in) must neither cut the poll,
// which would strand a message SQS has just handed it, nor start on that message: it gives
// the message back at once.
func TestMessageReceivedWhileStoppingIsReleased(t *testing.T) {
	q := &lateAnswerSQS{polling: make(chan struct{}), answer: make(chan struct{})}
	handled := make(chan string, 1)
	p := &Poller{SQS: q, QueueURL: "q", WaitTime: time.Second, Handle: func(_ context.Context, body string) error {
		handled <- body
		return nil
	}}
	stop, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	done := make(chan error, 1)
	go func() { done <- p.Run(stop, context.Background()) }()

	<-q.polling
	stopNow()
	close(q.answer)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the poller did not stop")
	}
	assert.Empty(t, handled, "a message received after stop is not worked on")
	assert.Equal(t, []string{"receipt-1"}, q.released, "it is made visible again at once")
	assert.Empty(t, q.deleted)
	assert.Equal(t, 1, q.receives, "no poll after stop")
}
