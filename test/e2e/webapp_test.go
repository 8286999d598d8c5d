package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/browser"
	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// Bounds of the browser's steps: a page and its API calls, and playback through the CDN.
const (
	pageTimeout = 30 * time.Second
	playTimeout = time.Minute
	// firstViewBudget is what the app may transfer for its first view, before any video.
	firstViewBudget = 300 << 10
)

// webApp is the stack's web app in a browser of its own, as one user sees it.
type webApp struct {
	*browser.Browser
	url string
}

// openWebApp starts a browser on the app's first view; screenshots go under
// build/screenshots/<test>/<who>.
func openWebApp(t *testing.T, s *stack, who string) *webApp {
	t.Helper()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	shots := filepath.Join(root, "build", "screenshots", strings.ReplaceAll(t.Name(), "/", "_"), who)
	require.NoError(t, os.RemoveAll(shots))
	// Locally the stack's AWS names are served through the local cloud's proxy; on AWS they
	// resolve as they are.
	proxy := ""
	if s.cloud != nil {
		proxy = s.cloud.Proxy().URL()
	}
	b := browser.Start(t, browser.Options{Proxy: proxy, Screenshots: shots})
	app := &webApp{Browser: b, url: s.output(t, "web_app_url")}
	t.Cleanup(func() {
		if t.Failed() {
			app.Screenshot("failed")
		}
		assert.Empty(t, app.Errors(), "no console error in %s's browser", who)
	})
	require.NoError(t, app.Do(pageTimeout, chromedp.Navigate(app.url)))
	app.waitRoute(t, "feed")
	return app
}

// waitRoute waits for the app to show a page.
func (a *webApp) waitRoute(t *testing.T, route string) {
	t.Helper()
	require.NoError(t, a.WaitFor("the "+route+" page", `document.body.dataset.route === `+strconv.Quote(route), pageTimeout))
}

// goTo opens one of the app's pages by its hash route.
func (a *webApp) goTo(t *testing.T, hash, route string) {
	t.Helper()
	_, err := browser.Eval[string](a.Browser, `location.hash = `+strconv.Quote(hash))
	require.NoError(t, err)
	a.waitRoute(t, route)
}

// fill types into each field, by selector, then clicks submit.
func (a *webApp) fill(t *testing.T, fields map[string]string, submit string) {
	t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for _, sel := range slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	}) {
		clear := `document.querySelector(` + strconv.Quote(sel) + `).value = ""`
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](clear), chromedp.SendKeys(chromedp.CSS(sel), fields[sel]))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(submit)))
	require.NoError(t, a.Do(pageTimeout, steps...))
}

// signUp signs a new user up, confirms the address and signs in, through the pages.
func (a *webApp) signUp(t *testing.T, email, password string) {
	t.Helper()
	a.goTo(t, "#/signup", "signup")
	a.fill(t, map[string]string{"#signup-email": email, "#signup-password": password}, "#signup-submit")
	a.waitRoute(t, "confirm")
	// The emulator's Cognito sends no email and takes any code; on AWS the code is emailed.
	a.fill(t, map[string]string{"#confirm-code": "123456"}, "#confirm-submit")
	a.waitRoute(t, "signin")
	a.signIn(t, email, password)
}

func (a *webApp) signIn(t *testing.T, email, password string) {
	t.Helper()
	a.goTo(t, "#/signin", "signin")
	a.fill(t, map[string]string{"#signin-email": email, "#signin-password": password}, "#signin-submit")
	a.waitRoute(t, "feed")
	require.NoError(t, a.WaitFor("the signed-in user", `document.body.dataset.user === `+strconv.Quote(email), pageTimeout))
}

// accessible checks what the page shows for labels and fit: every control is named, and a
// phone-sized window needs no horizontal scrolling.
func (a *webApp) accessible(t *testing.T, page string) {
	t.Helper()
	unnamed, err := browser.Eval[[]string](a.Browser, `[...document.querySelectorAll("input, select, textarea, button")]
		.filter(e => e.offsetParent !== null && e.type !== "hidden")
		.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby") && !(e.tagName === "BUTTON" && e.textContent.trim()))
		.map(e => e.outerHTML.slice(0, 120))`)
	require.NoError(t, err)
	assert.Empty(t, unnamed, "every control of the %s page has a label or a name", page)
}

