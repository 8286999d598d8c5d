package functions

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// TestInvoke runs the test function through the Runtime API: responses, errors as Lambda
// reports them, and environments replaced after a timeout, a crash or memory exhaustion.
func TestInvoke(t *testing.T) {
	t.Parallel()
	testFunction(t)

	t.Run("warm environment reused", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{ARN: "arn:aws:lambda:us-east-1:123456789012:function:fn", Timeout: 5 * time.Second})
		start := time.Now()
		first, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		second, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		assert.Equal(t, first.PID, second.PID, "the second invoke runs in the warm environment")
		assert.NotEqual(t, first.RequestID, second.RequestID)
		assert.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:fn", first.FunctionARN)
		assert.WithinDuration(t, start.Add(5*time.Second), first.Deadline, 2*time.Second, "the deadline is the function's timeout")
		assert.Equal(t, 1, fn.Environments())
	})

	t.Run("function error keeps the environment", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{})
		before, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		_, err = invoke(t, fn, "error")
		fe := functionError(t, err)
		assert.Equal(t, "errorString", fe.Type)
		assert.Equal(t, "failed on purpose", fe.Message)
		assert.JSONEq(t, `{"errorType":"errorString","errorMessage":"failed on purpose"}`, string(fe.Payload))
		after, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		assert.Equal(t, before.PID, after.PID)
	})

	t.Run("crash is Runtime.ExitError and replaced", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{})
		before, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		_, err = invoke(t, fn, "crash")
		fe := functionError(t, err)
		assert.Equal(t, "Runtime.ExitError", fe.Type)
		assert.Regexp(t, `^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$`, fe.Message)
		after, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		assert.NotEqual(t, before.PID, after.PID, "a fresh environment")
		assert.Equal(t, 1, fn.Environments())
	})

	t.Run("timeout kills the environment", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{Timeout: time.Second})
		before, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		start := time.Now()
		_, err = invoke(t, fn, "sleep:30")
		elapsed := time.Since(start)
		fe := functionError(t, err)
		assert.Equal(t, "Sandbox.Timedout", fe.Type)
		assert.Regexp(t, `^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$`, fe.Message)
		assert.Less(t, elapsed, 20*time.Second, "ended by the 1 s timeout, not by the 30 s sleep")
		assert.ErrorIs(t, syscall.Kill(before.PID, 0), syscall.ESRCH, "the timed-out process is gone")
		after, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		assert.NotEqual(t, before.PID, after.PID)
	})

	t.Run("killed mid-invocation", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{Timeout: 30 * time.Second})
		failed := make(chan error, 1)
		go func() {
			_, err := invoke(t, fn, "sleep:20")
			failed <- err
		}()
		isSleep := func(p []byte) bool { return strings.Contains(string(p), "sleep") }
		require.Eventually(t, func() bool { return fn.KillInvocations(isSleep) == 1 }, 10*time.Second, 20*time.Millisecond,
			"the runtime takes the invocation and is killed")
		select {
		case err := <-failed:
			fe := functionError(t, err)
			assert.Equal(t, "Runtime.ExitError", fe.Type)
			assert.Regexp(t, `Runtime exited with error: signal: killed$`, fe.Message)
		case <-time.After(10 * time.Second):
			require.FailNow(t, "the killed invocation did not end")
		}
		assert.Zero(t, fn.KillInvocations(isSleep), "nothing else runs")
		_, err := invoke(t, fn, "ok")
		require.NoError(t, err, "a fresh environment takes the next invoke")
	})

	t.Run("ephemeral storage is limited and can be filled", func(t *testing.T) {
		t.Parallel()
		if err := procs.TmpfsAvailable(); err != nil {
			t.Skip(err) // not root: /tmp runs without its limit
		}
		fn := newFunction(t, Spec{EphemeralStorageMB: 8, Timeout: 20 * time.Second})
		_, err := invoke(t, fn, "write:4")
		require.NoError(t, err, "a job that fits its /tmp")
		_, err = invoke(t, fn, "write:16")
		assert.Contains(t, functionError(t, err).Message, "no space left on device", "a job larger than its /tmp")

		failed := make(chan error, 1)
		go func() {
			_, err := invoke(t, fn, "writeafter:2")
			failed <- err
		}()
		isWriter := func(p []byte) bool { return strings.Contains(string(p), "writeafter") }
		require.Eventually(t, func() bool {
			n, err := fn.FillEphemeralStorage(isWriter)
			require.NoError(t, err)
			return n == 1
		}, 10*time.Second, 20*time.Millisecond, "the runtime takes the invocation and its /tmp is filled")
		select {
		case err := <-failed:
			assert.Contains(t, functionError(t, err).Message, "no space left on device", "the invocation's next write fails")
		case <-time.After(20 * time.Second):
			require.FailNow(t, "the invocation did not end")
		}
		_, err = invoke(t, fn, "write:1")
		assert.Error(t, err, "the environment's /tmp stays full")
	})

	t.Run("memory limit kills the environment", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{MemoryMB: 64, Timeout: 20 * time.Second})
		before, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		start := time.Now()
		_, err = invoke(t, fn, "alloc:256")
		fe := functionError(t, err)
		assert.Equal(t, "Runtime.OutOfMemory", fe.Type)
		assert.Regexp(t, `^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed$`, fe.Message)
		assert.Less(t, time.Since(start), 10*time.Second, "killed at the limit, not at the timeout")
		assert.ErrorIs(t, syscall.Kill(before.PID, 0), syscall.ESRCH)
		after, err := invoke(t, fn, "ok")
		require.NoError(t, err)
		assert.NotEqual(t, before.PID, after.PID)
	})

	t.Run("concurrency is capped", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{MaxConcurrency: 2, Timeout: 10 * time.Second})
		var mu sync.Mutex
		pids := map[int]int{}
		start := time.Now()
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				r, err := invoke(t, fn, "sleep:0.4")
				assert.NoError(t, err)
				mu.Lock()
				pids[r.PID]++
				mu.Unlock()
			})
		}
		wg.Wait()
		assert.Len(t, pids, 2, "two environments, each reused")
		assert.GreaterOrEqual(t, time.Since(start), 1200*time.Millisecond, "six 0.4 s invokes two at a time")
		assert.Equal(t, 2, fn.Environments())
	})

	t.Run("init failures", func(t *testing.T) {
		t.Parallel()
		exits := filepath.Join(codeDir, "exits.zip")
		writeZip(t, exits, map[string]string{"bootstrap": "#!/bin/sh\necho starting\nexit 1\n"})
		fn := newFunction(t, Spec{Name: "exits", CodeZip: exits})
		_, err := invoke(t, fn, "ok")
		fe := functionError(t, err)
		assert.Equal(t, "Runtime.ExitError", fe.Type)
		assert.Regexp(t, `^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 1$`, fe.Message)
		assert.Equal(t, 0, fn.Environments())
		assert.Contains(t, fn.Logs(), "starting", "the runtime's output is kept")

		missing := filepath.Join(codeDir, "missing.zip")
		writeZip(t, missing, map[string]string{"main.sh": "#!/bin/sh\n"})
		fn = newFunction(t, Spec{Name: "missing", CodeZip: missing})
		_, err = invoke(t, fn, "ok")
		assert.Equal(t, "Runtime.InvalidEntrypoint", functionError(t, err).Type)
	})

	t.Run("payload too large", func(t *testing.T) {
		t.Parallel()
		fn := newFunction(t, Spec{})
		big, _ := json.Marshal(map[string]string{"do": string(make([]byte, maxPayload))})
		_, err := fn.Invoke(context.Background(), big)
		assert.Equal(t, "RequestTooLargeException", functionError(t, err).Type)
		assert.Equal(t, 0, fn.Environments())
	})
}
