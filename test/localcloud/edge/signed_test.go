package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/edge"
)

// TestSignedURLs: where the behaviours trust a key group, only requests with a valid signed
// URL or signed cookies are served; the signature is not part of the cache key.
func TestSignedURLs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{signed: true, objects: []object{
		{key: "v/master.m3u8", body: []byte("#EXTM3U\n")},
		{key: "v/seg0.ts", body: []byte("segment 0")},
		{key: "w/seg0.ts", body: []byte("another video")},
	}})
	e := f.start(t, edge.Options{})
	now := f.clock.Now()
	later := now.Add(time.Hour)

	refused := func(t *testing.T, r response, code string) {
		t.Helper()
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Equal(t, "Error from cloudfront", r.xcache())
		assert.Equal(t, "text/xml", r.header.Get("Content-Type"))
		assert.Contains(t, string(r.body), "<Code>"+code+"</Code>")
	}

	t.Run("unsigned", func(t *testing.T) {
		refused(t, get(t, e, http.MethodGet, "/v/master.m3u8"), "MissingKey")
	})
	t.Run("canned", func(t *testing.T) {
		r := get(t, e, http.MethodGet, f.cannedURL(t, e.Domain(), "/v/master.m3u8", later))
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "#EXTM3U\n", string(r.body))
	})
	t.Run("canned with another query parameter", func(t *testing.T) {
		r := get(t, e, http.MethodGet, f.cannedURL(t, e.Domain(), "/v/master.m3u8?session=1", later))
		assert.Equal(t, http.StatusOK, r.status)
	})
	t.Run("canned for another object", func(t *testing.T) {
		signed := f.cannedURL(t, e.Domain(), "/v/seg0.ts", later)
		refused(t, get(t, e, http.MethodGet, strings.Replace(signed, "/v/seg0.ts", "/w/seg0.ts", 1)), "AccessDenied")
	})
	t.Run("canned for another distribution", func(t *testing.T) {
		refused(t, get(t, e, http.MethodGet, f.cannedURL(t, "d0000000000000.cloudfront.net", "/v/seg0.ts", later)), "AccessDenied")
	})
	t.Run("canned, expiry moved", func(t *testing.T) {
		signed := f.cannedURL(t, e.Domain(), "/v/seg0.ts", later)
		tampered := strings.Replace(signed, fmt.Sprint(later.Unix()), fmt.Sprint(later.Unix()+3600), 1)
		refused(t, get(t, e, http.MethodGet, tampered), "AccessDenied")
	})
	t.Run("expired", func(t *testing.T) {
		refused(t, get(t, e, http.MethodGet, f.cannedURL(t, e.Domain(), "/v/seg0.ts", now.Add(-time.Second))), "AccessDenied")
		refused(t, get(t, e, http.MethodGet, f.customURL(t, "/v/seg0.ts", "https://"+e.Domain()+"/v/*", now)), "AccessDenied")
	})
	t.Run("unknown key", func(t *testing.T) {
		signed := f.cannedURL(t, e.Domain(), "/v/seg0.ts", later)
		refused(t, get(t, e, http.MethodGet, strings.Replace(signed, "Key-Pair-Id="+f.keyID, "Key-Pair-Id=K2JCJMDEHXQW5F", 1)), "InvalidKey")
	})
	t.Run("custom policy with a wildcard", func(t *testing.T) {
		resource := "https://" + e.Domain() + "/v/*"
		for _, path := range []string{"/v/master.m3u8", "/v/seg0.ts"} {
			r := get(t, e, http.MethodGet, f.customURL(t, path, resource, later))
			assert.Equal(t, http.StatusOK, r.status, path)
		}
		refused(t, get(t, e, http.MethodGet, f.customURL(t, "/w/seg0.ts", resource, later)), "AccessDenied")
	})
	t.Run("custom policy not yet valid", func(t *testing.T) {
		policy := fmt.Sprintf(`{"Statement":[{"Resource":"https://%s/v/*","Condition":{"DateLessThan":{"AWS:EpochTime":%d},"DateGreaterThan":{"AWS:EpochTime":%d}}}]}`, e.Domain(), later.Unix(), now.Add(time.Minute).Unix())
		url := fmt.Sprintf("/v/seg0.ts?Policy=%s&Signature=%s&Key-Pair-Id=%s", cfEncode([]byte(policy)), f.sign(t, policy), f.keyID)
		refused(t, get(t, e, http.MethodGet, url), "AccessDenied")
	})
	t.Run("signed cookies", func(t *testing.T) {
		policy := fmt.Sprintf(`{"Statement":[{"Resource":"https://%s/v/*","Condition":{"DateLessThan":{"AWS:EpochTime":%d}}}]}`, e.Domain(), later.Unix())
		cookie := fmt.Sprintf("CloudFront-Policy=%s; CloudFront-Signature=%s; CloudFront-Key-Pair-Id=%s", cfEncode([]byte(policy)), f.sign(t, policy), f.keyID)
		r := get(t, e, http.MethodGet, "/v/seg0.ts", "Cookie", cookie)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, "segment 0", string(r.body))
	})
	t.Run("signature not in the cache key", func(t *testing.T) {
		first := get(t, e, http.MethodGet, f.cannedURL(t, e.Domain(), "/w/seg0.ts", later))
		second := get(t, e, http.MethodGet, f.cannedURL(t, e.Domain(), "/w/seg0.ts", later.Add(time.Minute)))
		require.Equal(t, http.StatusOK, first.status)
		assert.Equal(t, "Miss from cloudfront", first.xcache())
		assert.Equal(t, "Hit from cloudfront", second.xcache())
	})
	t.Run("a cached object still needs a signature", func(t *testing.T) {
		refused(t, get(t, e, http.MethodGet, "/w/seg0.ts"), "MissingKey")
	})
}

// TestGeoRestriction: a whitelist serves only its countries; viewers whose country is not
// known are served.
func TestGeoRestriction(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{geo: []string{"DE", "FR"}, objects: []object{{key: "v/poster.jpg", body: []byte("jpeg")}}})
	e := f.start(t, edge.Options{ClientCountry: func(r *http.Request) string { return r.Header.Get("X-Test-Country") }})

	for country, want := range map[string]int{"DE": http.StatusOK, "fr": http.StatusOK, "US": http.StatusForbidden, "": http.StatusOK} {
		r := get(t, e, http.MethodGet, "/v/poster.jpg", "X-Test-Country", country)
		assert.Equal(t, want, r.status, "country %q", country)
		if want == http.StatusForbidden {
			assert.Contains(t, string(r.body), "block access from your country")
			assert.Equal(t, "Error from cloudfront", r.xcache())
		}
	}

	open := f.start(t, edge.Options{})
	assert.Equal(t, http.StatusOK, get(t, open, http.MethodGet, "/v/poster.jpg", "X-Test-Country", "US").status, "without a country function everyone is served")
}
