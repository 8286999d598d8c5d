package browser_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/browser"
)

func TestBrowserKeepsErrorsBytesAndScreenshots(t *testing.T) {
	page := `<!doctype html><meta name="viewport" content="width=device-width"><title>t</title><p id="p">hello</p><script src="/app.js"></script><img src="/missing.png" alt="">`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(page))
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write([]byte(`document.getElementById("p").textContent = "ran"; console.error("boom");`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	shots := t.TempDir()
	b := browser.Start(t, browser.Options{Screenshots: shots})

	require.NoError(t, b.Do(30*time.Second, chromedp.Navigate(srv.URL)))
	require.NoError(t, b.WaitFor("the script to run", `document.getElementById("p").textContent === "ran"`, 10*time.Second))
	text, err := browser.Eval[string](b, `Promise.resolve(document.title)`)
	require.NoError(t, err)
	assert.Equal(t, "t", text)

	require.NoError(t, b.WaitFor("the image's 404", `performance.getEntriesByType("resource").some(e => e.name.endsWith("/missing.png"))`, 10*time.Second))
	time.Sleep(200 * time.Millisecond) // the console events travel on their own goroutine
	errs := strings.Join(b.Errors(), "\n")
	assert.Contains(t, errs, "boom", "console.error is kept")
	assert.Contains(t, errs, "404", "a failed load is kept")
	assert.Empty(t, b.Errors(), "and forgotten once read")

	total, byURL := b.TransferredBytes()
	assert.Greater(t, total, int64(len(page)))
	assert.Contains(t, byURL, srv.URL+"/app.js")

	path := b.Screenshot("Hello page")
	assert.Equal(t, filepath.Join(shots, "01-hello-page.png"), path)
	png, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))

	var inside int
	require.NoError(t, b.AsPhone(375, 812, func() {
		inside, err = browser.Eval[int](b, `window.innerWidth`)
		require.NoError(t, err)
	}))
	assert.Equal(t, 375, inside, "as a phone")
	outside, err := browser.Eval[int](b, `window.innerWidth`)
	require.NoError(t, err)
	assert.Equal(t, 1280, outside, "and as the window again")

	err = b.WaitFor("something that never happens", `false`, 300*time.Millisecond)
	assert.ErrorContains(t, err, "something that never happens")
}
