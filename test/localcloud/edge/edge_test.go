package edge_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/edge"
)

// TestStartReadsTheDistribution checks what the edge learnt from the CloudFront API.
func TestStartReadsTheDistribution(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	e := f.start(t, edge.Options{})

	out, err := f.cf.GetDistribution(f.ctx, &cloudfront.GetDistributionInput{Id: &f.distID})
	require.NoError(t, err)
	assert.Equal(t, f.distID, e.ID())
	assert.Equal(t, aws.ToString(out.Distribution.DomainName), e.Domain())
	assert.Equal(t, []string{e.Domain()}, e.Hosts())
	assert.Regexp(t, `^arn:aws:cloudfront::\d{12}:distribution/`+f.distID+`$`, e.ARN(), "the ARN in AWS's form, as the bucket policy names it")
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, e.URL())
}

// TestMissThenHitWithinTTL: the first GET fills the cache, later ones are hits until the
// TTL (here the origin's max-age) runs out; then the edge revalidates with the origin.
func TestMissThenHitWithinTTL(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{objects: []object{
		{key: "v/master.m3u8", cacheControl: "max-age=5", body: []byte("#EXTM3U\n#EXT-X-VERSION:3\n")},
	}})
	e := f.start(t, edge.Options{})

	first := get(t, e, http.MethodGet, "/v/master.m3u8")
	require.Equal(t, http.StatusOK, first.status)
	assert.Equal(t, "Miss from cloudfront", first.xcache())
	assert.Equal(t, "#EXTM3U\n#EXT-X-VERSION:3\n", string(first.body))
	assert.Equal(t, "application/vnd.apple.mpegurl", first.header.Get("Content-Type"))
	assert.Equal(t, "max-age=5", first.header.Get("Cache-Control"), "the origin's headers are passed on")
	assert.Regexp(t, `^1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)$`, first.header.Get("Via"))
	assert.Len(t, first.header.Get("X-Amz-Cf-Id"), 56)
	assert.Empty(t, first.header.Get("Age"))
	assert.EqualValues(t, 1, e.Stats().OriginRequests)

	f.clock.Advance(4 * time.Second)
	hit := get(t, e, http.MethodGet, "/v/master.m3u8")
	assert.Equal(t, "Hit from cloudfront", hit.xcache())
	assert.Equal(t, "4", hit.header.Get("Age"))
	assert.Equal(t, first.body, hit.body)
	assert.NotEqual(t, first.header.Get("X-Amz-Cf-Id"), hit.header.Get("X-Amz-Cf-Id"), "one id per request")
	assert.EqualValues(t, 1, e.Stats().OriginRequests, "a hit does not reach the origin")

	// Expired and unchanged: the origin answers 304 to the edge's conditional request.
	f.clock.Advance(2 * time.Second)
	refresh := get(t, e, http.MethodGet, "/v/master.m3u8")
	assert.Equal(t, "RefreshHit from cloudfront", refresh.xcache())
	assert.Equal(t, first.body, refresh.body)
	assert.EqualValues(t, 2, e.Stats().OriginRequests)

	// Changed at the origin: still served from the cache until the TTL runs out again.
	f.put(t, object{key: "v/master.m3u8", cacheControl: "max-age=5", body: []byte("#EXTM3U\n#EXT-X-VERSION:7\n")})
	assert.Equal(t, first.body, get(t, e, http.MethodGet, "/v/master.m3u8").body)
	f.clock.Advance(6 * time.Second)
	changed := get(t, e, http.MethodGet, "/v/master.m3u8")
	assert.Equal(t, "Miss from cloudfront", changed.xcache())
	assert.Equal(t, "#EXTM3U\n#EXT-X-VERSION:7\n", string(changed.body))
	s := e.Stats()
	assert.EqualValues(t, 2, s.Hits)
	assert.EqualValues(t, 1, s.RefreshHits)
	assert.EqualValues(t, 2, s.Misses)
}

