package functions

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// codeDir holds the test function's zip and a manifest listing it, built once in TestMain.
var (
	codeDir    string
	codeZip    string
	manifest   *Manifest
	buildOnce  sync.Once
	buildErr   error
	removeCode func() error
)

func TestMain(m *testing.M) {
	code := emulator.RunMain(m)
	if removeCode != nil {
		_ = removeCode()
	}
	os.Exit(code)
}

// testFunction builds testdata/fn into a Lambda zip (bootstrap, mode 0755) and writes a
// manifest in scripts/artifacts' format next to it.
func testFunction(t *testing.T) (zipPath string, m *Manifest) {
	t.Helper()
	buildOnce.Do(func() { buildErr = buildTestFunction() })
	require.NoError(t, buildErr)
	return codeZip, manifest
}

func buildTestFunction() error {
	dir, remove, err := procs.MkdirTemp("mediastack-functions-test-*")
	if err != nil {
		return err
	}
	codeDir, removeCode = dir, remove
	exe := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-o", exe, "./testdata/fn")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build testdata/fn: %w\n%s", err, out)
	}
	data, err := zipBootstrap(exe, nil)
	if err != nil {
		return err
	}
	codeZip = filepath.Join(dir, "fn.zip")
	if err := os.WriteFile(codeZip, data, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	doc, err := json.Marshal(map[string]any{"artifacts": []map[string]any{{
		"name": "fn", "package": "example/fn", "zip": "fn.zip", "arch": runtime.GOARCH,
		"sha256": fmt.Sprintf("%x", sum), "code_sha256": base64.StdEncoding.EncodeToString(sum[:]), "size": len(data),
	}}})
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		return err
	}
	manifest, err = ReadManifest(path)
	return err
}

// zipBootstrap zips exe as bootstrap, plus extra files, which change the zip's hash.
func zipBootstrap(exe string, extra map[string]string) ([]byte, error) {
	bin, err := os.ReadFile(exe)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bin); err != nil {
		return nil, err
	}
	for name, content := range extra {
		w, err := zw.Create(name)
		if err != nil {
			return nil, err
		}
		_, _ = w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newFunction starts a Function for spec (code: the test function), closed at cleanup.
func newFunction(t *testing.T, spec Spec) *Function {
	t.Helper()
	zipPath, _ := testFunction(t)
	if spec.CodeZip == "" {
		spec.CodeZip = zipPath
	}
	if spec.Name == "" {
		spec.Name = "fn"
	}
	fn, err := New(spec)
	require.NoError(t, err)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("function output:\n%s", fn.Logs())
		}
		if err := fn.Close(); err != nil {
			t.Errorf("close function: %v", err)
		}
	})
	return fn
}

// reply is the test function's answer to a direct invoke.
type reply struct {
	PID         int               `json:"pid"`
	RequestID   string            `json:"request_id"`
	FunctionARN string            `json:"function_arn"`
	Deadline    time.Time         `json:"deadline"`
	Env         map[string]string `json:"env"`
	CallerARN   string            `json:"caller_arn"`
}

func invoke(t *testing.T, fn *Function, do string) (reply, error) {
	t.Helper()
	payload, _ := json.Marshal(map[string]string{"do": do})
	out, err := fn.Invoke(context.Background(), payload)
	var r reply
	if err == nil {
		require.NoError(t, json.Unmarshal(out, &r), "response %s", out)
	}
	return r, err
}

func functionError(t *testing.T, err error) *FunctionError {
	t.Helper()
	var fe *FunctionError
	require.True(t, errors.As(err, &fe), "want a *FunctionError, got %v", err)
	return fe
}

// deployment is a function deployed on the emulator with a queue, its DLQ and a mapping.
type deployment struct {
	ns       *emulator.Namespace
	cfg      aws.Config
	name     string
	roleARN  string
	roleName string
	queueURL string
	queueARN string
	dlqURL   string
	poller   *Poller // the last one poll started
}

type deployOptions struct {
	Emulator          *emulator.Emulator // nil: the shared one
	TrustPolicy       string             // the role's; empty: Lambda may assume it
	Timeout           int32              // seconds
	MemoryMB          int32
	Env               map[string]string
	VisibilityTimeout int // seconds
	MaxReceiveCount   int
	Mapping           *lambda.CreateEventSourceMappingInput // nil: no mapping; queue and function are filled in
}

