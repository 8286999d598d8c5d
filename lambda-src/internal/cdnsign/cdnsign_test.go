package cdnsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/cdnsign"
)

func TestCannedPolicyIsCloudFrontsExactJSON(t *testing.T) {
	t.Parallel()
	got := cdnsign.CannedPolicy("https://d111111abcdef8.cloudfront.net/a/720p.mp4?x=1&y=2", time.Unix(1767225600, 0))
	assert.Equal(t, `{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/a/720p.mp4?x=1&y=2","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}`, got)
}

func TestSignedURLVerifiesWithThePublicKey(t *testing.T) {
	t.Parallel()
	s, key := newSigner(t)
	now := time.Now()
	expires := now.Add(time.Hour)
	resource := "https://d111111abcdef8.cloudfront.net/0b6f/hls/master.m3u8"

	signed, err := s.Sign(resource, expires)
	require.NoError(t, err)
	u, err := url.Parse(signed)
	require.NoError(t, err)
	q := u.Query()
	assert.Equal(t, resource, strings.Split(signed, "?")[0])
	assert.Equal(t, "K2JCJMDEHXQW5F", q.Get("Key-Pair-Id"))
	assert.Equal(t, expires.Unix(), mustInt(t, q.Get("Expires")))
	assert.NotContains(t, q.Get("Signature"), "+", "CloudFront's URL-safe alphabet")
	assert.NotContains(t, q.Get("Signature"), "/")
	assert.NotContains(t, q.Get("Signature"), "=")

	// Independently of Verify: the signature is RSA-SHA1 over the canned policy.
	raw, err := cdnsign.Decode(q.Get("Signature"))
	require.NoError(t, err)
	digest := sha1.Sum([]byte(cdnsign.CannedPolicy(resource, expires))) //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA1, digest[:], raw))

	require.NoError(t, cdnsign.Verify(signed, &key.PublicKey, "K2JCJMDEHXQW5F", now))
	assert.Error(t, cdnsign.Verify(signed, &key.PublicKey, "K2JCJMDEHXQW5F", expires.Add(time.Second)), "expired")
	assert.Error(t, cdnsign.Verify(strings.Replace(signed, "master.m3u8", "other.m3u8", 1), &key.PublicKey, "K2JCJMDEHXQW5F", now), "another path")
	assert.Error(t, cdnsign.Verify(strings.Replace(signed, "Expires=", "Expires=9", 1), &key.PublicKey, "K2JCJMDEHXQW5F", now), "a longer lifetime")
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	assert.Error(t, cdnsign.Verify(signed, &other.PublicKey, "K2JCJMDEHXQW5F", now), "another key")

	withQuery, err := s.Sign(resource+"?v=2", expires)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(withQuery, resource+"?v=2&Expires="))
	require.NoError(t, cdnsign.Verify(withQuery, &key.PublicKey, "K2JCJMDEHXQW5F", now))
}

func TestCustomPolicyIsCloudFrontsExactJSON(t *testing.T) {
	t.Parallel()
	got := cdnsign.CustomPolicy("https://d111111abcdef8.cloudfront.net/0b6f/*", time.Unix(1767225600, 0))
	assert.Equal(t, `{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/0b6f/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}`, got)
}