// TestTTLBoundsPerBehaviour: each behaviour bounds the origin's max-age to [min, max] and
// uses its default TTL without one; the path pattern decides the behaviour.
func TestTTLBoundsPerBehaviour(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{objects: []object{
		{key: "v/poster.jpg", cacheControl: "max-age=10", body: []byte("jpeg")},              // raised to the min, 60
		{key: "v/big.jpg", cacheControl: "max-age=100000", body: []byte("jpeg")},             // lowered to the max, 7200
		{key: "v/seg0.ts", body: []byte("ts")},                                               // *.ts default, 86400
		{key: "v/seg0.txt", body: []byte("txt")},                                             // the default behaviour's, 30
		{key: "v/nostore.m3u8", cacheControl: "no-store", body: []byte("#EXTM3U")},           // min of *.m3u8: not cached
		{key: "v/smax.m3u8", cacheControl: "max-age=1, s-maxage=8", body: []byte("#EXTM3U")}, // s-maxage wins
		{key: "dir.ts/file", body: []byte("not a segment")},                                  // * matches "/", but the pattern needs the suffix
	}})

	tests := []struct {
		path string
		ttl  time.Duration
	}{
		{"/v/poster.jpg", 60 * time.Second},
		{"/v/big.jpg", 7200 * time.Second},
		{"/v/seg0.ts", 86400 * time.Second},
		{"/v/seg0.txt", 30 * time.Second},
		{"/v/nostore.m3u8", 0},
		{"/v/smax.m3u8", 8 * time.Second},
		{"/dir.ts/file", 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			// An edge per object: each test steps its own clock.
			c := &clock{t: f.clock.Now()}
			e := f.start(t, edge.Options{Now: c.Now})
			require.Equal(t, "Miss from cloudfront", get(t, e, http.MethodGet, tt.path).xcache())
			if tt.ttl == 0 {
				assert.Equal(t, "Miss from cloudfront", get(t, e, http.MethodGet, tt.path).xcache(), "not cached")
				return
			}
			c.Advance(tt.ttl - time.Second)
			assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, tt.path).xcache(), "a second before the TTL")
			c.Advance(2 * time.Second)
			assert.Equal(t, "RefreshHit from cloudfront", get(t, e, http.MethodGet, tt.path).xcache(), "a second after the TTL")
			assert.EqualValues(t, 2, e.Stats().OriginRequests)
		})
	}
}

// TestRangeServedFromTheCache: ranges (as players and ffprobe send them) are cut from the
// cached object, also for objects spilled to disk.
func TestRangeServedFromTheCache(t *testing.T) {
	t.Parallel()
	small := randomBytes(t, 200_000)
	large := randomBytes(t, 3_000_000)
	f := newFixture(t, fixtureOptions{objects: []object{
		{key: "v/low.mp4", body: small},
		{key: "v/high.mp4", body: large},
	}})
	e := f.start(t, edge.Options{MemoryObjectBytes: 1 << 20})

	for _, tt := range []struct {
		path string
		body []byte
	}{{"/v/low.mp4", small}, {"/v/high.mp4", large}} {
		first := get(t, e, http.MethodGet, tt.path, "Range", "bytes=100-199")
		require.Equal(t, http.StatusPartialContent, first.status)
		assert.Equal(t, "Miss from cloudfront", first.xcache())
		assert.Equal(t, tt.body[100:200], first.body)
		assert.Equal(t, fmt.Sprintf("bytes 100-199/%d", len(tt.body)), first.header.Get("Content-Range"))

		tail := get(t, e, http.MethodGet, tt.path, "Range", "bytes=-16")
		require.Equal(t, http.StatusPartialContent, tail.status)
		assert.Equal(t, "Hit from cloudfront", tail.xcache())
		assert.Equal(t, tt.body[len(tt.body)-16:], tail.body)

		open := get(t, e, http.MethodGet, tt.path, "Range", fmt.Sprintf("bytes=%d-", len(tt.body)-1000))
		assert.Equal(t, tt.body[len(tt.body)-1000:], open.body)

		unsatisfiable := get(t, e, http.MethodGet, tt.path, "Range", fmt.Sprintf("bytes=%d-", len(tt.body)))
		assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, unsatisfiable.status)

		whole := get(t, e, http.MethodGet, tt.path)
		assert.Equal(t, "bytes", whole.header.Get("Accept-Ranges"))
		assert.Equal(t, tt.body, whole.body)
	}
	s := e.Stats()
	assert.EqualValues(t, 2, s.OriginRequests, "one origin request per object, whatever the ranges")
	assert.EqualValues(t, len(small), s.MemoryBytes)
	assert.EqualValues(t, len(large), s.DiskBytes, "the large object is spilled to disk")
}

