// Package schedules runs EventBridge Scheduler's schedules, which the emulator stores but
// never runs, as the service documents them: an ENABLED schedule invokes its target with the
// target's Input, by the target's execution role. A rate(value unit) schedule first runs at
// its StartDate, or at once when it has none, then every period until its EndDate; an
// at(yyyy-mm-ddThh:mm:ss) schedule runs once, at that time in its time zone. The targets run
// here are SQS queues (SendMessage) and SNS topics (Publish), the templated targets the
// stack uses. Cron schedules are reported once as not run: nothing in the stack uses one.
//
// Differences from the service: runs are exact to the second (the service promises a
// minute), and a run that fails is logged rather than retried under the target's retry
// policy.
package schedules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Options configure a Runner.
type Options struct {
	// Regions are the configurations (as the Scheduler service) of the regions to run.
	Regions []aws.Config
	// Credentials are those of a target's execution role, assumed as the service assumes it.
	Credentials func(roleARN string) aws.CredentialsProvider
	// Include selects schedules by name; nil runs every schedule.
	Include func(name string) bool
	// Interval between reads of the schedules and checks of what is due; 1 s when zero.
	Interval time.Duration
	// Logf receives runs and failures; nil drops them.
	Logf func(format string, args ...any)
}

// Run is one invocation of a schedule's target.
type Run struct {
	Schedule string // ARN
	Target   string // ARN
	At       time.Time
	Err      error
}

// Runner runs the schedules in the background until Stop.
type Runner struct {
	opts   Options
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	next     map[string]time.Time // by schedule ARN and modification: its next run
	reported map[string]bool      // schedules reported as not run
	runs     []Run
}

// Start starts running the schedules.
func Start(opts Options) *Runner {
	if opts.Interval == 0 {
		opts.Interval = time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{opts: opts, cancel: cancel, done: make(chan struct{}), next: map[string]time.Time{}, reported: map[string]bool{}}
	go func() {
		defer close(r.done)
		ticker := time.NewTicker(opts.Interval)
		defer ticker.Stop()
		for {
			for _, cfg := range opts.Regions {
				if err := r.pass(ctx, cfg); err != nil && ctx.Err() == nil {
					opts.Logf("schedules: %s: %v", cfg.Region, err)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return r
}

// Stop stops running schedules and waits for the runs in progress.
func (r *Runner) Stop() {
	r.cancel()
	<-r.done
}

// Runs returns the runs so far, oldest first.
func (r *Runner) Runs() []Run {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Run(nil), r.runs...)
}

// pass runs the schedules of a region that are due.
func (r *Runner) pass(ctx context.Context, cfg aws.Config) error {
	client := scheduler.NewFromConfig(cfg)
	var errs []error
	pages := scheduler.NewListSchedulesPaginator(client, &scheduler.ListSchedulesInput{State: schedtypes.ScheduleStateEnabled})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, s := range page.Schedules {
			if r.opts.Include != nil && !r.opts.Include(aws.ToString(s.Name)) {
				continue
			}
			if err := r.runIfDue(ctx, cfg, client, s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) runIfDue(ctx context.Context, cfg aws.Config, client *scheduler.Client, sum schedtypes.ScheduleSummary) error {
	// A changed schedule starts afresh, as the service recomputes it on UpdateSchedule.
	id := aws.ToString(sum.Arn) + "@" + aws.ToTime(sum.LastModificationDate).String()
	now := time.Now()
	r.mu.Lock()
	next, known := r.next[id]
	r.mu.Unlock()
	if known && (next.IsZero() || now.Before(next)) {
		return nil // not due, or done with
	}
	s, err := client.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: sum.Name, GroupName: sum.GroupName})
	if err != nil {
		return fmt.Errorf("get schedule %s: %w", aws.ToString(sum.Name), err)
	}
	if !known {
		first, err := firstRun(s, now)
		if err != nil {
			r.reportOnce(aws.ToString(s.Arn), err)
			r.setNext(id, time.Time{})
			return nil
		}
		r.setNext(id, first)
		if now.Before(first) {
			return nil
		}
		next = first
	}
	r.invoke(ctx, cfg, s, next)
	following, err := nextRun(s, next, now)
	if err != nil {
		following = time.Time{}
	}
	r.setNext(id, following)
	return nil
}

func (r *Runner) setNext(id string, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next[id] = t
}

func (r *Runner) reportOnce(arn string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.reported[arn] {
		r.reported[arn] = true
		r.opts.Logf("schedules: %s is not run locally: %v", arn, err)
	}
}

// invoke sends the schedule's input to its target by the target's role.
func (r *Runner) invoke(ctx context.Context, cfg aws.Config, s *scheduler.GetScheduleOutput, at time.Time) {
	target := aws.ToString(s.Target.Arn)
	role := r.opts.Credentials(aws.ToString(s.Target.RoleArn))
	input := aws.ToString(s.Target.Input)
	var err error
	switch service, region := arnPart(target, 2), arnPart(target, 3); service {
	case "sqs":
		// The service addresses the queue by its ARN; the role only sends.
		var url *sqs.GetQueueUrlOutput
		url, err = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.Region = region }).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{
			QueueName: aws.String(arnPart(target, 5)), QueueOwnerAWSAccountId: aws.String(arnPart(target, 4))})
		if err == nil {
			c := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.Credentials, o.Region = role, region })
			_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(input)})
		}
	case "sns":
		c := sns.NewFromConfig(cfg, func(o *sns.Options) { o.Credentials, o.Region = role, region })
		_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: &target, Message: aws.String(input)})
	default:
		err = fmt.Errorf("targets of %s are not run locally", service)
	}
	if err != nil {
		r.opts.Logf("schedules: %s: invoke %s: %v", aws.ToString(s.Arn), target, err)
	} else {
		r.opts.Logf("schedules: %s: invoked %s", aws.ToString(s.Arn), target)
	}
	r.mu.Lock()
	r.runs = append(r.runs, Run{Schedule: aws.ToString(s.Arn), Target: target, At: at, Err: err})
	r.mu.Unlock()
}

func arnPart(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 6)
	if i >= len(parts) {
		return ""
	}
	return parts[i]
}

var (
	rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	atExpr   = regexp.MustCompile(`^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$`)
)

// Period is the period of a rate expression.
func Period(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("%q is not a rate expression", expr)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: the rate must be a positive number", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit, nil
}

// firstRun is when a schedule first runs, seen at now.
func firstRun(s *scheduler.GetScheduleOutput, now time.Time) (time.Time, error) {
	expr := aws.ToString(s.ScheduleExpression)
	if m := atExpr.FindStringSubmatch(expr); m != nil {
		loc, err := time.LoadLocation(aws.ToString(s.ScheduleExpressionTimezone))
		if err != nil {
			loc = time.UTC
		}
		return time.ParseInLocation("2006-01-02T15:04:05", m[1], loc)
	}
	if _, err := Period(expr); err != nil {
		return time.Time{}, err
	}
	if s.StartDate != nil && s.StartDate.After(now) {
		return *s.StartDate, nil
	}
	return now, nil
}

// nextRun is the run after prev, or an error when there is none.
func nextRun(s *scheduler.GetScheduleOutput, prev, now time.Time) (time.Time, error) {
	period, err := Period(aws.ToString(s.ScheduleExpression))
	if err != nil {
		return time.Time{}, err // one-time
	}
	next := prev.Add(period)
	for next.Before(now) { // runs missed while the local cloud was busy are not made up
		next = next.Add(period)
	}
	if s.EndDate != nil && next.After(*s.EndDate) {
		return time.Time{}, errors.New("past its end date")
	}
	return next, nil
}
