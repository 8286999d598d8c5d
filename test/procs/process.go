package procs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec describes a process to start.
type Spec struct {
	Name string   // short name for logs and errors, e.g. "moto"
	Path string   // executable, looked up in PATH when it has no slash
	Args []string // arguments, without the executable
	Env  []string // extra environment on top of this process's
	Dir  string   // working directory; empty: a temp dir of its own
}

// Process is a started child bound to this process's lifetime.
type Process struct {
	Name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
	stop    sync.Once
	cleanup func() error // removes the process's own temp dir
}

// StopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const StopTimeout = 5 * time.Second

// Start starts spec in its own process group, with stdout and stderr in a log file, and
// registers the group with the guardian.
func Start(spec Spec) (*Process, error) {
	path, err := exec.LookPath(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	dir, removeDir, err := MkdirTemp("mediastack-" + sanitize(spec.Name) + "-*")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "output.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		_ = removeDir()
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor

	cmd := exec.Command(path, spec.Args...)
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Dir = spec.Dir
	if cmd.Dir == "" {
		cmd.Dir = dir
	}
	// A file, not a pipe: a grandchild that keeps a pipe open would block Wait forever.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = removeDir()
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, cmd: cmd, logPath: logPath, done: make(chan struct{}), cleanup: removeDir}
	if err := guardGroup(cmd.Process.Pid); err != nil {
		p.killGroup(syscall.SIGKILL)
		_ = cmd.Wait()
		_ = removeDir()
		return nil, err
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// StartT starts spec for a test: stopped at cleanup, its last output logged when the test failed.
func StartT(t TB, spec Spec) *Process {
	t.Helper()
	p, err := Start(spec)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last output of %s:\n%s", p.Name, p.Tail(40))
		}
		if err := p.Stop(); err != nil {
			t.Errorf("stop %s: %v", p.Name, err)
		}
	})
	return p
}

// PID returns the process id, which is also its process group id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitErr returns how the process ended; valid once Done is closed.
func (p *Process) ExitErr() error { return p.waitErr }

// LogPath is the file holding the process's stdout and stderr.
func (p *Process) LogPath() string { return p.logPath }

// Stop sends SIGTERM to the process group, SIGKILL after StopTimeout, waits for the exit and
// removes the process's temp dir. Calling it again does nothing.
func (p *Process) Stop() error { return p.StopWithin(context.Background(), StopTimeout) }

// StopWithin is Stop with its own wait between SIGTERM and SIGKILL, for a process given a
// longer grace to finish its work (as systemd's TimeoutStopSec gives a service); the wait
// also ends, with SIGKILL, when ctx does.
func (p *Process) StopWithin(ctx context.Context, timeout time.Duration) error {
	var err error
	p.stop.Do(func() {
		select {
		case <-p.done:
		default:
			p.killGroup(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(timeout):
				p.killGroup(syscall.SIGKILL)
				<-p.done
			case <-ctx.Done():
				p.killGroup(syscall.SIGKILL)
				<-p.done
			}
		}
		// Children the process left in its group go too.
		p.killGroup(syscall.SIGKILL)
		err = errors.Join(unguardGroup(p.PID()), p.cleanup())
	})
	return err
}

func (p *Process) killGroup(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Tail returns the last n lines the process wrote.
func (p *Process) Tail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Output returns everything the process wrote so far.
func (p *Process) Output() []byte {
	data, _ := os.ReadFile(p.logPath)
	return data
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Callers that race
// with other processes retry on "address in use".
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitHTTP polls url with client (nil: a plain one) until it answers with status want, the
// process exits, or ctx ends. The error says which, with the process's last output.
func WaitHTTP(ctx context.Context, p *Process, client *http.Client, url string, want int) error {
	if client == nil {
		client = &http.Client{}
	}
	delay := 50 * time.Millisecond
	for {
		reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, url, nil)
		if err != nil {
			cancel()
			return err
		}
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before %s answered (%v); last output:\n%s", p.Name, url, p.waitErr, p.Tail(20))
		case <-ctx.Done():
			return fmt.Errorf("%s: %s did not answer %d: %w; last output:\n%s", p.Name, url, want, ctx.Err(), p.Tail(20))
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// OutputContains reports whether the process wrote s; used to recognise failures such as
// "Address already in use".
func (p *Process) OutputContains(s string) bool {
	return bytes.Contains(p.Output(), []byte(s))
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
}