// onAPhone shows the page at a phone's size (375 x 812 CSS pixels, touch) and checks that it
// needs no horizontal scrolling, then goes back to the desktop window.
func (a *webApp) onAPhone(t *testing.T, page string) {
	t.Helper()
	require.NoError(t, a.AsPhone(375, 812, func() {
		require.NoError(t, a.WaitFor("the phone-sized layout", `window.innerWidth === 375`, pageTimeout))
		wide, err := browser.Eval[int](a.Browser, `document.documentElement.scrollWidth`)
		require.NoError(t, err)
		assert.LessOrEqual(t, wide, 375, "the %s page fits a phone's width", page)
		a.Screenshot(page + " on a phone")
	}))
	require.NoError(t, a.WaitFor("the window's layout again", `window.innerWidth > 375`, pageTimeout))
}

// playing waits until the video plays: its time advances past at least one second, and the
// frame has a size.
func (a *webApp) playing(t *testing.T, what string) (width int) {
	t.Helper()
	require.NoError(t, a.WaitFor(what, `(() => { const v = document.getElementById("player");
		return v && v.videoWidth > 0 && v.currentTime > 1 && !v.paused && !v.error })()`, playTimeout))
	w, err := browser.Eval[int](a.Browser, `document.getElementById("player").videoWidth`)
	require.NoError(t, err)
	return w
}

// advancing waits until the video's time moves on by a second from now.
func (a *webApp) advancing(t *testing.T, what string) {
	t.Helper()
	now, err := browser.Eval[float64](a.Browser, `document.getElementById("player").currentTime`)
	require.NoError(t, err)
	require.NoError(t, a.WaitFor(what, fmt.Sprintf(`(() => { const v = document.getElementById("player"); return v.currentTime > %f + 1 && !v.error })()`, now), playTimeout))
}

// webMetrics are the figures the browser flow measures, written to build/browser/metrics.json.
type webMetrics struct {
	FirstViewBytes     int64            `json:"first_view_bytes"`
	FirstViewByURL     map[string]int64 `json:"first_view_by_url"`
	LastByteToFrameSec float64          `json:"upload_last_byte_to_first_frame_s"`
	ClipSeconds        int              `json:"clip_seconds"`
}

func writeMetrics(t *testing.T, name string, m webMetrics) {
	t.Helper()
	root, err := target.RepoRoot()
	require.NoError(t, err)
	dir := filepath.Join(root, "build", "browser")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	data, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".json"), append(data, '\n'), 0o644))
	t.Logf("browser metrics: first view %d bytes, last byte to first frame %.2f s", m.FirstViewBytes, m.LastByteToFrameSec)
}

