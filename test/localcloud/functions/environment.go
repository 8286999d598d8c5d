package functions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// The Runtime API's limits and paths, as Lambda serves them.
const (
	runtimeAPIPrefix = "/2018-06-01/runtime"
	maxPayload       = 6 * 1024 * 1024 // synchronous request and response limit
	memoryPoll       = 50 * time.Millisecond
)

// invocation is one request handed to an environment.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	traceID  string
	done     chan result // buffered: the runtime's answer, at most one
}

type result struct {
	payload []byte
	err     error
}

// environment is one execution environment: a bootstrap process and the Runtime API it
// polls. It runs one invocation at a time.
type environment struct {
	fn       *Function
	proc     *procs.Process
	server   *http.Server
	tmpDir   func() error
	tmpfs    *procs.Tmpfs // nil: /tmp has no size limit
	expires  time.Time    // when its credentials expire; zero: never
	next     chan *invocation
	ready    chan struct{} // closed at the first GET /next: init is over
	initErr  chan *FunctionError
	oom      atomic.Bool
	killed   atomic.Bool
	running  atomic.Bool // initialising or invoked: the only times its memory can grow
	initOnce sync.Once
	stopOnce sync.Once

	mu      sync.Mutex
	current *invocation
}

// startEnvironment starts a bootstrap process and waits until it asks for its first
// invocation (init done), posts an init error, exits, or InitTimeout passes.
func (f *Function) startEnvironment(ctx context.Context, requestID string) (*environment, error) {
	bootstrap := filepath.Join(f.codeDir, "bootstrap")
	if _, err := os.Stat(bootstrap); err != nil {
		return nil, &FunctionError{Type: "Runtime.InvalidEntrypoint",
			Message: fmt.Sprintf("RequestId: %s Error: Couldn't find valid bootstrap(s): [%s]", requestID, bootstrap)}
	}
	e := &environment{
		fn:      f,
		next:    make(chan *invocation),
		ready:   make(chan struct{}),
		initErr: make(chan *FunctionError, 1),
	}
	creds, err := f.credentials(ctx)
	if err != nil {
		return nil, err
	}
	if creds.CanExpire {
		e.expires = creds.Expires
	}
	tmp, removeTmp, err := procs.MkdirTemp("mediastack-lambda-tmp-*")
	if err != nil {
		return nil, err
	}
	e.tmpDir = removeTmp
	// Lambda's /tmp is a volume of the function's ephemeral storage size.
	switch e.tmpfs, err = procs.MountTmpfs(tmp, f.spec.EphemeralStorageMB); {
	case errors.Is(err, procs.ErrNoTmpfs):
		f.warnOnce.Do(func() {
			log.Printf("functions: %s: /tmp without its %d MB limit: %v", f.spec.Name, f.spec.EphemeralStorageMB, err)
		})
	case err != nil:
		_ = removeTmp()
		return nil, err
	}
	if e.tmpfs != nil {
		e.tmpDir = func() error { return errors.Join(e.tmpfs.Unmount(), removeTmp()) }
	}
	// A listener of our own: the address is known before the process starts, with no race
	// for a free port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = e.tmpDir()
		return nil, fmt.Errorf("runtime API listener: %w", err)
	}
	e.server = &http.Server{Handler: e.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.server.Serve(ln) }()

	e.proc, err = procs.Start(procs.Spec{
		Name: "lambda-" + f.spec.Name,
		Path: bootstrap,
		Env:  f.environ(ln.Addr().String(), tmp, creds),
		Dir:  f.codeDir,
	})
	if err != nil {
		e.server.Close()
		_ = e.tmpDir()
		return nil, err
	}
	e.running.Store(true)
	go e.watchMemory()
	// Registered from now on, so that Close stops it even while it initialises.
	if err := f.register(e); err != nil {
		_ = e.stop()
		return nil, err
	}

	timer := time.NewTimer(f.spec.InitTimeout)
	defer timer.Stop()
	select {
	case <-e.ready:
		e.running.Store(false)
		return e, nil
	case ierr := <-e.initErr:
		e.kill()
		f.release(e)
		return nil, ierr
	case <-e.proc.Done():
		err := e.exitError(requestID)
		f.release(e)
		return nil, err
	case <-timer.C:
		e.kill()
		f.release(e)
		return nil, &FunctionError{Type: "Sandbox.Timedout",
			Message: fmt.Sprintf("RequestId: %s Error: Init timed out after %.2f seconds", requestID, f.spec.InitTimeout.Seconds())}
	case <-ctx.Done():
		e.kill()
		f.release(e)
		return nil, ctx.Err()
	}
}

// environ is the process environment Lambda gives a provided.al2023 runtime, then the
// caller's extra variables, which win.
func (f *Function) environ(runtimeAPI, tmpDir string, creds aws.Credentials) []string {
	s := &f.spec
	var env []string
	// procs.Start puts our own environment first; AWS_* variables of the developer's shell
	// (profiles, endpoints) must not reach the function, and an empty value is as unset to the
	// SDKs.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			env = append(env, k+"=")
		}
	}
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"AWS_LAMBDA_RUNTIME_API="+runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME="+s.Name,
		"AWS_LAMBDA_FUNCTION_VERSION="+s.Version,
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", s.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+s.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().UTC().Format("2006/01/02")+"/["+s.Version+"]local",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"_HANDLER="+s.Handler,
		"LAMBDA_TASK_ROOT="+f.codeDir,
		"LAMBDA_RUNTIME_DIR="+f.codeDir,
		"AWS_REGION="+s.Region,
		"AWS_DEFAULT_REGION="+s.Region,
		"TZ=:UTC",
		"TMPDIR="+tmpDir,
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken,
	)
	if s.ExtraEnv != nil {
		env = append(env, s.ExtraEnv(s)...)
	}
	return env
}

