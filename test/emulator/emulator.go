// Package emulator runs moto_server, the local AWS API emulator, for tests and for the local
// stack, and hands out isolated namespaces so that tests can share one emulator in parallel.
package emulator

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mediastack/terraform-aws-mediastack/test/localtls"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Options configure an emulator.
type Options struct {
	// EnforceIAM makes moto authenticate and authorise every request after a bootstrap, as
	// IAM does: a missing permission fails the call. See Emulator.AdminCredentials.
	EnforceIAM bool
	// Region is the default region of namespaces; us-east-1 when empty.
	Region string
}

// Emulator is a running moto_server on a loopback port.
type Emulator struct {
	opts      Options
	url       string
	proc      *procs.Process
	ca        *localtls.CA
	removeDir func() error
	admin     *Namespace // set with EnforceIAM
}

// StartTimeout bounds how long Start waits for moto to answer.
const StartTimeout = 60 * time.Second

// bootstrapActions is how many unauthenticated calls the IAM bootstrap makes (AssumeRole,
// CreateUser, PutUserPolicy, CreateAccessKey); moto authenticates every call after those.
const bootstrapActions = 4

// motoServerScript is moto_server with bucket policies evaluated against the request; see
// the script's own comment.
//
//go:embed moto_server.py
var motoServerScript []byte

// PythonEnv names the Python interpreter that has moto installed; python3 by default.
const PythonEnv = "MEDIASTACK_PYTHON"

func python() string {
	if p := os.Getenv(PythonEnv); p != "" {
		return p
	}
	return "python3"
}

// Start starts moto_server on a free loopback port and waits until it answers.
func Start(ctx context.Context, opts Options) (*Emulator, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if err := exec.Command(python(), "-c", "import moto.server").Run(); err != nil {
		return nil, fmt.Errorf("%s cannot import moto.server (%v): install the emulator with pip install 'moto[server]>=5.2' (scripts/setup checks for it)", python(), err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ { // another process may take the port in between
		e, err := start(ctx, opts)
		if err == nil {
			return e, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, opts Options) (_ *Emulator, err error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	// HTTPS like AWS: bucket policies that deny requests without TLS are enforced by moto.
	dir, removeDir, err := procs.MkdirTemp("mediastack-emulator-*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = removeDir()
		}
	}()
	ca, err := localtls.NewCA(dir)
	if err != nil {
		return nil, err
	}
	certPath, keyPath, err := ca.Issue("moto", "127.0.0.1", "localhost")
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "moto_server.py")
	if err := os.WriteFile(script, motoServerScript, 0o644); err != nil {
		return nil, err
	}
	env := []string{"MOTO_ALLOW_NONEXISTENT_REGION=false"}
	if opts.EnforceIAM {
		env = append(env, "INITIAL_NO_AUTH_ACTION_COUNT="+strconv.Itoa(bootstrapActions))
	}
	p, err := procs.Start(procs.Spec{
		Name: "moto",
		Path: python(),
		Args: []string{script, "-H", "127.0.0.1", "-p", strconv.Itoa(port), "-c", certPath, "-k", keyPath},
		Env:  env,
	})
	if err != nil {
		return nil, err
	}
	e := &Emulator{opts: opts, url: fmt.Sprintf("https://127.0.0.1:%d", port), proc: p, ca: ca, removeDir: removeDir}
	waitCtx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	if err := procs.WaitHTTP(waitCtx, p, ca.HTTPClient(), e.url+"/moto-api/", http.StatusOK); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	if opts.EnforceIAM {
		admin, err := e.bootstrapAdmin(ctx)
		if err != nil {
			_ = p.Stop()
			return nil, fmt.Errorf("bootstrap IAM enforcement: %w", err)
		}
		e.admin = admin
	}
	return e, nil
}

// StartT starts an emulator for one test, stopped at cleanup.
func StartT(t testing.TB, opts Options) *Emulator {
	t.Helper()
	e, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last output of moto_server:\n%s", e.proc.Tail(30))
		}
		if err := e.Stop(); err != nil {
			t.Errorf("stop emulator: %v", err)
		}
	})
	return e
}

// URL is the emulator's endpoint, e.g. https://127.0.0.1:41234.
func (e *Emulator) URL() string { return e.url }

// Region is the default region of the emulator's namespaces.
func (e *Emulator) Region() string { return e.opts.Region }

// PID is moto_server's process id.
func (e *Emulator) PID() int { return e.proc.PID() }

// Stop stops moto_server and removes its certificates.
func (e *Emulator) Stop() error { return errors.Join(e.proc.Stop(), e.removeDir()) }

// CA is the certificate authority the emulator's certificate comes from; clients trust it
// through CABundle or CA().HTTPClient().
func (e *Emulator) CA() *localtls.CA { return e.ca }

// CABundle is the path of the CA certificate (PEM), for AWS_CA_BUNDLE.
func (e *Emulator) CABundle() string { return e.ca.BundlePath }

// Logs returns the emulator's last output lines, for failure reports.
func (e *Emulator) Logs(lines int) string { return e.proc.Tail(lines) }

// AdminCredentials returns the credentials of the IAM user that may do everything, in
// enforcing mode; ok is false otherwise.
func (e *Emulator) AdminCredentials() (creds aws.Credentials, ok bool) {
	if e.admin == nil {
		return aws.Credentials{}, false
	}
	return e.admin.Credentials, true
}

// serviceAccessKeys are the access keys the emulator takes for an AWS service principal
// (moto_server.py's SERVICE_ACCESS_KEYS).
var serviceAccessKeys = map[string]string{"cloudfront.amazonaws.com": "AKIASERVICECLOUDFRONT"}

// ServiceCredentials returns the credentials with which a request to S3 on the emulator is
// made by the AWS service principal service (e.g. cloudfront.amazonaws.com), as the local
// cloud's stand-ins for those services make them: only bucket policy statements naming
// {"Service": service} let it in, with aws:SourceArn and aws:SourceAccount taken from the
// signed X-Amz-Source-Arn and X-Amz-Source-Account headers. ok is false for a service the
// emulator does not stand in for.
func ServiceCredentials(service string) (creds aws.Credentials, ok bool) {
	key, ok := serviceAccessKeys[service]
	if !ok {
		return aws.Credentials{}, false
	}
	return aws.Credentials{AccessKeyID: key, SecretAccessKey: "service-principal", Source: "mediastack emulator"}, true
}

var (
	shared     *Emulator
	sharedErr  error
	sharedOnce sync.Once
)

// Shared returns the test binary's shared, non-enforcing emulator, started on first use.
// Packages that use it stop it from TestMain with RunMain; if they don't, or the binary is
// killed, the process guardian stops it when the binary exits.
func Shared(t testing.TB) *Emulator {
	t.Helper()
	sharedOnce.Do(func() {
		shared, sharedErr = Start(context.Background(), Options{})
	})
	if sharedErr != nil {
		t.Fatalf("shared emulator: %v", sharedErr)
	}
	return shared
}

// RunMain runs the tests and stops the shared emulator: os.Exit(emulator.RunMain(m)).
func RunMain(m *testing.M) int {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop shared emulator: %v\n", err)
		}
	}
	return code
}