// runWebApp is the web app in a real browser: two users sign up, one uploads a clip from the
// upload page and watches it play, likes and comments, publishes it; the other finds it in
// the feed; the owner deletes it.
func runWebApp(t *testing.T, s *stack) {
	ctx := context.Background()
	const clipSeconds = 10
	clip := makeVideo(t, clipSeconds)
	owner := openWebApp(t, s, "owner")
	var metrics webMetrics
	metrics.ClipSeconds = clipSeconds

	t.Run("first view", func(t *testing.T) {
		require.NoError(t, owner.WaitFor("the feed's end", `document.getElementById("feed-more") !== null`, pageTimeout))
		time.Sleep(time.Second) // the last loads finish
		metrics.FirstViewBytes, metrics.FirstViewByURL = owner.TransferredBytes()
		owner.Screenshot("feed")
		owner.accessible(t, "feed")
		owner.onAPhone(t, "feed")
		assert.Less(t, metrics.FirstViewBytes, int64(firstViewBudget), "the first view transfers under 300 KB: %v", metrics.FirstViewByURL)
		for u := range metrics.FirstViewByURL {
			assert.NotRegexp(t, `hls|dash`, strings.ToLower(filepath.Base(u)), "players load only on the watch page")
		}
		headers, err := browser.Eval[map[string]string](owner.Browser, `fetch(location.href, {cache: "no-store"}).then(r => ({
			csp: r.headers.get("content-security-policy") || "", hsts: r.headers.get("strict-transport-security") || "",
			nosniff: r.headers.get("x-content-type-options") || ""}))`)
		require.NoError(t, err)
		assert.Contains(t, headers["csp"], "default-src 'none'")
		assert.Contains(t, headers["csp"], "script-src 'self'")
		assert.Contains(t, headers["hsts"], "max-age=")
		assert.Equal(t, "nosniff", headers["nosniff"])
	})

	email, password := "web-owner@example.com", "Owner-password-1!"
	t.Run("sign up and in", func(t *testing.T) {
		owner.signUp(t, email, password)
		owner.Screenshot("signed in")
	})
	api := s.signIn(t, email, password) // the same user through the API, to check what the pages did

	t.Run("token refresh", func(t *testing.T) {
		// The library keeps the tokens in localStorage beside the clock drift it measured;
		// a drift of two hours makes the hour-long ID token look expired, as it is after an
		// hour: the next API call must refresh it with the refresh token.
		old, err := browser.Eval[string](owner.Browser, `(() => {
			const key = Object.keys(localStorage).find(k => k.endsWith(".idToken"));
			localStorage.setItem(key.replace(/idToken$/, "clockDrift"), String(-7200));
			return localStorage.getItem(key) })()`)
		require.NoError(t, err)
		require.NotEmpty(t, old)
		owner.goTo(t, "#/mine", "mine")
		require.NoError(t, owner.WaitFor("a new ID token", `localStorage.getItem(Object.keys(localStorage).find(k => k.endsWith(".idToken"))) !== `+strconv.Quote(old), pageTimeout))
		require.NoError(t, owner.WaitFor("the owner's list", `document.getElementById("my-media") !== null`, pageTimeout))
		user, err := browser.Eval[string](owner.Browser, `document.body.dataset.user`)
		require.NoError(t, err)
		assert.Equal(t, email, user, "still signed in")
	})

	var id string
	t.Run("upload with progress", func(t *testing.T) {
		owner.goTo(t, "#/upload", "upload")
		owner.accessible(t, "upload")
		owner.onAPhone(t, "upload")
		require.NoError(t, owner.Do(pageTimeout,
			chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{clip}),
			chromedp.SendKeys(chromedp.CSS("#upload-title"), "From the browser"),
			chromedp.Click(chromedp.CSS("#upload-submit"))))
		require.NoError(t, owner.WaitFor("the upload's progress to reach 100 %", `document.getElementById("upload-progress").value === 100 && document.getElementById("upload-percent").textContent.includes("100")`, playTimeout))
		owner.Screenshot("uploaded")
		var err error
		id, err = browser.Eval[string](owner.Browser, `document.getElementById("upload-media-id").textContent.trim()`)
		require.NoError(t, err)
		require.NotEmpty(t, id)
		require.NoError(t, owner.WaitFor("the status to reach ready", `document.getElementById("upload-status").textContent.trim() === "ready"`, eventTimeout))
		owner.Screenshot("ready")
	})
	if id == "" {
		t.FailNow()
	}
	media, err := api.Media(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "ready", media.Status)
	widths := map[int]bool{}
	lowest := media.Renditions[0]
	for _, r := range media.Renditions {
		widths[r.Width] = true
		if r.Height < lowest.Height {
			lowest = r
		}
	}

	t.Run("watch", func(t *testing.T) {
		require.NoError(t, owner.Do(pageTimeout, chromedp.Click(chromedp.CSS("#upload-watch"))))
		owner.waitRoute(t, "watch")
		width := owner.playing(t, "the video to play")
		assert.True(t, widths[width], "the frame (%d wide) is one of the renditions %v", width, widths)
		owner.accessible(t, "watch")
		owner.Screenshot("playing")
		owner.onAPhone(t, "watch")
		since, err := browser.Eval[float64](owner.Browser, `(() => {
			const [last] = performance.getEntriesByName("mediastack:upload-last-byte");
			const [frame] = performance.getEntriesByName("mediastack:first-frame");
			return last && frame ? (frame.startTime - last.startTime) / 1000 : -1 })()`)
		require.NoError(t, err)
		require.Positive(t, since, "the app marks the upload's last byte and the first frame")
		metrics.LastByteToFrameSec = since

		// From the start, as a viewer replaying it would: on a loaded machine the first frame
		// can come late enough that the 10 s clip has played to its end, leaving no segment
		// to fetch at the new quality.
		_, err = browser.Eval[bool](owner.Browser, `(() => { const v = document.getElementById("player"), q = document.getElementById("quality");
			v.currentTime = 0; v.play().catch(() => {});
			q.value = "`+strconv.Itoa(lowest.Height)+`"; return q.dispatchEvent(new Event("change", {bubbles: true})) })()`)
		require.NoError(t, err)
		require.NoError(t, owner.WaitFor("the lowest quality", fmt.Sprintf(`document.getElementById("player").videoWidth === %d`, lowest.Width), playTimeout))
		owner.advancing(t, "playback at the lowest quality")
		owner.Screenshot("lowest quality")

		// Pointing halfway along the scrub bar shows that moment's tile from the WebVTT track.
		_, err = browser.Eval[bool](owner.Browser, `(() => { const s = document.getElementById("scrub"), r = s.getBoundingClientRect();
			return s.dispatchEvent(new PointerEvent("pointermove", {clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true})) })()`)
		require.NoError(t, err)
		require.NoError(t, owner.WaitFor("the scrubbing thumbnail", `(() => { const p = document.getElementById("scrub-preview");
			return !p.hidden && [p, ...p.querySelectorAll("*")].some(e => getComputedStyle(e).backgroundImage.includes("sprite"))
				&& performance.getEntriesByType("resource").some(e => /sprite[^/]*\.jpg/.test(e.name)) })()`, pageTimeout))
		owner.Screenshot("scrubbing thumbnail")

		// DASH, which chromium has no player for, through dash.js.
		_, err = browser.Eval[bool](owner.Browser, `(() => { const f = document.getElementById("format");
			f.value = "dash"; return f.dispatchEvent(new Event("change", {bubbles: true})) })()`)
		require.NoError(t, err)
		require.NoError(t, owner.WaitFor("dash.js", `window.mediastack && window.mediastack.engine === "dash.js"`, pageTimeout))
		_, err = browser.Eval[bool](owner.Browser, `(() => { document.getElementById("player").currentTime = 0; return true })()`) // the clip is short
		require.NoError(t, err)
		owner.advancing(t, "DASH playback")
		width, err = browser.Eval[int](owner.Browser, `document.getElementById("player").videoWidth`)
		require.NoError(t, err)
		assert.True(t, widths[width], "the DASH frame (%d wide) is one of the renditions %v", width, widths)
		owner.Screenshot("dash")
	})

	t.Run("like and comment", func(t *testing.T) {
		// By keyboard: focus the button and press Enter, as a user without a mouse does.
		require.NoError(t, owner.Do(pageTimeout, chromedp.Focus(chromedp.CSS("#like")), chromedp.KeyEvent("\r")))
		require.NoError(t, owner.WaitFor("the like", `document.getElementById("like").getAttribute("aria-pressed") === "true" && document.getElementById("like-count").textContent.includes("1")`, pageTimeout))
		owner.fill(t, map[string]string{"#comment-text": "Made in a browser"}, "#comment-submit")
		require.NoError(t, owner.WaitFor("the comment", `[...document.querySelectorAll("#comments > li")].some(li => li.textContent.includes("Made in a browser"))`, pageTimeout))
		owner.Screenshot("liked and commented")
		m, err := api.Media(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, 1, m.Likes)
		assert.Equal(t, 1, m.Comments)
	})

	item := `document.querySelector('#my-media > li[data-media-id="` + id + `"]')`
	t.Run("publish from the owner's list", func(t *testing.T) {
		owner.goTo(t, "#/mine", "mine")
		require.NoError(t, owner.WaitFor("the media in the owner's list", item+` !== null`, pageTimeout))
		owner.accessible(t, "mine")
		owner.onAPhone(t, "mine")
		_, err := browser.Eval[bool](owner.Browser, `(() => { const li = `+item+`;
			const vis = li.querySelector("select.edit-visibility"); vis.value = "public"; vis.dispatchEvent(new Event("change", {bubbles: true}));
			const d = li.querySelector(".edit-description"); d.value = "Shared from the web app"; d.dispatchEvent(new Event("input", {bubbles: true}));
			li.querySelector("button.edit-save").click(); return true })()`)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			m, err := api.Media(ctx, id)
			return err == nil && m.Visibility == "public" && m.Description == "Shared from the web app"
		}, pageTimeout, 200*time.Millisecond, "the edit reaches the API")
		owner.Screenshot("published")
	})

	t.Run("a second user finds it in the feed", func(t *testing.T) {
		viewer := openWebApp(t, s, "viewer")
		viewer.signUp(t, "web-viewer@example.com", "Viewer-password-1!")
		// The feed is public, so the edge and the browser keep it for publicMaxAge: the viewer
		// reloads until the copy fetched before the media was published is gone.
		require.Eventually(t, func() bool {
			if viewer.Do(pageTimeout, chromedp.Reload()) != nil {
				return false
			}
			viewer.waitRoute(t, "feed")
			found, err := browser.Eval[bool](viewer.Browser, `new Promise(r => setTimeout(() => r(document.querySelector('#feed > li[data-media-id="`+id+`"]') !== null), 1000))`)
			return err == nil && found
		}, 2*publicMaxAge+pageTimeout, 2*time.Second, "the public media is in the second user's feed")
		viewer.Screenshot("feed with the media")
	})

	t.Run("delete", func(t *testing.T) {
		owner.goTo(t, "#/mine", "mine")
		require.NoError(t, owner.WaitFor("the media in the owner's list", item+` !== null`, pageTimeout))
		_, err := browser.Eval[bool](owner.Browser, item+`.querySelector("button.delete").click() || true`)
		require.NoError(t, err)
		require.NoError(t, owner.WaitFor("the confirmation", item+`.querySelector("button.delete-confirm") !== null`, pageTimeout))
		_, err = browser.Eval[bool](owner.Browser, item+`.querySelector("button.delete-confirm").click() || true`)
		require.NoError(t, err)
		require.NoError(t, owner.WaitFor("the media to leave the list", item+` === null`, pageTimeout))
		owner.Screenshot("deleted")
		// The edge may still hold the feed the viewer read, for publicMaxAge; the tab that
		// deleted the media leaves it out all the same.
		owner.goTo(t, "#/", "feed")
		require.NoError(t, owner.WaitFor("the feed", `document.getElementById("feed-status").textContent !== ""`, pageTimeout))
		gone, err := browser.Eval[bool](owner.Browser, `document.querySelector('#feed > li[data-media-id="`+id+`"]') === null`)
		require.NoError(t, err)
		assert.True(t, gone, "the deleted media is not in the deleting tab's feed")
		_, err = api.Media(ctx, id)
		var status *mediaclient.StatusError
		require.ErrorAs(t, err, &status)
		assert.Equal(t, http.StatusNotFound, status.Code)
	})
	t.Run("a multipart upload cancelled", func(t *testing.T) {
		big := filepath.Join(t.TempDir(), "big.mp4")
		require.NoError(t, os.WriteFile(big, randomBytes(t, multipartThreshold+8<<20), 0o644))
		// A slow uplink, so that the parts are in flight when the user cancels.
		require.NoError(t, owner.ThrottleUploads(4<<20))
		defer func() { require.NoError(t, owner.ThrottleUploads(-1)) }()
		owner.goTo(t, "#/upload", "upload")
		require.NoError(t, owner.Do(pageTimeout,
			chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{big}),
			chromedp.Click(chromedp.CSS("#upload-submit"))))
		// Four parts go at once; past 80 % the first ones were sent and their ETags read.
		require.NoError(t, owner.WaitFor("the parts to be under way", `document.getElementById("upload-progress").value >= 82`, playTimeout))
		require.NoError(t, owner.Do(pageTimeout, chromedp.Click(chromedp.CSS("#upload-cancel"))))
		require.NoError(t, owner.WaitFor("the cancellation", `document.getElementById("upload-status").textContent.trim() === "cancelled"`, pageTimeout))
		owner.Screenshot("upload cancelled")
		id, err := browser.Eval[string](owner.Browser, `document.getElementById("upload-media-id").textContent.trim()`)
		require.NoError(t, err)
		require.NotEmpty(t, id)
		// The app deletes the pending media, which aborts its multipart upload at S3.
		assert.Eventually(t, func() bool {
			uploads, err := s.tg.S3Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.output(t, "originals_bucket_id"))})
			require.NoError(t, err)
			return !slices.ContainsFunc(uploads.Uploads, func(u s3types.MultipartUpload) bool { return strings.Contains(aws.ToString(u.Key), id) })
		}, pageTimeout, 200*time.Millisecond, "the cancelled upload's multipart upload is aborted")
		_, err = api.Media(ctx, id)
		var status *mediaclient.StatusError
		require.ErrorAs(t, err, &status)
		assert.Equal(t, http.StatusNotFound, status.Code, "and its media is gone")
	})

	t.Run("a rejected file and a corrupt one say why", func(t *testing.T) {
		notes := filepath.Join(t.TempDir(), "notes.txt")
		require.NoError(t, os.WriteFile(notes, []byte("not a video"), 0o644))
		owner.goTo(t, "#/upload", "upload")
		require.NoError(t, owner.Do(pageTimeout, chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{notes}), chromedp.Click(chromedp.CSS("#upload-submit"))))
		require.NoError(t, owner.WaitFor("the refusal", `document.getElementById("upload-error").textContent.includes("video/mp4")`, pageTimeout))
		owner.Screenshot("rejected file")
		// The browser logs every 4xx answer it gets, whatever the page does with it.
		for _, e := range owner.Errors() {
			assert.Regexp(t, `status of 4\d\d`, e, "only the refusal is logged")
		}

		broken := filepath.Join(t.TempDir(), "broken.mp4")
		require.NoError(t, os.WriteFile(broken, randomBytes(t, 64<<10), 0o644))
		owner.goTo(t, "#/mine", "mine") // a fresh upload form
		owner.goTo(t, "#/upload", "upload")
		require.NoError(t, owner.Do(pageTimeout, chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{broken}), chromedp.Click(chromedp.CSS("#upload-submit"))))
		require.NoError(t, owner.WaitFor("the failure", `document.getElementById("upload-status").textContent.trim() === "failed"`, eventTimeout))
		reason, err := browser.Eval[string](owner.Browser, `document.getElementById("upload-error").textContent`)
		require.NoError(t, err)
		assert.NotEmpty(t, strings.TrimSpace(reason), "the transcoder's reason is shown")
		owner.Screenshot("corrupt file")
	})

	t.Run("sign out", func(t *testing.T) {
		require.NoError(t, owner.Do(pageTimeout, chromedp.Click(chromedp.CSS("#signout"))))
		require.NoError(t, owner.WaitFor("no one signed in", `document.body.dataset.user === "" && !Object.keys(localStorage).some(k => k.endsWith(".idToken"))`, pageTimeout))
		owner.goTo(t, "#/", "feed")
	})
	writeMetrics(t, "web-app", metrics)
}