func (e *environment) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", e.handleNext)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", e.handleResponse)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", e.handleError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", e.handleInitError)
	return mux
}

// handleNext long-polls until an invocation is handed over.
func (e *environment) handleNext(w http.ResponseWriter, r *http.Request) {
	e.initOnce.Do(func() { close(e.ready) })
	select {
	case inv := <-e.next:
		e.mu.Lock()
		e.current = inv
		e.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(inv.deadline.UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", e.fn.spec.ARN)
		h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

// take returns the invocation id names if it is the current one, and clears it.
func (e *environment) take(w http.ResponseWriter, id string) *invocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	inv := e.current
	if inv == nil || inv.id != id {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return nil
	}
	e.current = nil
	return inv
}

func (e *environment) handleResponse(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	inv := e.take(w, r.PathValue("id"))
	if inv == nil {
		return
	}
	switch {
	case len(body) > maxPayload:
		inv.done <- result{err: &FunctionError{Type: "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxPayload)}}
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload too large")
		return
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		// A streamed response that failed midway reports its error in trailers.
		fe := &FunctionError{Type: r.Trailer.Get("Lambda-Runtime-Function-Error-Type")}
		if b, err := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body")); err == nil {
			fe = decodeFunctionError(b, fe.Type)
		}
		inv.done <- result{err: fe}
	default:
		inv.done <- result{payload: body}
	}
	w.WriteHeader(http.StatusAccepted)
}

func (e *environment) handleError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	inv := e.take(w, r.PathValue("id"))
	if inv == nil {
		return
	}
	inv.done <- result{err: decodeFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))}
	w.WriteHeader(http.StatusAccepted)
}

func (e *environment) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxPayload))
	select {
	case e.initErr <- decodeFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type")):
	default:
	}
	w.WriteHeader(http.StatusAccepted)
}

// decodeFunctionError reads the runtime's error document; a body that is not one is kept as
// the message, as Lambda does.
func decodeFunctionError(body []byte, headerType string) *FunctionError {
	fe := &FunctionError{}
	if err := json.Unmarshal(body, fe); err != nil {
		fe.Message = string(body)
	}
	if fe.Type == "" {
		fe.Type = headerType
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	fe.Payload = body
	return fe
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

// invoke hands inv to the runtime and waits for its answer, the deadline, or the process's
// end. delivered is false when the runtime never took the invocation, so that the caller
// may retry it on another environment.
func (e *environment) invoke(ctx context.Context, inv *invocation) (payload []byte, err error, delivered bool) {
	e.running.Store(true)
	defer e.running.Store(false)
	select {
	case e.next <- inv:
	case <-e.proc.Done():
		return nil, nil, false
	case <-ctx.Done():
		return nil, ctx.Err(), false
	}
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r := <-inv.done:
		return r.payload, r.err, true
	case <-timer.C:
		// Lambda stops the environment at the deadline; the next invoke gets a fresh one.
		e.kill()
		return nil, &FunctionError{Type: "Sandbox.Timedout",
			Message: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, e.fn.spec.Timeout.Seconds())}, true
	case <-e.proc.Done():
		return nil, e.exitError(inv.id), true
	case <-ctx.Done():
		e.kill()
		return nil, ctx.Err(), true
	}
}

// exitError reports the process's end as Lambda does; valid once the process is done.
func (e *environment) exitError(requestID string) *FunctionError {
	<-e.proc.Done()
	exitErr := e.proc.ExitErr()
	if e.oom.Load() {
		return &FunctionError{Type: "Runtime.OutOfMemory",
			Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: signal: killed", requestID)}
	}
	var ee *exec.ExitError
	if exitErr == nil || !errors.As(exitErr, &ee) {
		return &FunctionError{Type: "Runtime.ExitError",
			Message: fmt.Sprintf("RequestId: %s Error: Runtime exited without providing a reason", requestID)}
	}
	return &FunctionError{Type: "Runtime.ExitError",
		Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", requestID, ee)}
}

// alive reports whether the process still runs and was not sent to its end.
func (e *environment) alive() bool {
	if e.killed.Load() {
		return false
	}
	select {
	case <-e.proc.Done():
		return false
	default:
		return true
	}
}

// watchMemory kills the environment when its processes together hold more than the
// function's memory, as Lambda's cgroup limit does. An idle environment is not scanned:
// Lambda freezes it between invocations.
func (e *environment) watchMemory() {
	limit := int64(e.fn.spec.MemoryMB) << 20
	ticker := time.NewTicker(memoryPoll)
	defer ticker.Stop()
	for {
		select {
		case <-e.proc.Done():
			return
		case <-ticker.C:
			if e.running.Load() && groupRSS(e.proc.PID()) > limit {
				e.oom.Store(true)
				e.kill()
				return
			}
		}
	}
}

// kill ends the process group at once, as Lambda ends a timed-out or out-of-memory sandbox.
func (e *environment) kill() {
	if e.alive() {
		e.killed.Store(true)
		_ = syscall.Kill(-e.proc.PID(), syscall.SIGKILL)
	}
}

// stop ends the process (SIGTERM, then SIGKILL), the Runtime API and the temp dir, and keeps
// the end of the process's output for Function.Logs.
func (e *environment) stop() error {
	var err error
	e.stopOnce.Do(func() {
		if e.proc != nil {
			// Read before Stop, which removes the log with the process's temp dir.
			e.fn.keepLog(e.proc.Tail(logLines))
			err = e.proc.Stop()
		}
		e.server.Close()
		err = errors.Join(err, e.tmpDir())
	})
	return err
}