// TestOriginErrorsPassThrough: the origin's 404 and 403 reach the viewer with S3's body, as
// "Error from cloudfront", and are cached for CloudFront's error caching TTL (10 s).
func TestOriginErrorsPassThrough(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{objects: []object{
		{key: "private/secret.mp4", body: []byte("secret")},
	}})
	e := f.start(t, edge.Options{})

	missing := get(t, e, http.MethodGet, "/v/missing.mp4")
	assert.Equal(t, http.StatusNotFound, missing.status)
	assert.Equal(t, "Error from cloudfront", missing.xcache())
	assert.Contains(t, string(missing.body), "<Code>NoSuchKey</Code>")

	denied := get(t, e, http.MethodGet, "/private/secret.mp4")
	assert.Equal(t, http.StatusForbidden, denied.status, "the bucket policy denies private/")
	assert.Equal(t, "Error from cloudfront", denied.xcache())
	assert.NotContains(t, string(denied.body), "secret")

	require.EqualValues(t, 2, e.Stats().OriginRequests)
	f.put(t, object{key: "v/missing.mp4", body: []byte("now here")})
	f.clock.Advance(9 * time.Second)
	assert.Equal(t, http.StatusNotFound, get(t, e, http.MethodGet, "/v/missing.mp4").status, "the 404 is cached for 10 s")
	assert.EqualValues(t, 2, e.Stats().OriginRequests)
	f.clock.Advance(2 * time.Second)
	found := get(t, e, http.MethodGet, "/v/missing.mp4")
	assert.Equal(t, http.StatusOK, found.status)
	assert.Equal(t, "now here", string(found.body))
}

// TestMethods: GET and HEAD are served, other methods refused with CloudFront's 403.
func TestMethods(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{objects: []object{{key: "v/poster.jpg", body: []byte("jpeg bytes")}}})
	e := f.start(t, edge.Options{})

	head := get(t, e, http.MethodHead, "/v/poster.jpg")
	assert.Equal(t, http.StatusOK, head.status)
	assert.Equal(t, "Miss from cloudfront", head.xcache())
	assert.Equal(t, "10", head.header.Get("Content-Length"))
	assert.Empty(t, head.body)

	assert.Equal(t, "Miss from cloudfront", get(t, e, http.MethodGet, "/v/poster.jpg").xcache())
	headHit := get(t, e, http.MethodHead, "/v/poster.jpg")
	assert.Equal(t, "Hit from cloudfront", headHit.xcache(), "HEAD is answered from the cached GET")
	assert.Equal(t, "10", headHit.header.Get("Content-Length"))
	assert.Empty(t, headHit.body)

	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		r := get(t, e, m, "/v/poster.jpg")
		assert.Equal(t, http.StatusForbidden, r.status, m)
		assert.Equal(t, "Error from cloudfront", r.xcache(), m)
		assert.Contains(t, string(r.body), "not configured to allow the HTTP request method", m)
	}
	assert.EqualValues(t, 2, e.Stats().OriginRequests, "refused methods never reach the origin")
}

// TestConcurrentMissesCollapse: simultaneous misses of one object make one origin request.
func TestConcurrentMissesCollapse(t *testing.T) {
	t.Parallel()
	body := randomBytes(t, 500_000)
	f := newFixture(t, fixtureOptions{objects: []object{{key: "v/seg1.ts", body: body}}})
	e := f.start(t, edge.Options{})

	var wg sync.WaitGroup
	results := make([]response, 16)
	for i := range results {
		wg.Go(func() { results[i] = get(t, e, http.MethodGet, "/v/seg1.ts") })
	}
	wg.Wait()
	for _, r := range results {
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, body, r.body)
	}
	assert.EqualValues(t, 1, e.Stats().OriginRequests)
}