// runWebAppSigned plays a media through the CDN's signed cookies, which the app sets from
// the API's answer; a browser without them is refused.
func runWebAppSigned(t *testing.T, s *stack) {
	ctx := context.Background()
	email, password := "web-signed@example.com", "Signed-password-1!"
	api := s.signIn(t, email, password)
	id := upload(t, api, makeVideo(t, 4))
	require.Equal(t, "ready", s.events.wait(t, id, eventTimeout).Status)
	media, err := api.Media(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, media.HLSURL)
	require.NotEmpty(t, media.CDNCookies, "a signing CDN hands out cookies")

	t.Run("playback through signed cookies", func(t *testing.T) {
		app := openWebApp(t, s, "signed")
		app.signIn(t, email, password)
		app.goTo(t, "#/watch/"+id, "watch")
		app.playing(t, "the video to play through signed cookies")
		cookies, err := browser.Eval[string](app.Browser, `document.cookie`)
		require.NoError(t, err)
		assert.Empty(t, cookies, "the cookies are scoped to the media's path, not the app's")
		app.Screenshot("signed playback")
	})

	t.Run("a browser without them is refused", func(t *testing.T) {
		bare := openWebApp(t, s, "unsigned")
		unsigned := unsignedPath(t, *media.HLSURL)
		resp, err := chromedp.Run(bare.Context(), chromedp.NavigateResponse(strings.TrimSuffix(s.output(t, "cdn_base_url"), "/")+unsigned))
		require.NoError(t, err)
		assert.EqualValues(t, http.StatusForbidden, resp.Status, "the master playlist without cookies or a signature")
		bare.Screenshot("refused")
		errs := bare.Errors()
		for _, e := range errs {
			assert.Contains(t, e, "403", "only the refusal is an error")
		}
	})
}
