package edge_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
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
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/edge"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

// managedSecurityHeadersPolicy is AWS's managed SecurityHeadersPolicy, which the emulator
// does not hold.
const managedSecurityHeadersPolicy = "67f7725c-6f97-4210-82d7-5512b31e9d03"

// ttls are a behaviour's min, default and max TTL in seconds.
type ttls struct{ min, def, max int64 }

// The behaviours of modules/cdn with TTLs a test can step through on a fake clock.
var (
	playlistTTL  = ttls{0, 2, 10}
	segmentTTL   = ttls{0, 86400, 31536000}
	posterTTL    = ttls{60, 3600, 7200}
	defaultTTL   = ttls{0, 30, 60}
	apiTTL       = ttls{0, 0, 60}
	behaviourTTL = []struct {
		pattern string
		ttl     ttls
	}{
		{"*.m3u8", playlistTTL},
		{"*.ts", segmentTTL},
		{"*.m4s", segmentTTL},
		{"*.mp4", segmentTTL},
		{"*.jpg", posterTTL},
	}
)

// object is one object of the derivatives bucket.
type object struct {
	key, cacheControl string
	body              []byte
}

type fixtureOptions struct {
	// apiDomain, when set, adds the upload API as a custom origin of that domain (plain
	// HTTP) behind /v1/feed and /v1/media/*, as modules/cdn's api_origin does.
	apiDomain string
	signed    bool     // trust a key group on every behaviour, as signing_public_key_pem does
	geo       []string // whitelist
	objects   []object
	// responseHeaders, when set, is created as a response headers policy and attached to the
	// default behaviour; "*.jpg" then gets AWS's managed SecurityHeadersPolicy.
	responseHeaders *cftypes.ResponseHeadersPolicyConfig
}

