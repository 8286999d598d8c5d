package schedules_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/schedules"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

func TestPeriodOfARateExpression(t *testing.T) {
	for expr, want := range map[string]time.Duration{"rate(1 minute)": time.Minute, "rate(15 minutes)": 15 * time.Minute, "rate(2 hours)": 2 * time.Hour, "rate(1 day)": 24 * time.Hour} {
		got, err := schedules.Period(expr)
		require.NoError(t, err, expr)
		assert.Equal(t, want, got, expr)
	}
	for _, expr := range []string{"rate(0 minutes)", "rate(5 seconds)", "cron(0 3 * * ? *)", "every hour"} {
		_, err := schedules.Period(expr)
		assert.Error(t, err, expr)
	}
}

// EventBridge Scheduler as it documents itself: an enabled rate schedule without a start
// date invokes its target at once and then every period, by the target's role (which may
// only send, IAM enforced), with the target's input; a disabled one never does; a one-time
// schedule runs once at its time.
func TestSchedulesInvokeTheirTargets(t *testing.T) {
	ctx := context.Background()
	ns := emulator.StartT(t, emulator.Options{EnforceIAM: true}).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	sqsc := sqs.NewFromConfig(cfg)
	queue, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(ns.ID + "-jobs")})
	require.NoError(t, err)
	attrs, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	queueARN := attrs.Attributes["QueueArn"]
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(ns.ID + "-schedule"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	_, err = iam.NewFromConfig(cfg).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role.Role.RoleName, PolicyName: aws.String("send"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"` + queueARN + `"}]}`)})
	require.NoError(t, err)

	sched := scheduler.NewFromConfig(cfg)
	create := func(name, expr string, state schedtypes.ScheduleState) {
		_, err := sched.CreateSchedule(ctx, &scheduler.CreateScheduleInput{
			Name: aws.String(ns.ID + "-" + name), ScheduleExpression: aws.String(expr), State: state,
			FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
			Target:             &schedtypes.Target{Arn: &queueARN, RoleArn: role.Role.Arn, Input: aws.String(`{"from":"` + name + `"}`)},
		})
		require.NoError(t, err)
	}
	create("every-minute", "rate(1 minute)", schedtypes.ScheduleStateEnabled)
	create("disabled", "rate(1 minute)", schedtypes.ScheduleStateDisabled)
	create("once", "at("+time.Now().UTC().Add(2*time.Second).Format("2006-01-02T15:04:05")+")", schedtypes.ScheduleStateEnabled)

	r := schedules.Start(schedules.Options{
		Regions:     []aws.Config{cfg},
		Credentials: func(arn string) aws.CredentialsProvider { return roles.Credentials(cfg, arn, "eventbridge-scheduler") },
		Include:     func(name string) bool { return strings.HasPrefix(name, ns.ID) },
		Interval:    200 * time.Millisecond,
		Logf:        t.Logf,
	})
	defer r.Stop()

	got := map[string]int{}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (got["every-minute"] == 0 || got["once"] == 0) {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		require.NoError(t, err)
		for _, m := range out.Messages {
			got[strings.TrimSuffix(strings.TrimPrefix(aws.ToString(m.Body), `{"from":"`), `"}`)]++
		}
	}
	assert.Equal(t, map[string]int{"every-minute": 1, "once": 1}, got, "each enabled schedule ran once so far; the disabled one never")
	for _, run := range r.Runs() {
		assert.NoError(t, run.Err)
		assert.Equal(t, queueARN, run.Target)
	}
}
