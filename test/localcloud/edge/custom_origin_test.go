package edge_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/edge"
)

// fakeAPI stands in for the upload API behind its load balancer: a public view for anyone
// without a token, the caller's own for a token holder, never to be stored.
type fakeAPI struct {
	mu       sync.Mutex
	requests []*http.Request
	private  bool // the media went private: 404 for anyone without a token
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests = append(a.requests, r.Clone(context.Background()))
	private := a.private
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Vary", "Authorization, Origin")
	switch {
	case r.Method == http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.WriteHeader(http.StatusNoContent)
	case r.Header.Get("Authorization") != "":
		w.Header().Set("Cache-Control", "private, no-store")
		fmt.Fprintf(w, `{"view":"owner of %s","query":%q}`, r.URL.Path, r.URL.RawQuery) //nolint:gosec // a test server's or the local edge's own answer, read by the harness
	case private:
		w.Header().Set("Cache-Control", "private, no-store")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"media not found"}`)
	default:
		w.Header().Set("Cache-Control", "public, max-age=5")
		fmt.Fprintf(w, `{"view":"public of %s","query":%q`, r.URL.Path, r.URL.RawQuery) //nolint:gosec // a test server's or the local edge's own answer, read by the harness
		if r.URL.Query().Has("long") {                                                  // flushed: chunked, with no Content-Length
			w.(http.Flusher).Flush()
			fmt.Fprintf(w, `,"padding":%q`, strings.Repeat("x", 64<<10))
		}
		fmt.Fprint(w, "}")
	}
}

func (a *fakeAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.requests)
}

func (a *fakeAPI) last() *http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[len(a.requests)-1]
}

// startAPIEdge serves a distribution whose API origin is api-<ns>.elb.amazonaws.com, reached
// through a client that dials the fake API whatever the name.
func startAPIEdge(t *testing.T) (*fixture, *edge.Edge, *fakeAPI) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	const domain = "mediastack-api-123456789.us-east-1.elb.amazonaws.com"
	f := newFixture(t, fixtureOptions{apiDomain: domain})
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != domain+":80" {
			return nil, fmt.Errorf("dial %s: not the API origin", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	client := &http.Client{Transport: &http.Transport{DialContext: dial}}
	return f, f.start(t, edge.Options{CustomOriginClient: client}), api
}

func TestCustomOriginCachesPublicReadsOnly(t *testing.T) {
	f, e, api := startAPIEdge(t)

	first := get(t, e, http.MethodGet, "/v1/feed?limit=5")
	require.Equal(t, http.StatusOK, first.status, string(first.body))
	assert.Equal(t, "Miss from cloudfront", first.xcache())
	req := api.last()
	assert.Equal(t, "mediastack-api-123456789.us-east-1.elb.amazonaws.com", req.Host, "the origin's domain, not the viewer's")
	assert.Equal(t, "limit=5", req.URL.RawQuery, "the query is forwarded")
	assert.NotEmpty(t, req.Header.Get("X-Forwarded-For"))

	hit := get(t, e, http.MethodGet, "/v1/feed?limit=5")
	assert.Equal(t, "Hit from cloudfront", hit.xcache())
	assert.Equal(t, first.body, hit.body)
	assert.Equal(t, 1, api.count(), "a hit never reaches the API")
	other := get(t, e, http.MethodGet, "/v1/feed?limit=6")
	assert.Equal(t, "Miss from cloudfront", other.xcache(), "the query is part of the cache key")

	// A token holder's answer is theirs: it reaches the API with the token each time, and
	// nobody else is ever served it.
	for range 2 {
		own := get(t, e, http.MethodGet, "/v1/media/m1", "Authorization", "Bearer owner-token")
		assert.Equal(t, "Miss from cloudfront", own.xcache())
		assert.Contains(t, string(own.body), "owner of /v1/media/m1")
		assert.Equal(t, "Bearer owner-token", api.last().Header.Get("Authorization"))
	}
	anon := get(t, e, http.MethodGet, "/v1/media/m1")
	assert.Contains(t, string(anon.body), "public of /v1/media/m1")
	assert.Empty(t, api.last().Header.Get("Authorization"))
	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/v1/media/m1").xcache())

	// The media goes private: the public copy lives out its max-age, then the 404 (no-store)
	// is never cached.
	api.mu.Lock()
	api.private = true
	api.mu.Unlock()
	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/v1/media/m1").xcache())
	f.clock.Advance(6 * time.Second)
	for range 2 {
		gone := get(t, e, http.MethodGet, "/v1/media/m1")
		assert.Equal(t, http.StatusNotFound, gone.status)
		assert.Equal(t, "Error from cloudfront", gone.xcache())
	}
	n := api.count()
	get(t, e, http.MethodGet, "/v1/media/m1")
	assert.Equal(t, n+1, api.count(), "a 404 saying no-store is not cached")
}

func TestChunkedAnswersAreCached(t *testing.T) {
	_, e, api := startAPIEdge(t)
	first := get(t, e, http.MethodGet, "/v1/feed?long=1")
	require.Equal(t, http.StatusOK, first.status)
	assert.Greater(t, len(first.body), 64<<10)
	second := get(t, e, http.MethodGet, "/v1/feed?long=1")
	assert.Equal(t, "Hit from cloudfront", second.xcache(), "an answer without Content-Length is cached as CloudFront caches it")
	assert.Equal(t, first.body, second.body)
	assert.Equal(t, 1, api.count())
}

func TestCustomOriginPassesPreflightAndRefusesWrites(t *testing.T) {
	_, e, api := startAPIEdge(t)
	for range 2 {
		pre := get(t, e, http.MethodOptions, "/v1/feed", "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET")
		assert.Equal(t, http.StatusNoContent, pre.status)
		assert.Equal(t, "https://app.example.com", pre.header.Get("Access-Control-Allow-Origin"))
	}
	assert.Equal(t, 2, api.count(), "OPTIONS is allowed but not cached")
	assert.Equal(t, "https://app.example.com", api.last().Header.Get("Origin"), "Origin is forwarded")

	patch := get(t, e, http.MethodPatch, "/v1/media/m1", "Authorization", "Bearer owner-token")
	assert.Equal(t, http.StatusForbidden, patch.status, "writes go to the API itself")
	assert.Equal(t, 2, api.count())
}

func TestCustomOriginKeysOnForwardedHeaders(t *testing.T) {
	_, e, api := startAPIEdge(t)
	a := get(t, e, http.MethodGet, "/v1/feed", "Origin", "https://a.example.com")
	b := get(t, e, http.MethodGet, "/v1/feed", "Origin", "https://b.example.com")
	assert.Equal(t, "Miss from cloudfront", a.xcache())
	assert.Equal(t, "Miss from cloudfront", b.xcache(), "another Origin is another cached object")
	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/v1/feed", "Origin", "https://a.example.com").xcache())
	assert.Equal(t, 2, api.count())
}
