// Command transcode-worker is the transcode core as a daemon for the spot worker fleet: it
// polls the transcode queue (QUEUE_URL) for originals that outgrow Lambda's limits.
//
// It keeps the message in hand hidden for VISIBILITY_SECONDS (default 120) at a time,
// renewed every third of it. On SIGTERM or SIGINT (a spot interruption notice, systemd stop)
// it stops receiving and lets the video in hand finish for SHUTDOWN_GRACE_SECONDS (default
// 90), then abandons it so that another worker takes it over at once.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode/pipeline"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(log); err != nil {
		log.Error("worker failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	cfg, err := pipeline.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	grace := 90 * time.Second
	if v := os.Getenv("SHUTDOWN_GRACE_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorf("SHUTDOWN_GRACE_SECONDS=%q: want a number of seconds", v)
		}
		grace = time.Duration(n) * time.Second
	}
	visibility := 2 * time.Minute
	if v := os.Getenv("VISIBILITY_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 30 || n > 43200 {
			return errorf("VISIBILITY_SECONDS=%q: want 30 to 43200 seconds", v)
		}
		visibility = time.Duration(n) * time.Second
	}
	if cfg.QueueURL == "" {
		return errorf("QUEUE_URL is required")
	}
	stop, stopCancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stopCancel()
	work, workCancel := context.WithCancel(context.Background())
	defer workCancel()
	context.AfterFunc(stop, func() {
		log.Info("shutting down", "grace_s", grace.Seconds())
		time.AfterFunc(grace, workCancel)
	})

	awsCfg, err := cfg.AWSConfig(work)
	if err != nil {
		return err
	}
	proc, err := pipeline.New(work, cfg, awsCfg, log)
	if err != nil {
		return err
	}
	defer proc.Store.Close()
	log.Info("polling", "queue_url", cfg.QueueURL)
	// One backoff for the message put back and for the attempt that follows: the processor's.
	p := &pipeline.Poller{SQS: sqs.NewFromConfig(awsCfg), QueueURL: cfg.QueueURL, Visibility: visibility, Handle: proc.Handle, RetryBackoff: proc.RetryBackoff, Log: log}
	return p.Run(stop, work)
}

type configError string

func (e configError) Error() string { return "configuration: " + string(e) }

func errorf(format string, args ...any) error { return configError(fmt.Sprintf(format, args...)) }
