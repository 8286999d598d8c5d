// Command localcloud keeps the platform running on this machine for manual use, behind
// `make up` and `make down`:
//
//	localcloud up     start it in the background; returns once .local/endpoints.json is written
//	                  (MEDIASTACK_REGIONS=us-east-1,eu-west-1 for more regions than one, the
//	                  home first: a state each, as examples/multi-region stamps them)
//	localcloud down   tear it down (terraform destroy, every process stopped) and wait
//	localcloud serve  run it in the foreground until SIGINT/SIGTERM (what up starts)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
	"github.com/mediastack/terraform-aws-mediastack/test/localdeploy"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

const usage = "usage: localcloud up | down | serve"

// UpTimeout bounds how long up waits for the stack: apply (of every region's state) and the
// fleets' health checks.
const UpTimeout = 20 * time.Minute

// DownTimeout bounds how long down waits for the teardown.
const DownTimeout = 16 * time.Minute

// RegionsEnv names the regions to bring up, comma-separated, the home first.
const RegionsEnv = "MEDIASTACK_REGIONS"

func regions() []string {
	var out []string
	for _, r := range strings.Split(os.Getenv(RegionsEnv), ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	root, err := target.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "localcloud: %v\n", err)
		os.Exit(1)
	}
	dir := filepath.Join(root, ".local")
	switch os.Args[1] {
	case "up":
		err = up(dir)
	case "down":
		err = down(dir)
	case "serve":
		err = serve(dir)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "localcloud: %v\n", err)
		os.Exit(1)
	}
}

func paths(dir string) (pidFile, endpoints, logFile string) {
	return filepath.Join(dir, "localcloud.pid"), filepath.Join(dir, "endpoints.json"), filepath.Join(dir, "localcloud.log")
}

// running returns the pid of a running serve process, or 0.
func running(pidFile string) int {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0
	}
	return pid
}

// alive reports whether pid runs. An exited process whose parent is gone may stay a zombie
// until init reaps it, and some containers' init never does: a zombie counts as gone.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}

func up(dir string) error {
	pidFile, endpoints, logFile := paths(dir)
	if pid := running(pidFile); pid != 0 {
		fmt.Printf("already up (pid %d): %s\n", pid, endpoints)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_ = os.Remove(endpoints)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	log, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(self, "serve")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives this command and its terminal
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Printf("starting the stack (pid %d, log %s)...\n", cmd.Process.Pid, logFile)
	deadline := time.After(UpTimeout)
	for {
		select {
		case err := <-exited:
			_ = os.Remove(pidFile)
			return fmt.Errorf("the stack did not come up (%v); its log:\n%s", err, tail(logFile, 40))
		case <-deadline:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return fmt.Errorf("the stack was not up after %s; stopping it. Its log: %s", UpTimeout, logFile)
		case <-time.After(time.Second):
			if _, err := os.Stat(endpoints); err == nil {
				data, _ := os.ReadFile(endpoints)
				fmt.Printf("up. %s:\n%s\n", endpoints, data)
				var e localcloud.Endpoints
				if json.Unmarshal(data, &e) == nil && e.WebAppURL != "" {
					// The distribution's name is the local cloud's: browsers reach it through the proxy.
					fmt.Printf("The web app: %s\nOpen it through the local proxy, e.g.:\n  chromium --proxy-server=%s --ignore-certificate-errors --user-data-dir=$(mktemp -d) %s\n", e.WebAppURL, e.HTTPProxy, e.WebAppURL)
				}
				fmt.Println("Stop it with: make down")
				return nil
			}
		}
	}
}

func serve(dir string) error {
	_, endpoints, _ := paths(dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stack, err := localdeploy.Up(ctx, localdeploy.Options{
		Regions: regions(),
		Stage: func(name string, fn func() error) error {
			fmt.Printf("==> %s\n", name)
			began := time.Now()
			err := fn()
			fmt.Printf("    %s (%s)\n", map[bool]string{true: "done", false: "failed"}[err == nil], time.Since(began).Round(100*time.Millisecond))
			return err
		},
		Logf: func(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	if err := stack.WriteEndpoints(endpoints); err != nil {
		return errors.Join(err, stack.Down(context.WithoutCancel(ctx)))
	}
	fmt.Printf("up; endpoints in %s\n", endpoints)
	<-ctx.Done()
	fmt.Println("tearing down")
	return errors.Join(os.Remove(endpoints), stack.Down(context.WithoutCancel(ctx)))
}

func down(dir string) error {
	pidFile, _, logFile := paths(dir)
	pid := running(pidFile)
	if pid == 0 {
		_ = os.Remove(pidFile)
		fmt.Println("nothing is up")
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	fmt.Printf("tearing down (pid %d)...\n", pid)
	deadline := time.Now().Add(DownTimeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d still running after %s; its log: %s", pid, DownTimeout, logFile)
		}
		time.Sleep(500 * time.Millisecond)
	}
	_ = os.Remove(pidFile)
	fmt.Printf("down. The teardown's log:\n%s\n", tail(logFile, 8))
	return nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