// deploy creates, in a fresh namespace, what Terraform would: an execution role, the
// function with the test zip, a queue with a DLQ, and an event source mapping.
func deploy(t *testing.T, o deployOptions) *deployment {
	t.Helper()
	zipPath, _ := testFunction(t)
	e := o.Emulator
	if e == nil {
		e = emulator.Shared(t)
	}
	ns := e.NamespaceT(t)
	ctx := context.Background()
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	d := &deployment{ns: ns, cfg: cfg, name: ns.ID + "-fn"}

	trust := o.TrustPolicy
	if trust == "" {
		trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	}
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(ns.ID + "-fn-role"),
		AssumeRolePolicyDocument: &trust,
	})
	require.NoError(t, err)
	d.roleARN = aws.ToString(role.Role.Arn)
	d.roleName = aws.ToString(role.Role.RoleName)

	code, err := os.ReadFile(zipPath)
	require.NoError(t, err)
	arch := lambdatypes.ArchitectureX8664
	if runtime.GOARCH == "arm64" {
		arch = lambdatypes.ArchitectureArm64
	}
	lc := lambda.NewFromConfig(cfg)
	_, err = lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  &d.name,
		Role:          &d.roleARN,
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Architectures: []lambdatypes.Architecture{arch},
		Code:          &lambdatypes.FunctionCode{ZipFile: code},
		Timeout:       aws.Int32(max(o.Timeout, 1)),
		MemorySize:    aws.Int32(max(o.MemoryMB, 128)),
		Environment:   &lambdatypes.Environment{Variables: o.Env},
	})
	require.NoError(t, err)

	if o.Mapping == nil {
		return d
	}
	sc := sqs.NewFromConfig(cfg)
	dlq, err := sc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(ns.ID + "-dlq")})
	require.NoError(t, err)
	d.dlqURL = aws.ToString(dlq.QueueUrl)
	dlqARN := queueARN(t, sc, d.dlqURL)
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": max(o.MaxReceiveCount, 2)})
	q, err := sc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(ns.ID + "-queue"), Attributes: map[string]string{
		"VisibilityTimeout": fmt.Sprint(max(o.VisibilityTimeout, 1)),
		"RedrivePolicy":     string(redrive),
	}})
	require.NoError(t, err)
	d.queueURL = aws.ToString(q.QueueUrl)
	d.queueARN = queueARN(t, sc, d.queueURL)

	m := *o.Mapping
	m.FunctionName, m.EventSourceArn = &d.name, &d.queueARN
	_, err = lc.CreateEventSourceMapping(ctx, &m)
	require.NoError(t, err)
	return d
}

func queueARN(t *testing.T, sc *sqs.Client, url string) string {
	t.Helper()
	out, err := sc.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	require.NoError(t, err)
	return out.Attributes["QueueArn"]
}

// load reads the deployed function back and starts it.
func (d *deployment) load(t *testing.T) *Function {
	t.Helper()
	_, m := testFunction(t)
	spec, err := Load(context.Background(), d.cfg, d.name, m)
	require.NoError(t, err)
	// What the orchestrator passes: where AWS is, and the CA its certificate comes from.
	spec.ExtraEnv = func(*Spec) []string {
		return []string{"AWS_ENDPOINT_URL=" + d.ns.Endpoint, "AWS_CA_BUNDLE=" + d.ns.CABundle}
	}
	return newFunction(t, *spec)
}

// poll loads the function and its mapping and starts the poller through a recorder.
func (d *deployment) poll(t *testing.T) (*Function, *recorder, Mapping) {
	t.Helper()
	fn := d.load(t)
	spec := fn.Spec()
	mappings, err := LoadMappings(context.Background(), d.cfg, &spec)
	require.NoError(t, err)
	require.Len(t, mappings, 1)
	rec := &recorder{fn: fn}
	p := StartPoller(mappings[0], sqs.NewFromConfig(spec.RoleConfig(d.cfg)), rec, PollerOptions{Logf: t.Logf, OnBatch: rec.onBatch})
	d.poller = p
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("stop poller: %v", err)
		}
	})
	return fn, rec, mappings[0]
}

func (d *deployment) send(t *testing.T, bodies ...string) []string {
	t.Helper()
	var entries []sqstypes.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)})
	}
	out, err := sqs.NewFromConfig(d.cfg).SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: &d.queueURL, Entries: entries})
	require.NoError(t, err)
	require.Empty(t, out.Failed)
	ids := make([]string, len(bodies))
	for _, s := range out.Successful {
		var i int
		_, _ = fmt.Sscan(aws.ToString(s.Id), &i)
		ids[i] = aws.ToString(s.MessageId)
	}
	return ids
}

// counts returns a queue's visible and in-flight message counts.
func (d *deployment) counts(t *testing.T, url string) (visible, inFlight int) {
	t.Helper()
	out, err := sqs.NewFromConfig(d.cfg).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	require.NoError(t, err)
	_, _ = fmt.Sscan(out.Attributes["ApproximateNumberOfMessages"], &visible)
	_, _ = fmt.Sscan(out.Attributes["ApproximateNumberOfMessagesNotVisible"], &inFlight)
	return visible, inFlight
}

// recorder sits between the poller and the function: it keeps every invocation's event (as
// aws-lambda-go parses it), its outcome and the greatest number of invocations in flight.
type recorder struct {
	fn Invoker

	mu          sync.Mutex
	calls       []call
	batches     []Batch
	inFlight    int
	maxInFlight int
}

type call struct {
	raw   []byte
	event events.SQSEvent
	resp  []byte
	err   error
}

func (r *recorder) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	r.mu.Unlock()
	resp, err := r.fn.Invoke(ctx, payload)
	c := call{raw: payload, resp: resp, err: err}
	perr := json.Unmarshal(payload, &c.event)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	if perr != nil {
		c.err = fmt.Errorf("the event does not parse as events.SQSEvent: %w", perr)
	}
	r.calls = append(r.calls, c)
	return resp, err
}

func (r *recorder) onBatch(b Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, b)
}

func (r *recorder) snapshot() ([]call, []Batch, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call{}, r.calls...), append([]Batch{}, r.batches...), r.maxInFlight
}

// writeZip writes files (mode 0755) into a zip at path.
func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
		hdr.SetMode(0o755)
		w, err := zw.CreateHeader(hdr)
		require.NoError(t, err)
		_, err = w.Write([]byte(content))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}
