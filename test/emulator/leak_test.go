package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// The leak test runs this test binary again, in a child, on TestLeakVictim: a test that
// starts an emulator and a temp dir, records them, and then ends badly in the way the parent
// asks. The parent then proves that nothing the victim started survived it.
const (
	victimModeEnv   = "MEDIASTACK_LEAK_VICTIM_MODE"
	victimRecordEnv = "MEDIASTACK_LEAK_VICTIM_RECORD"
)

type victimRecord struct {
	EmulatorPID int    `json:"emulator_pid"`
	GuardianPID int    `json:"guardian_pid"`
	Port        int    `json:"port"`
	TempDir     string `json:"temp_dir"`
}

func TestLeakVictim(t *testing.T) {
	mode := os.Getenv(victimModeEnv)
	if mode == "" {
		t.Skip("run only by TestNothingLeaks")
	}
	e := emulator.StartT(t, emulator.Options{})
	dir := procs.TempDir(t, "leak-victim-*")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644))
	port, err := strconv.Atoi(e.URL()[strings.LastIndex(e.URL(), ":")+1:])
	require.NoError(t, err)
	rec, err := json.Marshal(victimRecord{EmulatorPID: e.PID(), GuardianPID: procs.GuardianPID(), Port: port, TempDir: dir})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(os.Getenv(victimRecordEnv), rec, 0o644)) //nolint:gosec // a path or program of the test harness itself

	switch mode {
	case "fail":
		t.Fatal("the victim fails on purpose")
	case "panic":
		panic("the victim panics on purpose")
	case "hang", "kill":
		time.Sleep(time.Hour) // ended by -test.timeout, or by SIGKILL from the parent
	}
}

func TestNothingLeaks(t *testing.T) {
	if os.Getenv(victimModeEnv) != "" {
		t.Skip("not inside the victim")
	}
	for _, mode := range []string{"fail", "panic", "hang", "kill"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			recordPath := filepath.Join(t.TempDir(), "record.json")
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			// The hang ends by -test.timeout, which must leave moto time to start while the
			// rest of the suite loads the machine (seen: over 25 s in CI); the other modes end
			// by themselves well before it.
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLeakVictim$", "-test.count=1", "-test.timeout=75s") //nolint:gosec // a path or program of the test harness itself
			cmd.Env = append(os.Environ(), victimModeEnv+"="+mode, victimRecordEnv+"="+recordPath)
			require.NoError(t, cmd.Start())

			if mode == "kill" {
				waitForFile(t, recordPath, time.Minute)
				require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			}
			err := cmd.Wait()
			require.Error(t, err, "the victim must end in failure")

			var rec victimRecord
			data, readErr := os.ReadFile(recordPath)
			require.NoError(t, readErr, "the victim must have recorded what it started")
			require.NoError(t, json.Unmarshal(data, &rec))

			assert.Eventually(t, func() bool { return !alive(rec.EmulatorPID) }, 15*time.Second, 100*time.Millisecond, "moto_server (pid %d) outlived the victim", rec.EmulatorPID)
			assert.Eventually(t, func() bool { return !alive(rec.GuardianPID) }, 15*time.Second, 100*time.Millisecond, "the guardian (pid %d) outlived its work", rec.GuardianPID)
			assert.Eventually(t, func() bool { return !listening(rec.Port) }, 15*time.Second, 100*time.Millisecond, "port %d is still open", rec.Port)
			assert.Eventually(t, func() bool {
				_, err := os.Stat(rec.TempDir)
				return errors.Is(err, os.ErrNotExist)
			}, 15*time.Second, 100*time.Millisecond, "temp dir %s is still there", rec.TempDir)
		})
	}
}

// alive reports whether pid is a running process; a zombie counts as gone, since its
// resources are released and only its parent's wait is missing.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func listening(port int) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 500*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func waitForFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		info, err := os.Stat(path)
		return err == nil && info.Size() > 0
	}, timeout, 50*time.Millisecond, "the victim never recorded what it started")
}