// fixture is a derivatives bucket behind a distribution configured as modules/cdn configures
// it, in a namespace of the shared emulator.
type fixture struct {
	ctx    context.Context
	cfg    aws.Config
	s3     *s3.Client
	cf     *cloudfront.Client
	bucket string
	distID string
	key    *rsa.PrivateKey // signing key, when signed
	keyID  string
	clock  *clock
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	s3c, err := ns.S3Client(ctx)
	require.NoError(t, err)
	f := &fixture{
		ctx:    ctx,
		cfg:    cfg,
		s3:     s3c,
		cf:     cloudfront.NewFromConfig(cfg),
		bucket: ns.ID + "-derivatives",
		clock:  &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &f.bucket})
	require.NoError(t, err)
	for _, obj := range o.objects {
		f.put(t, obj)
	}

	oac, err := f.cf.CreateOriginAccessControl(ctx, &cloudfront.CreateOriginAccessControlInput{
		OriginAccessControlConfig: &cftypes.OriginAccessControlConfig{
			Name:                          aws.String(ns.ID),
			OriginAccessControlOriginType: cftypes.OriginAccessControlOriginTypesS3,
			SigningBehavior:               cftypes.OriginAccessControlSigningBehaviorsAlways,
			SigningProtocol:               cftypes.OriginAccessControlSigningProtocolsSigv4,
		},
	})
	require.NoError(t, err)

	var trusted *cftypes.TrustedKeyGroups
	if o.signed {
		f.key, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		der, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
		require.NoError(t, err)
		pk, err := f.cf.CreatePublicKey(ctx, &cloudfront.CreatePublicKeyInput{PublicKeyConfig: &cftypes.PublicKeyConfig{
			CallerReference: aws.String(ns.ID),
			Name:            aws.String(ns.ID + "-key"),
			EncodedKey:      aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))),
		}})
		require.NoError(t, err)
		f.keyID = aws.ToString(pk.PublicKey.Id)
		kg, err := f.cf.CreateKeyGroup(ctx, &cloudfront.CreateKeyGroupInput{KeyGroupConfig: &cftypes.KeyGroupConfig{
			Name:  aws.String(ns.ID + "-signing"),
			Items: []string{f.keyID},
		}})
		require.NoError(t, err)
		trusted = &cftypes.TrustedKeyGroups{Enabled: aws.Bool(true), Quantity: aws.Int32(1), Items: []string{aws.ToString(kg.KeyGroup.Id)}}
	}

	behaviour := func(pattern string, ttl ttls) cftypes.CacheBehavior {
		return cftypes.CacheBehavior{
			PathPattern:          aws.String(pattern),
			TargetOriginId:       aws.String("derivatives"),
			ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps,
			AllowedMethods: &cftypes.AllowedMethods{
				Quantity:      aws.Int32(2),
				Items:         []cftypes.Method{cftypes.MethodGet, cftypes.MethodHead},
				CachedMethods: &cftypes.CachedMethods{Quantity: aws.Int32(2), Items: []cftypes.Method{cftypes.MethodGet, cftypes.MethodHead}},
			},
			Compress:         aws.Bool(true),
			TrustedKeyGroups: trusted,
			MinTTL:           aws.Int64(ttl.min),
			DefaultTTL:       aws.Int64(ttl.def),
			MaxTTL:           aws.Int64(ttl.max),
			ForwardedValues: &cftypes.ForwardedValues{
				QueryString: aws.Bool(false),
				Cookies:     &cftypes.CookiePreference{Forward: cftypes.ItemSelectionNone},
			},
		}
	}
	var ordered []cftypes.CacheBehavior
	origins := []cftypes.Origin{{
		Id:                    aws.String("derivatives"),
		DomainName:            aws.String(f.bucket + ".s3." + cfg.Region + ".amazonaws.com"),
		OriginAccessControlId: oac.OriginAccessControl.Id,
		S3OriginConfig:        &cftypes.S3OriginConfig{OriginAccessIdentity: aws.String("")},
	}}
	if o.apiDomain != "" {
		origins = append(origins, cftypes.Origin{
			Id:         aws.String("api"),
			DomainName: aws.String(o.apiDomain),
			CustomOriginConfig: &cftypes.CustomOriginConfig{
				HTTPPort: aws.Int32(80), HTTPSPort: aws.Int32(443),
				OriginProtocolPolicy: cftypes.OriginProtocolPolicyHttpOnly,
			},
		})
		for _, pattern := range []string{"/v1/feed", "/v1/media/*"} {
			b := behaviour(pattern, apiTTL)
			b.TargetOriginId = aws.String("api")
			b.TrustedKeyGroups = nil
			b.AllowedMethods.Quantity, b.AllowedMethods.Items = aws.Int32(3), []cftypes.Method{cftypes.MethodGet, cftypes.MethodHead, cftypes.MethodOptions}
			b.ForwardedValues = &cftypes.ForwardedValues{
				QueryString: aws.Bool(true),
				Cookies:     &cftypes.CookiePreference{Forward: cftypes.ItemSelectionNone},
				Headers:     &cftypes.Headers{Quantity: aws.Int32(2), Items: []string{"Authorization", "Origin"}},
			}
			ordered = append(ordered, b)
		}
	}
	for _, b := range behaviourTTL {
		ordered = append(ordered, behaviour(b.pattern, b.ttl))
	}
	def := behaviour("", defaultTTL)
	if o.responseHeaders != nil {
		p, err := f.cf.CreateResponseHeadersPolicy(ctx, &cloudfront.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: o.responseHeaders})
		require.NoError(t, err)
		def.ResponseHeadersPolicyId = p.ResponseHeadersPolicy.Id
		for i := range ordered {
			if aws.ToString(ordered[i].PathPattern) == "*.jpg" {
				ordered[i].ResponseHeadersPolicyId = aws.String(managedSecurityHeadersPolicy)
			}
		}
	}
	geo := &cftypes.GeoRestriction{RestrictionType: cftypes.GeoRestrictionTypeNone, Quantity: aws.Int32(0)}
	if len(o.geo) > 0 {
		geo = &cftypes.GeoRestriction{RestrictionType: cftypes.GeoRestrictionTypeWhitelist, Quantity: aws.Int32(int32(len(o.geo))), Items: o.geo} //nolint:gosec // a count of a few items
	}
	dist, err := f.cf.CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
		CallerReference: aws.String(ns.ID),
		Comment:         aws.String("edge test"),
		Enabled:         aws.Bool(true),
		Origins:         &cftypes.Origins{Quantity: aws.Int32(int32(len(origins))), Items: origins}, //nolint:gosec // a count of a few items
		DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{
			TargetOriginId:       def.TargetOriginId,
			ViewerProtocolPolicy: def.ViewerProtocolPolicy,
			AllowedMethods:       def.AllowedMethods,
			Compress:             def.Compress,
			TrustedKeyGroups:     def.TrustedKeyGroups,
			MinTTL:               def.MinTTL,
			DefaultTTL:           def.DefaultTTL,
			MaxTTL:               def.MaxTTL,
			ForwardedValues:      def.ForwardedValues,
			// Response headers policy.
			ResponseHeadersPolicyId: def.ResponseHeadersPolicyId,
		},
		CacheBehaviors: &cftypes.CacheBehaviors{Quantity: aws.Int32(int32(len(ordered))), Items: ordered}, //nolint:gosec // a count of a few items
		Restrictions:   &cftypes.Restrictions{GeoRestriction: geo},
	}})
	require.NoError(t, err)
	f.distID = aws.ToString(dist.Distribution.Id)

	// The derivatives bucket's policy: TLS only, reads by this distribution only, and (for the
	// pass-through test) nothing at all under private/.
	account := strings.Split(aws.ToString(dist.Distribution.ARN), ":")[3]
	policy := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
				"Resource":  []string{"arn:aws:s3:::" + f.bucket, "arn:aws:s3:::" + f.bucket + "/*"},
				"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
			},
			{
				"Sid": "AllowCloudFrontOriginAccessControl", "Effect": "Allow",
				"Principal": map[string]string{"Service": "cloudfront.amazonaws.com"},
				"Action":    "s3:GetObject", "Resource": "arn:aws:s3:::" + f.bucket + "/*",
				"Condition": map[string]any{"StringEquals": map[string]string{
					"AWS:SourceArn": "arn:aws:cloudfront::" + account + ":distribution/" + f.distID,
				}},
			},
			{
				"Sid": "DenyPrivate", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
				"Resource": "arn:aws:s3:::" + f.bucket + "/private/*",
			},
		},
	}
	doc, err := json.Marshal(policy)
	require.NoError(t, err)
	_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &f.bucket, Policy: aws.String(string(doc))})
	require.NoError(t, err)
	return f
}

