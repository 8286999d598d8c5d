// Package functions is the local cloud's Lambda data plane: it runs a deployed function's own
// zip as processes speaking the Lambda Runtime API, with the function's environment, role
// credentials, timeout and memory limit, and polls its SQS event source mappings with
// Lambda's semantics. What to run is read from the emulator (Load, LoadMappings); the code
// must be an artifact that scripts/artifacts built.
//
// The local cloud wires one function as follows; pollers stop before their function closes:
//
//	manifest, _ := functions.ReadManifest("build/manifest.json")
//	spec, _ := functions.Load(ctx, cfg, name, manifest)
//	spec.ExtraEnv = func(*functions.Spec) []string { return []string{"AWS_ENDPOINT_URL=..."} }
//	fn, _ := functions.New(*spec)
//	mappings, _ := functions.LoadMappings(ctx, cfg, spec)
//	p := functions.StartPoller(mappings[0], sqs.NewFromConfig(spec.RoleConfig(cfg)), fn, functions.PollerOptions{})
//	...
//	p.Stop(ctx)
//	fn.Close()
package functions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/uuid"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/unpack"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Defaults for a Spec's zero values.
const (
	DefaultTimeout  = 3 * time.Second // Lambda's default
	DefaultMemoryMB = 128             // Lambda's default
	// DefaultEphemeralStorageMB is Lambda's default /tmp size.
	DefaultEphemeralStorageMB = 512
	DefaultInitTimeout        = 10 * time.Second
	// DefaultConcurrency caps environments of a function without reserved concurrency: enough
	// for parallelism, few enough for a laptop.
	DefaultConcurrency = 5
	// CredentialsRefreshWindow retires an environment whose role credentials expire sooner.
	CredentialsRefreshWindow = 5 * time.Minute
	logLines                 = 40
)

// Spec is what the execution environments of one function run.
type Spec struct {
	Name     string
	ARN      string // Lambda-Runtime-Invoked-Function-Arn
	Version  string // "$LATEST" when empty
	Region   string
	CodeZip  string // the zip holding an executable bootstrap
	Handler  string
	Env      map[string]string // the function's own variables
	Timeout  time.Duration
	MemoryMB int
	// EphemeralStorageMB sizes each environment's /tmp (its TMPDIR): a tmpfs of that size
	// where this process may mount one (as root), else an unlimited folder.
	EphemeralStorageMB int
	// MaxConcurrency caps environments, and so concurrent invokes; Invoke waits for a free one.
	MaxConcurrency int
	InitTimeout    time.Duration
	// Credentials are the execution role's, passed as AWS_ACCESS_KEY_ID, ... to every new
	// environment. Nil: none.
	Credentials aws.CredentialsProvider
	// ExtraEnv returns variables added last, winning over all others, for each environment
	// that starts: endpoints, CA bundle, proxy settings, host rewrites.
	ExtraEnv func(*Spec) []string
}

// FunctionError is a failed invocation as Lambda reports it: the function's own error
// document, or Lambda's for a timeout, a crash or memory exhaustion.
type FunctionError struct {
	Type       string          `json:"errorType"`
	Message    string          `json:"errorMessage"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
	// Payload is the error document as the runtime posted it, empty for Lambda's own errors.
	Payload []byte `json:"-"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Function runs one function's invocations on a pool of warm execution environments.
type Function struct {
	spec       Spec
	codeDir    string
	removeCode func() error
	slots      chan struct{} // one per environment that may exist

	mu      sync.Mutex
	idle    []*environment
	busy    map[*environment]bool
	closed  bool
	lastLog []string
	// warnOnce says once that /tmp runs without its size limit.
	warnOnce sync.Once
}

// New unzips spec's code once and returns a Function ready to be invoked; environments
// start on demand. Close stops them.
func New(spec Spec) (*Function, error) {
	if spec.Name == "" || spec.CodeZip == "" {
		return nil, errors.New("function spec needs a name and a code zip")
	}
	if spec.Version == "" {
		spec.Version = "$LATEST"
	}
	if spec.Handler == "" {
		spec.Handler = "bootstrap"
	}
	if spec.Timeout <= 0 {
		spec.Timeout = DefaultTimeout
	}
	if spec.MemoryMB <= 0 {
		spec.MemoryMB = DefaultMemoryMB
	}
	if spec.EphemeralStorageMB <= 0 {
		spec.EphemeralStorageMB = DefaultEphemeralStorageMB
	}
	if spec.MaxConcurrency <= 0 {
		spec.MaxConcurrency = DefaultConcurrency
	}
	if spec.InitTimeout <= 0 {
		spec.InitTimeout = DefaultInitTimeout
	}
	dir, remove, err := procs.MkdirTemp("mediastack-lambda-" + sanitize(spec.Name) + "-*")
	if err != nil {
		return nil, err
	}
	if err := unpack.ZipFile(spec.CodeZip, dir); err != nil {
		_ = remove()
		return nil, fmt.Errorf("function %s: unpack code: %w", spec.Name, err)
	}
	return &Function{
		spec:       spec,
		codeDir:    dir,
		removeCode: remove,
		slots:      make(chan struct{}, spec.MaxConcurrency),
		busy:       map[*environment]bool{},
	}, nil
}

// Spec returns the function's configuration, defaults filled in.
func (f *Function) Spec() Spec { return f.spec }

// Invoke runs payload on a warm environment, or a new one, and returns the response. A
// failure of the function (its own error, timeout, crash, memory) is a *FunctionError; an
// environment that ended is replaced at the next invoke.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if len(payload) > maxPayload {
		return nil, &FunctionError{Type: "RequestTooLargeException",
			Message: fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", maxPayload)}
	}
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-f.slots }()

	id := uuid.NewString()
	// An environment that ends before taking the invocation (a runtime that exits after an
	// error, say) never saw it: retry on another one, as Lambda would.
	for attempt := 0; ; attempt++ {
		e, err := f.environment(ctx, id)
		if err != nil {
			return nil, err
		}
		inv := &invocation{id: id, payload: payload, deadline: time.Now().Add(f.spec.Timeout), traceID: traceID(), done: make(chan result, 1)}
		resp, err, delivered := e.invoke(ctx, inv)
		f.release(e)
		if !delivered && err == nil && attempt < 2 {
			continue
		}
		if !delivered && err == nil {
			return nil, e.exitError(id)
		}
		return resp, err
	}
}

