package edge_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/edge"
)

// TestOriginRequestsSignedAsTheOAC: origin requests are path-style GETs of the bucket's key,
// SigV4-signed for s3 in the bucket's region, naming the distribution in signed headers.
func TestOriginRequestsSignedAsTheOAC(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	var mu sync.Mutex
	var seen *http.Request
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Clone(r.Context())
		mu.Unlock()
		w.Header().Set("Content-Type", "video/mp2t")
		_, _ = w.Write([]byte("segment"))
	}))
	t.Cleanup(origin.Close)
	e := f.start(t, edge.Options{OriginEndpoint: origin.URL})

	r := get(t, e, http.MethodGet, "/v/a%20b.ts")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "segment", string(r.body))

	mu.Lock()
	defer mu.Unlock()
	require.NotNil(t, seen)
	assert.Equal(t, "/"+f.bucket+"/v/a%20b.ts", seen.URL.EscapedPath())
	assert.Equal(t, e.ARN(), seen.Header.Get(edge.HeaderSourceARN))
	auth := seen.Header.Get("Authorization")
	creds, err := f.cfg.Credentials.Retrieve(f.ctx)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+creds.AccessKeyID+"/"), auth)
	assert.Contains(t, auth, "/"+f.cfg.Region+"/s3/aws4_request")
	assert.Contains(t, auth, "x-amz-source-account;x-amz-source-arn", "the distribution is part of the signature")

	// The signature is SigV4's: signing the same request at the same time gives it again.
	at, err := time.Parse("20060102T150405Z", seen.Header.Get("X-Amz-Date"))
	require.NoError(t, err)
	again, err := http.NewRequest(http.MethodGet, origin.URL+seen.URL.RequestURI(), nil)
	require.NoError(t, err)
	for k, v := range seen.Header {
		if k != "Authorization" && k != "Accept-Encoding" {
			again.Header[k] = v
		}
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	require.NoError(t, signer.SignHTTP(f.ctx, creds, again, seen.Header.Get("X-Amz-Content-Sha256"), "s3", f.cfg.Region, at))
	assert.Equal(t, auth, again.Header.Get("Authorization"))
}

// TestRefresh: a refresh applies a changed configuration and new invalidations.
func TestRefresh(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{objects: []object{
		{key: "v/seg0.ts", body: []byte("segment 0")},
		{key: "w/seg0.ts", body: []byte("other")},
	}})
	e := f.start(t, edge.Options{})
	for _, p := range []string{"/v/seg0.ts", "/w/seg0.ts"} {
		get(t, e, http.MethodGet, p)
		require.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, p).xcache())
	}

	_, err := f.cf.CreateInvalidation(f.ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: &f.distID,
		InvalidationBatch: &cftypes.InvalidationBatch{
			CallerReference: aws.String("refresh-test"),
			Paths:           &cftypes.Paths{Quantity: aws.Int32(1), Items: []string{"/v/*"}},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/v/seg0.ts").xcache(), "not before a refresh")
	require.NoError(t, e.Refresh(f.ctx))
	assert.Equal(t, "Miss from cloudfront", get(t, e, http.MethodGet, "/v/seg0.ts").xcache(), "invalidated")
	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/w/seg0.ts").xcache(), "outside the invalidation")
	require.NoError(t, e.Refresh(f.ctx))
	assert.Equal(t, "Hit from cloudfront", get(t, e, http.MethodGet, "/v/seg0.ts").xcache(), "an invalidation applies once")

	cfg, err := f.cf.GetDistributionConfig(f.ctx, &cloudfront.GetDistributionConfigInput{Id: &f.distID})
	require.NoError(t, err)
	cfg.DistributionConfig.Enabled = aws.Bool(false)
	_, err = f.cf.UpdateDistribution(f.ctx, &cloudfront.UpdateDistributionInput{Id: &f.distID, IfMatch: cfg.ETag, DistributionConfig: cfg.DistributionConfig})
	require.NoError(t, err)
	require.NoError(t, e.Refresh(f.ctx))
	assert.Equal(t, http.StatusForbidden, get(t, e, http.MethodGet, "/w/seg0.ts").status, "a disabled distribution serves nothing")
}

// TestViewerProtocolPolicy: when enforced, plain HTTP is redirected as redirect-to-https says;
// a request the local proxy marks as HTTPS is served.
func TestViewerProtocolPolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{objects: []object{{key: "v/seg0.ts", body: []byte("segment 0")}}})
	e := f.start(t, edge.Options{EnforceViewerProtocol: true})

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodGet, e.URL()+"/v/seg0.ts?x=1", nil)
	require.NoError(t, err)
	req.Host = e.Domain()
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "https://"+e.Domain()+"/v/seg0.ts?x=1", resp.Header.Get("Location"))

	assert.Equal(t, http.StatusOK, get(t, e, http.MethodGet, "/v/seg0.ts", "X-Forwarded-Proto", "https").status)
}
