// Package procs starts the processes and temp dirs a test or the local cloud needs and binds
// them to the lifetime of this process: they are stopped and removed on every exit path, a
// passing test, a failing one, a panic, `go test -timeout` (which exits from a timer without
// running t.Cleanup) and even SIGKILL.
//
// The last two are the work of a guardian: one small shell process per Go process, in its own
// process group, reading a pipe whose write end only this process holds. Every child's process
// group and every temp dir is registered with it. When this process dies for any reason the
// kernel closes the pipe; the guardian sees EOF, kills the registered groups and removes the
// registered dirs, then exits.
package procs

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// guardianScript keeps three newline-separated registries (process groups, mounts, dirs)
// from the commands read on stdin, and on EOF cleans up whatever is still registered, in
// that order: a mount is detached before the dir under it is removed.
const guardianScript = `
pgids=''
dirs=''
mnts=''
nl='
'
while IFS= read -r line; do
  case "$line" in
    'pgid '*)   pgids="$pgids${line#pgid }$nl" ;;
    'unpgid '*) pgids=$(printf '%s' "$pgids" | grep -vx -- "${line#unpgid }")$nl ;;
    'dir '*)    dirs="$dirs${line#dir }$nl" ;;
    'undir '*)  dirs=$(printf '%s' "$dirs" | grep -vxF -- "${line#undir }")$nl ;;
    'mnt '*)    mnts="$mnts${line#mnt }$nl" ;;
    'unmnt '*)  mnts=$(printf '%s' "$mnts" | grep -vxF -- "${line#unmnt }")$nl ;;
  esac
done
printf '%s' "$pgids" | while IFS= read -r p; do [ -n "$p" ] && kill -TERM "-$p" 2>/dev/null; done
if [ -n "$(printf '%s' "$pgids" | tr -d '\n')" ]; then sleep 1; fi
printf '%s' "$pgids" | while IFS= read -r p; do [ -n "$p" ] && kill -KILL "-$p" 2>/dev/null; done
printf '%s' "$mnts" | while IFS= read -r m; do [ -n "$m" ] && umount -l -- "$m" 2>/dev/null; done
printf '%s' "$dirs" | while IFS= read -r d; do [ -n "$d" ] && rm -rf -- "$d"; done
exit 0
`

type guardian struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	w   io.WriteCloser
}

var theGuardian guardian

// send registers or unregisters something with the guardian, starting it on first use.
func (g *guardian) send(verb, arg string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w == nil {
		cmd := exec.Command("/bin/sh", "-c", guardianScript)
		// Its own group, so that killing a child's group never reaches it, and no inherited
		// stdout: `go test` waits for the test binary's output pipe to close.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		w, err := cmd.StdinPipe()
		if err != nil {
			return fmt.Errorf("guardian pipe: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start guardian: %w", err)
		}
		g.cmd, g.w = cmd, w
	}
	if _, err := fmt.Fprintf(g.w, "%s %s\n", verb, arg); err != nil {
		return fmt.Errorf("talk to guardian: %w", err)
	}
	return nil
}

// GuardianPID returns the pid of this process's guardian, 0 when none was needed yet.
// Tests use it to prove that the guardian leaves no process behind either.
func GuardianPID() int {
	theGuardian.mu.Lock()
	defer theGuardian.mu.Unlock()
	if theGuardian.cmd == nil {
		return 0
	}
	return theGuardian.cmd.Process.Pid
}

func guardGroup(pgid int) error     { return theGuardian.send("pgid", fmt.Sprint(pgid)) }
func unguardGroup(pgid int) error   { return theGuardian.send("unpgid", fmt.Sprint(pgid)) }
func guardDir(dir string) error     { return theGuardian.send("dir", dir) }
func unguardDir(dir string) error   { return theGuardian.send("undir", dir) }
func guardMount(dir string) error   { return theGuardian.send("mnt", dir) }
func unguardMount(dir string) error { return theGuardian.send("unmnt", dir) }

// MkdirTemp creates a temp dir that is removed by the returned function, or by the guardian
// if this process dies first.
func MkdirTemp(pattern string) (dir string, remove func() error, err error) {
	dir, err = os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, err
	}
	if err := guardDir(dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	var once sync.Once
	remove = func() error {
		var rmErr error
		once.Do(func() {
			rmErr = os.RemoveAll(dir)
			if err := unguardDir(dir); rmErr == nil {
				rmErr = err
			}
		})
		return rmErr
	}
	return dir, remove, nil
}

// TempDir is MkdirTemp for a test: removed at cleanup, or by the guardian.
func TempDir(t TB, pattern string) string {
	t.Helper()
	dir, remove, err := MkdirTemp(pattern)
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	t.Cleanup(func() {
		if err := remove(); err != nil {
			t.Errorf("remove temp dir: %v", err)
		}
	})
	return dir
}

// TB is the part of testing.TB this package uses.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
	Failed() bool
}