// environment returns an idle environment whose process runs and whose credentials are
// fresh, or starts one.
func (f *Function) environment(ctx context.Context, requestID string) (*environment, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, fmt.Errorf("function %s is closed", f.spec.Name)
	}
	var stale []*environment
	var e *environment
	for len(f.idle) > 0 && e == nil {
		last := f.idle[len(f.idle)-1] // most recently used first, as Lambda reuses warm ones
		f.idle = f.idle[:len(f.idle)-1]
		if last.alive() && (last.expires.IsZero() || time.Until(last.expires) > CredentialsRefreshWindow) {
			e = last
		} else {
			stale = append(stale, last)
		}
	}
	if e != nil {
		f.busy[e] = true
	}
	f.mu.Unlock()
	for _, s := range stale {
		_ = s.stop()
	}
	if e != nil {
		return e, nil
	}
	return f.startEnvironment(ctx, requestID)
}

// register counts a starting environment as busy, unless the function was closed.
func (f *Function) register(e *environment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("function %s is closed", f.spec.Name)
	}
	f.busy[e] = true
	return nil
}

// release returns e to the idle pool, or stops it when its process ended.
func (f *Function) release(e *environment) {
	f.mu.Lock()
	delete(f.busy, e)
	keep := !f.closed && e.alive()
	if keep {
		f.idle = append(f.idle, e)
	}
	f.mu.Unlock()
	if !keep {
		_ = e.stop()
	}
}

// KillInvocations kills at once every environment whose runtime is working on an
// invocation that match accepts, as a crash of the sandbox's host would end it mid-job.
// Those invocations fail with Runtime.ExitError; the next invoke gets a fresh environment.
// It returns how many it killed.
func (f *Function) KillInvocations(match func(payload []byte) bool) int {
	killed := 0
	for _, e := range f.workingOn(match) {
		e.kill()
		killed++
	}
	return killed
}

// FillEphemeralStorage fills the /tmp of every environment working on an invocation that
// match accepts, as when something else has taken the function's ephemeral storage: the
// invocation's next write fails with ENOSPC, and the environment's /tmp stays full for the
// rest of its life. It returns how many it filled, and an error where /tmp has no size
// limit to fill (this process may not mount a tmpfs).
func (f *Function) FillEphemeralStorage(match func(payload []byte) bool) (int, error) {
	filled := 0
	for _, e := range f.workingOn(match) {
		if e.tmpfs == nil {
			return filled, fmt.Errorf("function %s: /tmp has no size limit to fill: %w", f.spec.Name, procs.ErrNoTmpfs)
		}
		if err := e.tmpfs.Fill(); err != nil {
			return filled, err
		}
		filled++
	}
	return filled, nil
}

// workingOn returns the live environments whose runtime is working on an invocation that
// match accepts; match sees only those invocations.
func (f *Function) workingOn(match func(payload []byte) bool) []*environment {
	f.mu.Lock()
	busy := make([]*environment, 0, len(f.busy))
	for e := range f.busy {
		busy = append(busy, e)
	}
	f.mu.Unlock()
	var working []*environment
	for _, e := range busy {
		e.mu.Lock()
		inv := e.current
		e.mu.Unlock()
		if inv != nil && e.alive() && match(inv.payload) {
			working = append(working, e)
		}
	}
	return working
}

// Environments returns how many environments exist, idle or busy.
func (f *Function) Environments() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.idle) + len(f.busy)
}

// Close stops every environment (invocations in flight fail) and removes the code.
func (f *Function) Close() error {
	f.mu.Lock()
	f.closed = true
	all := append([]*environment{}, f.idle...)
	for e := range f.busy {
		all = append(all, e)
	}
	f.idle = nil
	f.mu.Unlock()

	var wg sync.WaitGroup
	errs := make([]error, len(all))
	for i, e := range all {
		wg.Go(func() { errs[i] = e.stop() })
	}
	wg.Wait()
	return errors.Join(append(errs, f.removeCode())...)
}

// Logs returns the last output lines of environments that were stopped, oldest first:
// what a failing test or the demo shows of the function's own logging.
func (f *Function) Logs() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.lastLog, "\n")
}

func (f *Function) keepLog(tail string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastLog = append(f.lastLog, strings.Split(tail, "\n")...)
	if len(f.lastLog) > 4*logLines {
		f.lastLog = f.lastLog[len(f.lastLog)-4*logLines:]
	}
}

func (f *Function) credentials(ctx context.Context) (aws.Credentials, error) {
	if f.spec.Credentials == nil {
		return aws.Credentials{}, nil
	}
	creds, err := f.spec.Credentials.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("function %s: execution role credentials: %w", f.spec.Name, err)
	}
	return creds, nil
}

// traceID is an X-Ray trace header as Lambda passes it in Lambda-Runtime-Trace-Id.
func traceID() string {
	b := make([]byte, 20)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), h[:24], h[24:])
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name)
}
