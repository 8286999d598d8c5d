package procs

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopKillsTheWholeGroup(t *testing.T) {
	dir := TempDir(t, "procs-test-*")
	pidFile := filepath.Join(dir, "grandchild.pid")
	// The child starts a grandchild that ignores SIGTERM, then waits.
	p := StartT(t, Spec{
		Name: "group",
		Path: "/bin/sh",
		Args: []string{"-c", `sh -c 'trap "" TERM; echo $$ > ` + pidFile + `; while :; do sleep 1; done' & wait`},
	})
	// Until the shell has written the pid: the file exists, empty, a moment before.
	var data []byte
	require.Eventually(t, func() bool {
		var err error
		data, err = os.ReadFile(pidFile)
		return err == nil && strings.HasSuffix(string(data), "\n")
	}, 5*time.Second, 20*time.Millisecond)
	grandchild, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)

	require.NoError(t, p.Stop())
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the process exited")
	}
	assert.Eventually(t, func() bool { return syscall.Kill(grandchild, 0) != nil || zombie(grandchild) }, 10*time.Second, 50*time.Millisecond,
		"a grandchild that ignores SIGTERM must be killed with the group")
	assert.NoFileExists(t, p.LogPath(), "the process's temp dir goes with it")
	assert.NoError(t, p.Stop(), "a second Stop does nothing")
}

func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	return strings.Contains(string(stat[strings.LastIndexByte(string(stat), ')'):]), ") Z")
}

func TestWaitHTTPReportsAnEarlyExit(t *testing.T) {
	p := StartT(t, Spec{Name: "quitter", Path: "/bin/sh", Args: []string{"-c", "echo cannot bind port >&2; exit 3"}})
	port, err := FreePort()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = WaitHTTP(ctx, p, nil, "http://127.0.0.1:"+strconv.Itoa(port)+"/", http.StatusOK)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "quitter exited")
	assert.Contains(t, err.Error(), "cannot bind port", "the error carries the process's last output")
}

func TestStartReportsAMissingExecutable(t *testing.T) {
	_, err := Start(Spec{Name: "ghost", Path: "no-such-command-here"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ghost")
}

func TestMkdirTemp(t *testing.T) {
	dir, remove, err := MkdirTemp("procs-test-*")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	require.NoError(t, remove())
	assert.NoDirExists(t, dir)
	assert.NoError(t, remove(), "removing twice is harmless")
	assert.NotZero(t, GuardianPID(), "the guardian runs once something was registered")
}

func TestTmpfsLimitsWritesAndFills(t *testing.T) {
	if err := TmpfsAvailable(); err != nil {
		t.Skip(err) // not root: the local cloud runs functions without the size limit
	}
	dir := TempDir(t, "procs-tmpfs-*")
	m, err := MountTmpfs(dir, 1)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, m.Unmount()) })

	err = os.WriteFile(filepath.Join(dir, "too-big"), make([]byte, 2<<20), 0o600)
	assert.ErrorIs(t, err, syscall.ENOSPC, "a write past the size fails")
	require.NoError(t, os.Remove(filepath.Join(dir, "too-big")))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "first"), make([]byte, 64<<10), 0o600))
	require.NoError(t, m.Fill())
	err = os.WriteFile(filepath.Join(dir, "second"), make([]byte, 64<<10), 0o600)
	assert.ErrorIs(t, err, syscall.ENOSPC, "once filled, the next write fails")
	data, err := os.ReadFile(filepath.Join(dir, "first"))
	require.NoError(t, err)
	assert.Len(t, data, 64<<10, "what was written stays")

	require.NoError(t, m.Unmount())
	assert.NoError(t, m.Unmount(), "unmounting twice is harmless")
	assert.NoFileExists(t, filepath.Join(dir, "first"), "the files went with the volume")
}

// StopWithin gives a process that finishes its work on SIGTERM longer than Stop's grace, and
// its context cuts that grace short.
func TestStopWithinGivesItsGrace(t *testing.T) {
	dir := TempDir(t, "procs-test-*")
	// Longer than StopTimeout after SIGTERM, then the work is done.
	finisher := func(name string) (*Process, string) {
		done := filepath.Join(dir, name)
		return StartT(t, Spec{Name: name, Path: "/bin/sh", Args: []string{"-c",
			`trap 'sleep 6; echo finished > ` + done + `; exit 0' TERM; echo up; while :; do sleep 1; done`}}), done
	}
	up := func(p *Process) {
		require.Eventually(t, func() bool { return strings.Contains(string(p.Output()), "up") }, 5*time.Second, 20*time.Millisecond)
	}

	p, done := finisher("graceful")
	up(p)
	require.NoError(t, p.StopWithin(context.Background(), time.Minute))
	assert.NoError(t, p.ExitErr(), "it exited by itself")
	assert.FileExists(t, done, "its work finished")

	p, done = finisher("cut")
	up(p)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	require.NoError(t, p.StopWithin(ctx, time.Minute))
	assert.Error(t, p.ExitErr(), "it was killed")
	assert.NoFileExists(t, done)
}
