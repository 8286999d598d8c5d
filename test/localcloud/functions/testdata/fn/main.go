// Command fn is the Lambda function the functions tests run: what it does is chosen by the
// payload, or for an SQS event by each record's body.
//
//	ok            succeed
//	fail          an SQS record reported in batchItemFailures; a direct invoke returns an error
//	badid         an SQS batch that reports an empty itemIdentifier
//	error         return an error (the whole batch fails)
//	sleep:S       sleep S seconds (may be fractional), then succeed
//	slowfirst:S   sleep S seconds on the record's first receive, succeed on later ones
//	alloc:MB      allocate and touch MB megabytes, then hold them
//	write:MB      write MB megabytes to a file in TMPDIR, then remove it
//	writeafter:S  sleep S seconds, then write 1 MB to TMPDIR
//	crash         exit with status 3
//	whoami        the environment, the process id and the caller identity seen through STS
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Command is the payload of a direct invoke.
type Command struct {
	Do string `json:"do"`
}

// Reply is what a direct invoke returns.
type Reply struct {
	PID         int               `json:"pid"`
	RequestID   string            `json:"request_id"`
	FunctionARN string            `json:"function_arn"`
	Deadline    time.Time         `json:"deadline"`
	Env         map[string]string `json:"env,omitempty"`
	CallerARN   string            `json:"caller_arn,omitempty"`
}

// allocated keeps memory reachable so that it stays resident.
var allocated [][]byte

func main() {
	lambda.Start(handle)
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var event events.SQSEvent
	if err := json.Unmarshal(raw, &event); err == nil && len(event.Records) > 0 {
		return handleSQS(ctx, event)
	}
	var cmd Command
	if err := json.Unmarshal(raw, &cmd); err != nil {
		return nil, fmt.Errorf("decode command: %w", err)
	}
	reply, err := run(ctx, cmd.Do, 1)
	if err != nil {
		return nil, err
	}
	return reply, nil
}

func handleSQS(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range event.Records {
		receives, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		switch r.Body {
		case "fail":
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		case "badid":
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ""})
		default:
			if _, err := run(ctx, r.Body, receives); err != nil {
				return resp, err
			}
		}
	}
	return resp, nil
}

func run(ctx context.Context, do string, receives int) (*Reply, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	reply := &Reply{PID: os.Getpid(), RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn, Deadline: deadline}
	verb, arg, _ := strings.Cut(do, ":")
	switch verb {
	case "ok":
	case "fail", "error":
		return nil, errors.New("failed on purpose")
	case "sleep":
		sleep(arg)
	case "slowfirst":
		if receives <= 1 {
			sleep(arg)
		}
	case "alloc":
		mb, _ := strconv.Atoi(arg)
		for range mb {
			chunk := make([]byte, 1<<20)
			for i := range chunk {
				chunk[i] = 1
			}
			allocated = append(allocated, chunk)
		}
		time.Sleep(time.Minute)
	case "write":
		mb, _ := strconv.Atoi(arg)
		return reply, writeTmp(mb)
	case "writeafter":
		sleep(arg)
		return reply, writeTmp(1)
	case "crash":
		os.Exit(3)
	case "whoami":
		reply.Env = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			reply.Env[k] = v
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, err
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("get caller identity: %w", err)
		}
		reply.CallerARN = aws.ToString(id.Arn)
	default:
		return nil, fmt.Errorf("unknown command %q", do)
	}
	return reply, nil
}

// writeTmp writes mb megabytes to /tmp, as a job stages its files, and removes them.
func writeTmp(mb int) error {
	f, err := os.CreateTemp("", "write-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for range mb {
		if _, err := f.Write(chunk); err != nil {
			return err
		}
	}
	return f.Sync()
}

func sleep(seconds string) {
	s, _ := strconv.ParseFloat(seconds, 64)
	time.Sleep(time.Duration(s * float64(time.Second)))
}
