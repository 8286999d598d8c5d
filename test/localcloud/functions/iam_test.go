package functions

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
)

// TestIAMEnforced: with moto's IAM enforcement on, the function and its poller act as the
// execution role, so a role without SQS permissions consumes nothing, as on AWS; granting
// them lets the message through.
func TestIAMEnforced(t *testing.T) {
	t.Parallel()
	e := emulator.StartT(t, emulator.Options{EnforceIAM: true})
	ns := e.NamespaceT(t)
	// moto 5.2 checks AssumeRole against the trust policy's AWS principals only (a Service
	// principal alone makes it fail with an internal error), so the harness, which plays the
	// Lambda service, is trusted by name as well.
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":`+
		`{"Service":"lambda.amazonaws.com","AWS":"arn:aws:iam::%s:user/harness-admin"},"Action":"sts:AssumeRole"}]}`, ns.AccountID)
	d := deploy(t, deployOptions{Emulator: e, TrustPolicy: trust, Timeout: 1, VisibilityTimeout: 1, Mapping: &lambda.CreateEventSourceMappingInput{BatchSize: aws.Int32(1)}})
	d.send(t, "ok")

	// moto 5.2 checks the signature of a GET without query string against its headers, so
	// Lambda's GetFunction and ListEventSourceMappings fail with SignatureDoesNotMatch when
	// enforcing: the spec and mapping are built here as Load and LoadMappings would.
	creds := roles.Credentials(d.cfg, d.roleARN, d.name)
	_, err := creds.Retrieve(context.Background())
	require.NoError(t, err)
	zipPath, _ := testFunction(t)
	fn := newFunction(t, Spec{Name: d.name, CodeZip: zipPath, Region: d.ns.Region, Timeout: time.Second, Credentials: creds})
	spec := fn.Spec()
	m := Mapping{QueueARN: d.queueARN, QueueURL: d.queueURL, Region: d.ns.Region, Enabled: true, BatchSize: 1, VisibilityTimeout: time.Second}
	rec := &recorder{fn: fn}
	var mu sync.Mutex
	var logs []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}
	p := StartPoller(m, sqs.NewFromConfig(spec.RoleConfig(d.cfg)), rec, PollerOptions{Logf: logf, OnBatch: rec.onBatch})
	t.Cleanup(func() { require.NoError(t, p.Stop(context.Background())) })

	assert.Never(t, func() bool {
		calls, _, _ := rec.snapshot()
		return len(calls) > 0
	}, 1500*time.Millisecond, 100*time.Millisecond, "a role without sqs:ReceiveMessage receives nothing")
	visible, _ := d.counts(t, d.queueURL)
	assert.Equal(t, 1, visible)
	mu.Lock()
	require.NotEmpty(t, logs)
	assert.Contains(t, logs[0], "ReceiveMessage, https response error StatusCode: 403", "denied, as the role may not read the queue")
	mu.Unlock()

	_, err = iam.NewFromConfig(d.cfg).PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{
		RoleName:   &d.roleName,
		PolicyName: aws.String("queue"),
		PolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
			`"Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":%q}]}`, d.queueARN)),
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, batches, _ := rec.snapshot()
		return len(batches) == 1 && batches[0].Deleted == 1
	}, settle, 50*time.Millisecond, "consumed once the role may read the queue")
}
