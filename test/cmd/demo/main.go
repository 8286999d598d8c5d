// Command demo deploys the root stack on this machine (the emulator plus the local cloud),
// signs in a demo user, uploads a video it makes through the upload API, and shows each
// stage live with its timing until the renditions are served by the CDN; then it tears
// everything down, or with -keep waits for Ctrl-C first. It is what `make demo` runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/functions"
	"github.com/mediastack/terraform-aws-mediastack/test/localdeploy"
	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

func main() {
	keep := flag.Bool("keep", false, "keep the stack up until Ctrl-C instead of tearing it down at once")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *keep); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

var start = time.Now()

// event prints a live event with the time since the demo started.
func event(format string, args ...any) {
	fmt.Printf("    [%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, keep bool) (err error) {
	stack, err := localdeploy.Up(ctx, localdeploy.Options{
		Stage: localdeploy.PrintStage,
		Cloud: localcloud.Options{OnBatch: func(function string, b functions.Batch) {
			outcome := fmt.Sprintf("%d deleted", b.Deleted)
			if b.Err != nil {
				outcome = "failed, left for retry: " + b.Err.Error()
			} else if len(b.Failed) > 0 {
				outcome += fmt.Sprintf(", %d left for retry", len(b.Failed))
			}
			event("%s ran a batch of %d message(s) in %s: %s", function, len(b.MessageIDs), b.Duration.Round(100*time.Millisecond), outcome)
		}},
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stack.Down(context.WithoutCancel(ctx))) }()
	ep := stack.Endpoints
	fmt.Printf("    upload API: %s\n    CDN:        %s\n", ep.UploadAPIURL, ep.CDNBaseURL)

	work, removeWork, err := procs.MkdirTemp("mediastack-demo-*")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, removeWork()) }()
	clip := filepath.Join(work, "clip.mp4")
	if err := localdeploy.PrintStage("make a 3-second 720p test video with ffmpeg", func() error { return makeClip(ctx, clip) }); err != nil {
		return err
	}

	client := &mediaclient.Client{BaseURL: ep.UploadAPIURL, Token: ep.IDToken, API: stack.Cloud.HTTPClient(), Storage: stack.Target.HTTPClient()}
	var up mediaclient.Upload
	if err := localdeploy.PrintStage("POST /v1/uploads as "+localcloud.DemoUser, func() error {
		up, err = client.CreateUpload(ctx, clip, "video/mp4", "Demo clip")
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("    media %s, presigned %s until %s\n", up.MediaID, up.Upload.Method, up.Upload.ExpiresAt.Format(time.RFC3339))
	if err := localdeploy.PrintStage("PUT the video to the presigned URL (originals bucket)", func() error {
		return client.PutFile(ctx, up, clip)
	}); err != nil {
		return err
	}
	event("uploaded; S3 notifies the transcode queue")

	var media mediaclient.Media
	if err := localdeploy.PrintStage("follow the media until it is ready", func() error {
		followCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		media, err = client.Follow(followCtx, up.MediaID, 250*time.Millisecond, func(m mediaclient.Media) {
			event("status %s", m.Status)
		})
		if err == nil && media.Status != "ready" {
			err = fmt.Errorf("media ended %s: %s", media.Status, deref(media.Error))
		}
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("    %d renditions, %.1f s, poster %s\n", len(media.Renditions), deref(media.DurationS), deref(media.PosterURL))

	if err := localdeploy.PrintStage("fetch through the CDN (twice: a miss, then a hit)", func() error {
		urls := []string{deref(media.HLSURL)}
		for _, r := range media.Renditions {
			urls = append(urls, r.URL)
		}
		for _, u := range urls {
			for range 2 {
				cache, n, err := fetch(ctx, stack.Cloud.HTTPClient(), u)
				if err != nil {
					return err
				}
				event("%-22s %8d bytes  %s", cache, n, u)
			}
		}
		return nil
	}); err != nil {
		return err
	}

	if keep {
		fmt.Printf("\nThe stack is up. Upload API %s, CDN %s, proxy %s, DNS %s.\n", ep.UploadAPIURL, ep.CDNBaseURL, ep.HTTPProxy, ep.DNSServer)
		fmt.Printf("Try: curl -x %s %s\nPress Ctrl-C to tear it down.\n", ep.HTTPProxy, deref(media.HLSURL))
		<-ctx.Done()
	}
	return nil
}

func makeClip(ctx context.Context, path string) error {
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc2=size=1280x720:rate=30:duration=3", "-f", "lavfi", "-i", "sine=frequency=440:duration=3",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-y", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// fetch GETs url and returns its X-Cache header and length.
func fetch(ctx context.Context, client *http.Client, url string) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return "", 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return resp.Header.Get("X-Cache"), n, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
