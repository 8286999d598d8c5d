// Command load deploys the root stack on this machine (the emulator plus the local cloud),
// drives it with virtual users (test/load) for a bounded time, prints progress and a
// scorecard, writes the scorecard as JSON, and tears the stack down. It is what `make load`
// runs. With -faults, failures are injected while the users act (see load.LocalStack); with
// -runs, several runs (of other sizes, with other faults) follow one another on the one
// deployment and are compared side by side. It exits non-zero when an acknowledged upload was lost, the stack answered 5xx outside the
// faults' windows, or a fault could not be injected or recovered from.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/test/load"
	"github.com/mediastack/terraform-aws-mediastack/test/localdeploy"
	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// multipartThreshold is the stack's for the run (S3's smallest part), so that the large clip
// goes in parts without weighing on the machine as a file of the default 100 MiB would.
const multipartThreshold = 5 << 20

func main() {
	users := flag.Int("users", 20, fmt.Sprintf("virtual users at once (1 to %d)", load.MaxUsers))
	duration := flag.Duration("duration", time.Minute, fmt.Sprintf("how long the users act (at most %s)", load.MaxDuration))
	drain := flag.Duration("drain", 3*time.Minute, "how long uploads in flight at the end are followed to ready or failed")
	uploadEvery := flag.Duration("upload-every", 15*time.Second, "how often each user uploads a clip (people watch far more than they upload)")
	out := flag.String("out", "", "where the scorecard's JSON goes (default build/load/scorecard.json)")
	faults := flag.String("faults", "", fmt.Sprintf("faults to inject, comma-separated, in turn: %s, or all", strings.Join(load.LocalFaultNames, ", ")))
	runsFlag := flag.String("runs", "", `several runs on one deployment, one after another, each USERS or USERS:FAULTS (FAULTS as -faults), space-separated: "1 20 20:all 100 100:all" compares idle, loaded and faulted; overrides -users and -faults, and each run's scorecard goes to build/load/runs/<run>.json`)
	flag.Parse()

	runs, err := parseRuns(*runsFlag, *users, *faults)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, runs, *duration, *drain, *uploadEvery, *out); err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
}

// runSpec is one run of the users on the deployment.
type runSpec struct {
	Users  int
	Faults []string
}

// Name is the run's as -runs writes it: "20", "100:kill-api,restart-db".
func (r runSpec) Name() string {
	if len(r.Faults) == 0 {
		return strconv.Itoa(r.Users)
	}
	return strconv.Itoa(r.Users) + ":" + strings.Join(r.Faults, ",")
}

// parseRuns reads -runs; without it, the one run of -users and -faults.
func parseRuns(runs string, users int, faults string) ([]runSpec, error) {
	if strings.TrimSpace(runs) == "" {
		return []runSpec{{Users: users, Faults: faultNames(faults)}}, nil
	}
	var specs []runSpec
	for field := range strings.FieldsSeq(runs) {
		u, f, _ := strings.Cut(field, ":")
		n, err := strconv.Atoi(u)
		if err != nil {
			return nil, fmt.Errorf("-runs: %q is not USERS or USERS:FAULTS (for example 20 or 20:kill-api,restart-db)", field)
		}
		specs = append(specs, runSpec{Users: n, Faults: faultNames(f)})
	}
	return specs, nil
}