// TestMemoryBound: the cache never holds more than its byte budgets; the least recently used
// objects go first, and objects too large for any tier are served without being cached.
func TestMemoryBound(t *testing.T) {
	t.Parallel()
	var objects []object
	for i := range 4 {
		objects = append(objects, object{key: fmt.Sprintf("v/small%d.ts", i), body: randomBytes(t, 24<<10)})
	}
	for i := range 3 {
		objects = append(objects, object{key: fmt.Sprintf("v/medium%d.mp4", i), body: randomBytes(t, 100<<10)})
	}
	huge := object{key: "v/huge.mp4", body: randomBytes(t, 300<<10)}
	objects = append(objects, huge)
	f := newFixture(t, fixtureOptions{objects: objects})
	cacheDir := t.TempDir()
	e := f.start(t, edge.Options{MemoryBytes: 64 << 10, MemoryObjectBytes: 32 << 10, DiskBytes: 256 << 10, CacheDir: cacheDir})

	for _, o := range objects {
		r := get(t, e, http.MethodGet, "/"+o.key)
		require.Equal(t, o.body, r.body, o.key)
		s := e.Stats()
		assert.LessOrEqual(t, s.MemoryBytes, int64(64<<10), "after %s", o.key)
		assert.LessOrEqual(t, s.DiskBytes, int64(256<<10), "after %s", o.key)
	}
	s := e.Stats()
	assert.EqualValues(t, 2*(24<<10), s.MemoryBytes, "two of the small objects fit in memory")
	assert.EqualValues(t, 2*(100<<10), s.DiskBytes, "two of the medium objects fit on disk")
	assert.EqualValues(t, 3, s.Evictions)
	files, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	assert.Len(t, files, 2, "evicted objects leave no file behind")

	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/v/small3.ts").xcache())
	assert.Equal(t, "Miss from cloudfront", get(t, e, http.MethodGet, "/v/small0.ts").xcache(), "evicted first")
	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/v/medium2.mp4").xcache())
	assert.Equal(t, "Miss from cloudfront", get(t, e, http.MethodGet, "/v/medium0.mp4").xcache())

	again := get(t, e, http.MethodGet, "/"+huge.key)
	assert.Equal(t, "Miss from cloudfront", again.xcache(), "too large to cache")
	assert.Equal(t, huge.body, again.body)
	part := get(t, e, http.MethodGet, "/"+huge.key, "Range", "bytes=1000-1999")
	assert.Equal(t, http.StatusPartialContent, part.status, "ranges of an uncached object come from the origin")
	assert.Equal(t, huge.body[1000:2000], part.body)

	require.NoError(t, e.Stop())
	files, err = os.ReadDir(cacheDir)
	require.NoError(t, err)
	assert.Empty(t, files, "Stop removes the spilled objects")
}

