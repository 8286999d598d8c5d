// Package browser drives Debian's chromium (headless, through chromedp) for the tests of the
// web app: a fresh profile per browser, every request through the local cloud's proxy as an
// unmodified browser would go, every console error and failed load kept for the test to
// fail on, the bytes each page transferred counted, and a screenshot of each step written.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Options are how a browser starts.
type Options struct {
	// Proxy is the URL of the HTTP proxy every non-loopback request goes through (the local
	// cloud's, which serves the stack's AWS names); empty: none.
	Proxy string
	// Screenshots is the folder each step's screenshot is written to; empty: none.
	Screenshots string
	// Width and Height are the window's size (1280x800 when zero).
	Width, Height int
}

// Browser is one chromium process with one tab.
type Browser struct {
	t      *testing.T
	ctx    context.Context
	opts   Options
	step   int
	mu     sync.Mutex
	errors []string
	bytes  map[network.RequestID]float64
	urls   map[network.RequestID]string
}

// Start starts chromium for the test; it is stopped, and its profile removed, when the test
// ends, whatever the outcome.
func Start(t *testing.T, opts Options) *Browser {
	t.Helper()
	exe, err := executable()
	require.NoError(t, err)
	if opts.Width == 0 {
		opts.Width, opts.Height = 1280, 800
	}
	alloc := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium keeps its singleton socket in a folder of TMPDIR, which a killed browser
		// leaves behind: a folder of the test's own is removed whatever happens. A short
		// one: the socket's path must fit in a Unix socket address (108 bytes), which the
		// folders of t.TempDir, named after the subtest, outgrow.
		chromedp.Env("TMPDIR="+procs.TempDir(t, "chromium-*")),
		chromedp.WindowSize(opts.Width, opts.Height),
		chromedp.NoSandbox, // root in a container has no user namespaces for the sandbox
		// The proxy and the emulator present certificates of a per-run CA that the
		// browser's store does not hold.
		chromedp.IgnoreCertErrors,
		// Playback starts without a click, as the tests have no user gesture.
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("mute-audio", true),
	)
	if opts.Proxy != "" {
		alloc = append(alloc, chromedp.ProxyServer(opts.Proxy))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), alloc...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	b := &Browser{t: t, ctx: ctx, opts: opts, bytes: map[network.RequestID]float64{}, urls: map[network.RequestID]string{}}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; the listeners see every page from the first.
	require.NoError(t, chromedp.Do(ctx), "start chromium")
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			b.urls[ev.RequestID] = ev.Response.URL
		case *network.EventLoadingFinished:
			b.bytes[ev.RequestID] = ev.EncodedDataLength
		case *network.EventLoadingFailed:
			if !ev.Canceled {
				b.errors = append(b.errors, fmt.Sprintf("load failed: %s %s", b.urls[ev.RequestID], ev.ErrorText))
			}
		}
	}))
	return b
}

// executable finds the browser: Debian's chromium, which setup installs, else Google Chrome
// (CI runners whose chromium package is a snap have it).
func executable() (string, error) {
	for _, name := range []string{"chromium", "google-chrome"} {
		if exe, err := exec.LookPath(name); err == nil {
			return exe, nil
		}
	}
	return "", fmt.Errorf("the browser tests need chromium: scripts/setup installs Debian's (apt-get install chromium) when run as root")
}

// Do runs the actions within timeout.
func (b *Browser) Do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise) and returns its value.
func Eval[T any](b *Browser, expression string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
}

// WaitFor polls a JavaScript expression until it is truthy, for at most timeout; the error
// says what was awaited.
func (b *Browser) WaitFor(what, expression string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expression+")", chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		return fmt.Errorf("waiting %v for %s (%s): %w", timeout, what, expression, err)
	}
	return nil
}

// Screenshot writes the page as it is now to the screenshots folder, numbered in step order.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	if b.opts.Screenshots == "" {
		return ""
	}
	b.step++
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is PNG
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	require.NoError(b.t, os.MkdirAll(b.opts.Screenshots, 0o755))
	path := filepath.Join(b.opts.Screenshots, fmt.Sprintf("%02d-%s.png", b.step, slug(name)))
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
	return path
}

// Errors returns the console errors and failed loads since the last call, and forgets them.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	errs := b.errors
	b.errors = nil
	return errs
}

// TransferredBytes returns what the page has received over the network since the last
// call (headers and bodies as transferred, compressed where they were), by URL, and forgets
// it.
func (b *Browser) TransferredBytes() (total int64, byURL map[string]int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	byURL = map[string]int64{}
	for id, n := range b.bytes {
		byURL[b.urls[id]] += int64(n)
		total += int64(n)
	}
	b.bytes = map[network.RequestID]float64{}
	return total, byURL
}

// ThrottleUploads caps what the page sends at bytesPerSecond in all, as a slow uplink would
// (-1: no cap); downloads are not held back.
func (b *Browser) ThrottleUploads(bytesPerSecond float64) error {
	return b.Do(10*time.Second, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: bytesPerSecond}},
		})
		return err
	}))
}

// AsPhone shows the page as a phone of width x height CSS pixels would (mobile, touch) while
// fn runs, then as the window again.
func (b *Browser) AsPhone(width, height int64, fn func()) (err error) {
	if err := b.Do(10*time.Second, chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		return err
	}
	// Cleared rather than chromedp's EmulateReset, which left the page at the phone's width.
	defer func() {
		err = errors.Join(err, b.Do(10*time.Second, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: false})
			return err
		})))
		if err == nil { // the page takes the window's width again a moment after the clear
			err = b.WaitFor("the page at the window's width again", fmt.Sprintf("window.innerWidth === %d", b.opts.Width), 10*time.Second)
		}
	}()
	fn()
	return nil
}

// Context is the browser tab's context, for chromedp actions the helpers do not cover.
func (b *Browser) Context() context.Context { return b.ctx }

var notWord = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(notWord.ReplaceAllString(strings.ToLower(s), "-"), "-")
}