// faultNames reads a list of faults: comma-separated names, or all.
func faultNames(flag string) []string {
	if flag == "all" {
		return load.LocalFaultNames
	}
	var names []string
	for name := range strings.SplitSeq(flag, ",") {
		if name = strings.TrimSpace(name); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// killedJobTimeout is the transcoder's timeout when a sandbox is to be killed: SQS
// redelivers the job after six times it, which the drain must cover.
const killedJobTimeout = 30 * time.Second

func run(ctx context.Context, runs []runSpec, duration, drain, uploadEvery time.Duration, out string) (err error) {
	root, err := target.RepoRoot()
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "build", "load", "scorecard.json")
	}
	// Refuse bad sizes before minutes of deployment.
	var allFaults []string
	for _, r := range runs {
		if err := (load.Options{Users: r.Users, Duration: duration, Clips: []string{"-"}, SignIn: func(context.Context, int) (*mediaclient.Client, error) { return nil, nil }}).Validate(); err != nil {
			return fmt.Errorf("run %s: %w", r.Name(), err)
		}
		if _, err := (load.LocalStack{}).Faults(r.Faults); err != nil {
			return fmt.Errorf("run %s: %w", r.Name(), err)
		}
		allFaults = append(allFaults, r.Faults...)
	}
	vars := map[string]any{"upload_api": map[string]any{"multipart_threshold_bytes": multipartThreshold}}
	if slices.Contains(allFaults, load.FaultKillSandbox) {
		// A killed job comes back after the queue's visibility timeout: a short one, with
		// chunks that fit in it, so that the drain sees the retry.
		vars["transcoder"] = map[string]any{"timeout": int(killedJobTimeout.Seconds()), "chunking": map[string]any{"chunk_seconds": 4, "above_seconds": 8}}
		drain = max(drain, 6*killedJobTimeout+time.Minute)
	}
	work, removeWork, err := procs.MkdirTemp("mediastack-load-*")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, removeWork()) }()
	small, large := filepath.Join(work, "small.mp4"), filepath.Join(work, "large.mp4")
	if err := localdeploy.PrintStage("make the clips: 2 s of 480p, and 8 s of 720p past the multipart threshold", func() error {
		if err := makeClip(ctx, small, "854x480", 2); err != nil {
			return err
		}
		return makeClip(ctx, large, "1280x720", 8)
	}); err != nil {
		return err
	}
	if info, err := os.Stat(large); err != nil {
		return err
	} else if info.Size() <= multipartThreshold {
		return fmt.Errorf("the large clip (%d bytes) must exceed the multipart threshold of %d bytes", info.Size(), multipartThreshold)
	}

	stack, err := localdeploy.Up(ctx, localdeploy.Options{
		Stage: localdeploy.PrintStage,
		Vars:  vars,
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stack.Down(context.WithoutCancel(ctx))) }()
	ep := stack.Endpoints
	feedURL := ep.APIViaCDNURL
	if feedURL == "" {
		feedURL = ep.UploadAPIURL
	}
	apiURL, apiClient, dns, err := load.APIThroughDNS(stack.Cloud, ep.UploadAPIURL, ep.APIDNSName)
	if err != nil {
		return err
	}
	fleet, _ := stack.Cloud.Fleet(localdeploy.Region)
	transcoder, err := stack.RegionOutput(localdeploy.Region, "transcoder_function_name")
	if err != nil {
		return err
	}
	local := load.LocalStack{Cloud: stack.Cloud, Emulator: stack.Emulator, Region: localdeploy.Region, TranscoderFunction: transcoder}

	var scores []load.Scorecard
	var verdicts []error
	for i, r := range runs {
		injected, err := local.Faults(r.Faults)
		if err != nil {
			return err
		}
		fmt.Printf("==> run %s: %d users for %s (then up to %s for uploads in flight), the API at %s\n", r.Name(), r.Users, duration, drain, apiURL)
		if len(r.Faults) > 0 {
			fmt.Printf("    faults, in turn: %s\n", strings.Join(r.Faults, ", "))
		}
		began := time.Now()
		// Small clips mostly; every fourth upload is the large one, in parts.
		clips := []string{small, small, small, large}
		score, err := load.Run(ctx, load.Options{
			Users: r.Users, Duration: duration, Drain: drain, Clips: clips, FeedURL: feedURL, UploadEvery: uploadEvery,
			SignIn: func(ctx context.Context, u int) (*mediaclient.Client, error) {
				// Users of their own in each run: a run's quotas are not the last one's.
				email := fmt.Sprintf("load-%d-%03d@example.com", i, u)
				token, err := stack.Cloud.SignIn(ctx, email, "Load-password-1!")
				return &mediaclient.Client{BaseURL: apiURL, Token: token, API: apiClient, Storage: stack.Target.HTTPClient()}, err
			},
			FleetSize: load.FleetSize(fleet, "upload-api"),
			Faults:    injected,
			Progress: func(s load.Scorecard) {
				fmt.Printf("    [%5.0fs] requests %d (5xx %d, no answer %d)  uploads %d: ready %d, failed %d  fleet %s\n",
					time.Since(began).Seconds(), s.Requests.Total, s.Requests.Errors5xx, s.Requests.Failed,
					s.Uploads.Attempted, s.Uploads.Ready, s.Uploads.Failed, lastFleet(s))
			},
		})
		if err != nil {
			return err
		}
		print(score)
		path := out
		if len(runs) > 1 {
			path = filepath.Join(filepath.Dir(out), "runs", strings.NewReplacer(":", "_", ",", "+").Replace(r.Name())+".json")
		}
		if err := write(path, score); err != nil {
			return err
		}
		fmt.Printf("scorecard: %s\n", path)
		scores = append(scores, score)
		if v := score.Verdict(); v != nil {
			verdicts = append(verdicts, fmt.Errorf("run %s: %w", r.Name(), v))
		}
	}
	if dns != nil {
		fmt.Printf("the API by its DNS name %s: %d lookups at the local Route 53\n", ep.APIDNSName, dns.Lookups())
	}
	if len(runs) > 1 {
		compare(runs, scores)
	}
	return errors.Join(verdicts...)
}