func (f *fixture) put(t *testing.T, o object) {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: &f.bucket, Key: aws.String(o.key), Body: bytes.NewReader(o.body), ContentType: aws.String(contentType(o.key))}
	if o.cacheControl != "" {
		in.CacheControl = aws.String(o.cacheControl)
	}
	_, err := f.s3.PutObject(f.ctx, in)
	require.NoError(t, err)
}

func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".m3u8"):
		return "application/vnd.apple.mpegurl"
	case strings.HasSuffix(key, ".ts"):
		return "video/mp2t"
	case strings.HasSuffix(key, ".mp4"):
		return "video/mp4"
	case strings.HasSuffix(key, ".jpg"):
		return "image/jpeg"
	}
	return "text/plain"
}

// start starts an edge for the fixture's distribution on the fixture's clock, stopped at
// cleanup.
func (f *fixture) start(t *testing.T, opts edge.Options) *edge.Edge {
	t.Helper()
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	opts.Logf = t.Logf
	e, err := edge.Start(f.ctx, f.cfg, f.distID, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Stop()) })
	return e
}

// response is what a test looks at of an edge response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) xcache() string { return r.header.Get("X-Cache") }

// get requests path from the edge with the distribution's domain as Host, as the local
// proxy forwards it; header adds request headers.
func get(t *testing.T, e *edge.Edge, method, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL()+path, nil)
	require.NoError(t, err)
	req.Host = e.Domain()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// clock is a fake clock the tests step through TTLs with.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// A test signer written from CloudFront's documentation ("Create a signed URL using a canned
// policy / custom policy"): RSA-SHA1 over the policy JSON, base64 with + = / written - _ ~.

func cfEncode(b []byte) string {
	return strings.NewReplacer("+", "-", "=", "_", "/", "~").Replace(base64.StdEncoding.EncodeToString(b))
}

func (f *fixture) sign(t *testing.T, policy string) string {
	t.Helper()
	sum := sha1.Sum([]byte(policy)) //nolint:gosec // CloudFront signs policies with RSA-SHA1, the only algorithm it accepts
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA1, sum[:])
	require.NoError(t, err)
	return cfEncode(sig)
}

// cannedURL signs https://<domain><path> until expires and returns the path with its query.
func (f *fixture) cannedURL(t *testing.T, domain, path string, expires time.Time) string {
	t.Helper()
	policy := fmt.Sprintf(`{"Statement":[{"Resource":"https://%s%s","Condition":{"DateLessThan":{"AWS:EpochTime":%d}}}]}`, domain, path, expires.Unix())
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%sExpires=%d&Signature=%s&Key-Pair-Id=%s", path, sep, expires.Unix(), f.sign(t, policy), f.keyID)
}

// customURL signs path with a custom policy for resource (wildcards allowed).
func (f *fixture) customURL(t *testing.T, path, resource string, expires time.Time) string {
	t.Helper()
	policy := fmt.Sprintf(`{"Statement":[{"Resource":"%s","Condition":{"DateLessThan":{"AWS:EpochTime":%d}}}]}`, resource, expires.Unix())
	return fmt.Sprintf("%s?Policy=%s&Signature=%s&Key-Pair-Id=%s", path, cfEncode([]byte(policy)), f.sign(t, policy), f.keyID)
}