func TestSignedCookiesVerifyWithThePublicKey(t *testing.T) {
	t.Parallel()
	s, key := newSigner(t)
	now := time.Now()
	expires := now.Add(time.Hour)
	const base = "https://d111111abcdef8.cloudfront.net/0b6f"

	cookies, err := s.Cookies(base+"/*", expires)
	require.NoError(t, err)
	assert.Len(t, cookies, 3)
	assert.Equal(t, "K2JCJMDEHXQW5F", cookies["CloudFront-Key-Pair-Id"])
	for _, name := range []string{"CloudFront-Policy", "CloudFront-Signature"} {
		assert.NotContains(t, cookies[name], "+", "CloudFront's URL-safe alphabet")
		assert.NotContains(t, cookies[name], "/")
		assert.NotContains(t, cookies[name], "=")
	}

	// Independently of VerifyCookies: the policy cookie is the custom policy, and the
	// signature is RSA-SHA1 over it.
	policy, err := cdnsign.Decode(cookies["CloudFront-Policy"])
	require.NoError(t, err)
	assert.Equal(t, cdnsign.CustomPolicy(base+"/*", expires), string(policy))
	raw, err := cdnsign.Decode(cookies["CloudFront-Signature"])
	require.NoError(t, err)
	digest := sha1.Sum(policy) //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	require.NoError(t, rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA1, digest[:], raw))

	for _, u := range []string{base + "/hls/master.m3u8", base + "/hls/720p/segment_3.ts", base + "/", base + "/720p.mp4?v=2"} {
		assert.NoError(t, cdnsign.VerifyCookies(cookies, u, &key.PublicKey, "K2JCJMDEHXQW5F", now), u)
	}
	assert.ErrorContains(t, cdnsign.VerifyCookies(cookies, base+"/hls/master.m3u8", &key.PublicKey, "K2JCJMDEHXQW5F", expires), "expired")
	assert.ErrorContains(t, cdnsign.VerifyCookies(cookies, "https://d111111abcdef8.cloudfront.net/0b6e/720p.mp4", &key.PublicKey, "K2JCJMDEHXQW5F", now), "not covered", "another media")
	assert.ErrorContains(t, cdnsign.VerifyCookies(cookies, base, &key.PublicKey, "K2JCJMDEHXQW5F", now), "not covered", "the slash before * is literal")
	assert.ErrorContains(t, cdnsign.VerifyCookies(cookies, base+"/x", &key.PublicKey, "KOTHER", now), "key pair id")
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	assert.Error(t, cdnsign.VerifyCookies(cookies, base+"/x", &other.PublicKey, "K2JCJMDEHXQW5F", now), "another key")

	// A policy for a longer lifetime does not carry the signature over.
	forged := map[string]string{}
	for k, v := range cookies {
		forged[k] = v
	}
	forged["CloudFront-Policy"] = cdnsign.Encode([]byte(cdnsign.CustomPolicy(base+"/*", expires.Add(24*time.Hour))))
	assert.Error(t, cdnsign.VerifyCookies(forged, base+"/x", &key.PublicKey, "K2JCJMDEHXQW5F", now), "a longer lifetime")
}

func TestSignedCookieWildcards(t *testing.T) {
	t.Parallel()
	s, key := newSigner(t)
	now := time.Now()
	const host = "https://d111111abcdef8.cloudfront.net"

	for _, tc := range []struct {
		resource, url string
		match         bool
	}{
		{host + "/a/*", host + "/a/", true},
		{host + "/a/*", host + "/a/b/c.ts", true},
		{host + "/a/*.ts", host + "/a/b/segment_1.ts", true},
		{host + "/a/*.ts", host + "/a/b/index.m3u8", false},
		{host + "/a/segment_?.ts", host + "/a/segment_7.ts", true},
		{host + "/a/segment_?.ts", host + "/a/segment_.ts", false},
		{host + "/a/segment_?.ts", host + "/a/segment_12.ts", false},
		{host + "/a/b.ts", host + "/a/bxts", false}, // . is literal, not a regexp's any
		{host + "/a/b.ts", host + "/a/b.ts", true},
		{host + "/a/(b)+[c]", host + "/a/(b)+[c]", true},
		{host + "/a/*", host + "/A/b", false},
	} {
		cookies, err := s.Cookies(tc.resource, now.Add(time.Minute))
		require.NoError(t, err)
		err = cdnsign.VerifyCookies(cookies, tc.url, &key.PublicKey, "K2JCJMDEHXQW5F", now)
		if tc.match {
			assert.NoError(t, err, "%s ~ %s", tc.resource, tc.url)
		} else {
			assert.Error(t, err, "%s !~ %s", tc.resource, tc.url)
		}
	}
}

func TestParsePrivateKey(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	jsonWrapped := `{"private_key": "` + strings.ReplaceAll(string(pkcs8), "\n", `\n`) + `"}`

	for name, data := range map[string][]byte{"PKCS #1": pkcs1, "PKCS #8": pkcs8, "JSON": []byte(jsonWrapped)} {
		got, err := cdnsign.ParsePrivateKey(data)
		require.NoError(t, err, name)
		assert.True(t, key.Equal(got), name)
	}

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	_, err = cdnsign.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	assert.ErrorContains(t, err, "RSA")
	_, err = cdnsign.ParsePrivateKey([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	assert.ErrorContains(t, err, "not a private key")
	_, err = cdnsign.ParsePrivateKey([]byte("not a key"))
	assert.ErrorContains(t, err, "no PEM")
	_, err = cdnsign.ParsePrivateKey([]byte(`{"key": "x"}`))
	assert.ErrorContains(t, err, "private_key")
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', "not a number: %q", s)
		n = n*10 + int64(c-'0')
	}
	return n
}

// newSigner returns a Signer of key pair K2JCJMDEHXQW5F and its new private key.
func newSigner(t *testing.T) (*cdnsign.Signer, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	s, err := cdnsign.New("K2JCJMDEHXQW5F", key)
	require.NoError(t, err)
	return s, key
}