// compare shows the runs side by side, one line each.
func compare(runs []runSpec, scores []load.Scorecard) {
	fmt.Printf("\n%-32s %8s %6s %6s %6s %6s %5s %10s %10s  %s\n", "run", "requests", "5xx", "out", "ready", "failed", "lost", "ready p50", "ready p99", "fleet")
	for i, s := range scores {
		fmt.Printf("%-32s %8d %6d %6d %6d %6d %5d %9.1fs %9.1fs  %s\n", runs[i].Name(), s.Requests.Total, s.Requests.Errors5xx,
			s.Requests.Errors5xxOutsideFaults, s.Uploads.Ready, s.Uploads.Failed, s.Uploads.Lost, s.TimeToReady.P50, s.TimeToReady.P99, fleetOverTime(s.Fleet))
	}
}

func lastFleet(s load.Scorecard) string {
	if len(s.Fleet) == 0 {
		return "-"
	}
	return strconv.Itoa(s.Fleet[len(s.Fleet)-1].Instances)
}

// fleetOverTime shows each change of the fleet's size: "2 (0 s), 4 (41 s), 2 (150 s)".
func fleetOverTime(samples []load.FleetSample) string {
	var parts []string
	for i, f := range samples {
		if i == 0 || f.Instances != samples[i-1].Instances {
			parts = append(parts, fmt.Sprintf("%d (%.0f s)", f.Instances, f.AtS))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// print shows the scorecard as a table: the totals, then each route.
func print(s load.Scorecard) {
	fmt.Printf("\n%d users, %.0f s: %d requests, %d 5xx, %d without an answer\n", s.Users, s.DurationS, s.Requests.Total, s.Requests.Errors5xx, s.Requests.Failed)
	fmt.Printf("uploads: %d acknowledged, %d ready, %d failed, %d lost (%d refused before S3)\n", s.Uploads.Attempted, s.Uploads.Ready, s.Uploads.Failed, s.Uploads.Lost, s.Uploads.Refused)
	fmt.Printf("time to ready: p50 %.1f s, p99 %.1f s; CDN hit ratio %.2f of %d\n", s.TimeToReady.P50, s.TimeToReady.P99, s.CDN.HitRatio, s.CDN.Requests)
	fmt.Printf("5xx outside the faults' windows: %d; fleet size %s\n", s.Requests.Errors5xxOutsideFaults, fleetOverTime(s.Fleet))
	for _, f := range s.Faults {
		status := "recovered"
		if f.Error != "" {
			status = f.Error
		}
		fmt.Printf("fault %-15s %5.0f s to %5.0f s: %d 5xx; %s\n", f.Name, f.StartS, f.EndS, f.Errors5xx, status)
	}
	fmt.Printf("\n%-40s %7s %9s %9s %9s  %s\n", "route", "count", "p50 ms", "p95 ms", "p99 ms", "statuses")
	names := make([]string, 0, len(s.Routes))
	for name := range s.Routes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		r := s.Routes[name]
		fmt.Printf("%-40s %7d %9.1f %9.1f %9.1f  %v\n", name, r.Count, r.Latency.P50, r.Latency.P95, r.Latency.P99, r.ByStatus)
	}
}

func write(path string, s load.Scorecard) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func makeClip(ctx context.Context, path, size string, seconds int) error {
	d := strconv.Itoa(seconds)
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size="+size+":rate=30:duration="+d, "-f", "lavfi", "-i", "sine=frequency=440:duration="+d,
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-y", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %w: %s", err, out)
	}
	return nil
}
