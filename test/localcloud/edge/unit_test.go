package edge

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*.m3u8", "/v/master.m3u8", true},
		{"*.m3u8", "/master.m3u8", true},
		{"*.m3u8", "/v/master.m3u8x", false},
		{"*.ts", "/dir.ts/file", false},
		{"*.ts", "/dir.ts/file.ts", true},
		{"images/*.jpg", "/images/a/b.jpg", true}, // the leading "/" is optional
		{"/images/*.jpg", "/images/a.jpg", true},
		{"images/*.jpg", "/other/images/a.jpg", false},
		{"/v/seg?.ts", "/v/seg1.ts", true},
		{"/v/seg?.ts", "/v/seg10.ts", false},
		{"*.JPG", "/a.jpg", false}, // case-sensitive
		{"*", "/anything/at/all", true},
		{"/a*b*c", "/axxbyyc", true},
		{"/a*b*c", "/axxbyy", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, matchPattern(tt.pattern, tt.path), "%s ~ %s", tt.pattern, tt.path)
	}
}

func TestBehaviourForIsFirstMatchThenDefault(t *testing.T) {
	d := &distribution{behaviours: []behaviour{{pattern: "/v/*"}, {pattern: "*.ts"}, {}}}
	assert.Equal(t, "/v/*", d.behaviourFor("/v/seg.ts").pattern, "order decides, not specificity")
	assert.Equal(t, "*.ts", d.behaviourFor("/w/seg.ts").pattern)
	assert.Equal(t, "", d.behaviourFor("/w/poster.jpg").pattern)
}

func TestParseS3Domain(t *testing.T) {
	tests := map[string][2]string{
		"media-derivatives.s3.eu-west-1.amazonaws.com":           {"media-derivatives", "eu-west-1"},
		"media.derivatives.s3.us-east-1.amazonaws.com":           {"media.derivatives", "us-east-1"},
		"media-derivatives.s3-eu-west-1.amazonaws.com":           {"media-derivatives", "eu-west-1"},
		"media-derivatives.s3.amazonaws.com":                     {"media-derivatives", ""},
		"media-derivatives.s3.dualstack.eu-west-1.amazonaws.com": {"media-derivatives", "eu-west-1"},
		"example.com": {"", ""},
	}
	for domain, want := range tests {
		b, r := parseS3Domain(domain)
		assert.Equal(t, want, [2]string{b, r}, domain)
	}
}

func TestNormaliseARN(t *testing.T) {
	arn, account := normaliseARN("arn:aws:cloudfront:123456789012:distribution/E1")
	assert.Equal(t, "arn:aws:cloudfront::123456789012:distribution/E1", arn, "moto's form gets the empty region back")
	assert.Equal(t, "123456789012", account)
	arn, _ = normaliseARN("arn:aws:cloudfront::123456789012:distribution/E1")
	assert.Equal(t, "arn:aws:cloudfront::123456789012:distribution/E1", arn)
}

func TestWithoutSigningParams(t *testing.T) {
	assert.Equal(t, "a=1&b=%20", withoutSigningParams("a=1&Expires=5&Signature=x~y_&b=%20&Key-Pair-Id=K"))
	assert.Equal(t, "", withoutSigningParams("Policy=p&Signature=s&Key-Pair-Id=K"))
}

func TestTTLFor(t *testing.T) {
	b := &behaviour{minTTL: 10 * time.Second, defaultTTL: 100 * time.Second, maxTTL: 1000 * time.Second}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none: the default", http.Header{}, 100 * time.Second},
		{"max-age within", http.Header{"Cache-Control": {"public, max-age=50"}}, 50 * time.Second},
		{"max-age below min", http.Header{"Cache-Control": {"max-age=1"}}, 10 * time.Second},
		{"max-age above max", http.Header{"Cache-Control": {"max-age=99999"}}, 1000 * time.Second},
		{"s-maxage first", http.Header{"Cache-Control": {"max-age=20, s-maxage=30"}}, 30 * time.Second},
		{"no-cache: the min", http.Header{"Cache-Control": {"no-cache"}}, 10 * time.Second},
		{"private: the min", http.Header{"Cache-Control": {"private, max-age=500"}}, 10 * time.Second},
		{"Expires from Date", http.Header{
			"Expires": {now.Add(200 * time.Second).Format(http.TimeFormat)},
			"Date":    {now.Format(http.TimeFormat)},
		}, 200 * time.Second},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ttlFor(b, tt.header, now), tt.name)
	}
}

func TestInvalidates(t *testing.T) {
	assert.True(t, invalidates("/v/*", "/v/a/b.ts"))
	assert.True(t, invalidates("/*", "/x"))
	assert.True(t, invalidates("/v/a.ts", "/v/a.ts?q=1"))
	assert.False(t, invalidates("/v/a.ts", "/v/a.tsx"))
	assert.False(t, invalidates("/v/*", "/w/a.ts"))
}

func TestStoreEvictsLeastRecentlyUsedPerTier(t *testing.T) {
	s := newStore(100, 1000)
	put := func(key string, size int64) { s.put(&entry{key: key, size: size, body: make([]byte, size)}) }
	put("a", 40)
	put("b", 40)
	s.get("a") // a is now the most recently used
	put("c", 40)
	assert.NotNil(t, s.get("a"))
	assert.Nil(t, s.get("b"), "the least recently used goes first")
	assert.NotNil(t, s.get("c"))
	put("huge", 101)
	assert.Nil(t, s.get("huge"), "larger than the tier: not stored")
	st := s.stats()
	assert.EqualValues(t, 80, st.MemoryBytes)
	assert.Equal(t, 2, st.Objects)
	assert.EqualValues(t, 1, st.Evictions)
}

func TestErrorTTL(t *testing.T) {
	b := &behaviour{maxTTL: 60 * time.Second}
	d := &distribution{errorTTLs: map[int]time.Duration{503: 0}}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	noStore := http.Header{"Cache-Control": {"private, no-store"}}
	assert.Equal(t, 10*time.Second, errorTTL(d, b, 404, http.Header{}, now), "10 s by default")
	assert.Equal(t, time.Duration(0), errorTTL(d, b, 404, noStore, now), "a 404 saying no-store")
	assert.Equal(t, 10*time.Second, errorTTL(d, b, 403, noStore, now), "no-store only counts for 404, 414 and 501")
	assert.Equal(t, 30*time.Second, errorTTL(d, b, 404, http.Header{"Cache-Control": {"max-age=30"}}, now))
	assert.Equal(t, 10*time.Second, errorTTL(d, b, 404, http.Header{"Cache-Control": {"max-age=1"}}, now), "never below the minimum")
	assert.Equal(t, 60*time.Second, errorTTL(d, b, 404, http.Header{"Cache-Control": {"max-age=600"}}, now), "never above the max TTL")
	assert.Equal(t, time.Duration(0), errorTTL(d, b, 503, http.Header{}, now), "the distribution's own minimum")
	assert.Equal(t, time.Duration(0), errorTTL(d, b, 410, http.Header{}, now), "a status CloudFront never caches")
}

func TestCacheKeyHoldsForwardedHeaders(t *testing.T) {
	b := &behaviour{forwardHeaders: []string{"Authorization", "Origin"}}
	h := http.Header{"Origin": {"https://a.example"}}
	assert.Equal(t, "/v1/feed?limit=5\nAuthorization:\nOrigin:https://a.example", cacheKey(b, "/v1/feed", "limit=5", h))
	assert.True(t, invalidates("/v1/feed", cacheKey(b, "/v1/feed", "", h)), "invalidations match the path alone")
}