func TestResponseHeadersPolicy(t *testing.T) {
	const csp = "default-src 'none'; script-src 'self'"
	f := newFixture(t, fixtureOptions{
		objects: []object{
			{key: "app/index.html", body: []byte("<!doctype html>"), cacheControl: "max-age=300"},
			{key: "m1/poster.jpg", body: []byte("jpeg")},
		},
		responseHeaders: &cftypes.ResponseHeadersPolicyConfig{
			Name: aws.String("app"),
			SecurityHeadersConfig: &cftypes.ResponseHeadersPolicySecurityHeadersConfig{
				ContentSecurityPolicy:   &cftypes.ResponseHeadersPolicyContentSecurityPolicy{ContentSecurityPolicy: aws.String(csp), Override: aws.Bool(true)},
				ContentTypeOptions:      &cftypes.ResponseHeadersPolicyContentTypeOptions{Override: aws.Bool(true)},
				FrameOptions:            &cftypes.ResponseHeadersPolicyFrameOptions{FrameOption: cftypes.FrameOptionsListDeny, Override: aws.Bool(true)},
				StrictTransportSecurity: &cftypes.ResponseHeadersPolicyStrictTransportSecurity{AccessControlMaxAgeSec: aws.Int32(63072000), IncludeSubdomains: aws.Bool(true), Override: aws.Bool(true)},
			},
			CustomHeadersConfig: &cftypes.ResponseHeadersPolicyCustomHeadersConfig{Quantity: aws.Int32(2), Items: []cftypes.ResponseHeadersPolicyCustomHeader{
				{Header: aws.String("Cache-Control"), Value: aws.String("max-age=60"), Override: aws.Bool(false)},
				{Header: aws.String("X-Stack"), Value: aws.String("mediastack"), Override: aws.Bool(true)},
			}},
			RemoveHeadersConfig: &cftypes.ResponseHeadersPolicyRemoveHeadersConfig{Quantity: aws.Int32(1), Items: []cftypes.ResponseHeadersPolicyRemoveHeader{{Header: aws.String("Server")}}},
		},
	})
	e := f.start(t, edge.Options{})

	for _, xcache := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		r := get(t, e, http.MethodGet, "/app/index.html")
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, xcache, r.header.Get("X-Cache"))
		assert.Equal(t, csp, r.header.Get("Content-Security-Policy"), xcache)
		assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
		assert.Equal(t, "DENY", r.header.Get("X-Frame-Options"))
		assert.Equal(t, "max-age=63072000; includeSubDomains", r.header.Get("Strict-Transport-Security"))
		assert.Equal(t, "max-age=300", r.header.Get("Cache-Control"), "a header the policy does not override keeps the origin's value")
		assert.Equal(t, "mediastack", r.header.Get("X-Stack"))
		assert.Empty(t, r.header.Get("Server"), "removed by the policy")
	}
	missing := get(t, e, http.MethodGet, "/app/missing.js")
	assert.Equal(t, csp, missing.header.Get("Content-Security-Policy"), "error answers carry the policy too")

	poster := get(t, e, http.MethodGet, "/m1/poster.jpg")
	require.Equal(t, http.StatusOK, poster.status)
	assert.Equal(t, "SAMEORIGIN", poster.header.Get("X-Frame-Options"), "AWS's managed SecurityHeadersPolicy")
	assert.Equal(t, "max-age=31536000", poster.header.Get("Strict-Transport-Security"))
	assert.Empty(t, poster.header.Get("Content-Security-Policy"))
}

func TestCompressesAsCloudFront(t *testing.T) {
	playlist := []byte("#EXTM3U\n" + strings.Repeat("#EXTINF:4.0,\nseg.m4s\n", 200))
	f := newFixture(t, fixtureOptions{objects: []object{
		{key: "m1/stream/master.m3u8", body: playlist},
		{key: "m1/stream/tiny.m3u8", body: []byte("#EXTM3U\n")},
		{key: "m1/360p.mp4", body: bytes.Repeat([]byte{0}, 4000)},
	}})
	e := f.start(t, edge.Options{})

	for _, xcache := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		r := get(t, e, http.MethodGet, "/m1/stream/master.m3u8", "Accept-Encoding", "br, gzip;q=0.8")
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, xcache, r.xcache())
		require.Equal(t, "gzip", r.header.Get("Content-Encoding"), xcache)
		assert.Contains(t, r.header.Values("Vary"), "Accept-Encoding")
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, playlist, plain)
		assert.Less(t, len(r.body), len(playlist)/4)
	}
	for name, r := range map[string]response{
		"a viewer that does not accept gzip":  get(t, e, http.MethodGet, "/m1/stream/master.m3u8", "Accept-Encoding", "identity"),
		"gzip refused by its weight":          get(t, e, http.MethodGet, "/m1/stream/master.m3u8", "Accept-Encoding", "gzip;q=0"),
		"a range":                             get(t, e, http.MethodGet, "/m1/stream/master.m3u8", "Accept-Encoding", "gzip", "Range", "bytes=0-99"),
		"under 1,000 bytes":                   get(t, e, http.MethodGet, "/m1/stream/tiny.m3u8", "Accept-Encoding", "gzip"),
		"a type CloudFront does not compress": get(t, e, http.MethodGet, "/m1/360p.mp4", "Accept-Encoding", "gzip"),
	} {
		assert.Empty(t, r.header.Get("Content-Encoding"), name)
		assert.NotEmpty(t, r.body, name)
	}
}
