package edge

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// emptyPayloadHash is the SHA-256 of an empty body, which S3 wants in x-amz-content-sha256.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Headers that carry the requesting distribution to the origin, signed with the request. On
// AWS the service fills aws:SourceArn / aws:SourceAccount itself; the emulator learns them
// from these headers (see the package comment).
const (
	HeaderSourceARN     = "X-Amz-Source-Arn"
	HeaderSourceAccount = "X-Amz-Source-Account"
)

// originClient fetches objects from a distribution's origins.
type originClient struct {
	http     aws.HTTPClient // S3 origins
	custom   aws.HTTPClient // custom origins (load balancers)
	creds    aws.CredentialsProvider
	endpoint *url.URL // the emulator (path-style S3); nil: the origin's own host name
	signer   *v4.Signer
}

// writes are the methods whose Authorization CloudFront always forwards (AWS: "HTTP request
// headers and CloudFront behavior"); GET, HEAD and OPTIONS lose it unless the behaviour names it.
var writes = map[string]bool{http.MethodDelete: true, http.MethodPatch: true, http.MethodPost: true, http.MethodPut: true}

// passedThrough are the viewer headers the edge passes on for ranges and revalidation.
var passedThrough = []string{"Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"}

// request builds the origin request for a viewer path (escaped) and query: hdr holds the
// range and validators to send, viewer is the viewer's request (its forwarded headers and,
// for methods that carry one, its body).
func (c *originClient) request(ctx context.Context, d *distribution, b *behaviour, o origin, method, escapedPath, query string, hdr http.Header, viewer *http.Request) (*http.Request, error) {
	var u url.URL
	switch {
	case o.custom != nil:
		u = url.URL{Scheme: "http", Host: o.domain, RawPath: o.path + escapedPath}
		port := o.custom.httpPort
		if o.custom.protocol == cftypes.OriginProtocolPolicyHttpsOnly || o.custom.protocol == cftypes.OriginProtocolPolicyMatchViewer && viewerHTTPS(viewer) {
			u.Scheme, port = "https", o.custom.httpsPort
		}
		if u.Scheme == "http" && port != 80 || u.Scheme == "https" && port != 443 {
			u.Host = net.JoinHostPort(o.domain, strconv.Itoa(port))
		}
	case c.endpoint != nil && o.bucket != "":
		u = *c.endpoint
		u.RawPath = strings.TrimSuffix(u.EscapedPath(), "/") + "/" + url.PathEscape(o.bucket) + o.path + escapedPath
	default:
		u = url.URL{Scheme: "https", Host: o.domain, RawPath: o.path + escapedPath}
	}
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("origin path %q: %w", u.RawPath, err)
	}
	u.Path = p
	u.RawQuery = query
	var body io.Reader
	if method != http.MethodGet && method != http.MethodHead && viewer.Body != nil && viewer.Body != http.NoBody {
		body = viewer.Body
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = viewer.ContentLength
	}
	// What CloudFront forwards of the viewer's request with the legacy cache settings: ranges
	// and validators where the edge passes them through, the behaviour's forwarded headers,
	// and for methods that change things their body's headers and Authorization (AWS:
	// "HTTP request headers and CloudFront behavior").
	for _, h := range passedThrough {
		if v := hdr.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set("User-Agent", "Amazon CloudFront")
	forwarded := b.forwardHeaders
	if b.forwardAllHeaders {
		forwarded = slices.Collect(maps.Keys(viewer.Header))
	}
	if writes[method] { // a body or not (a PUT of a like has none)
		forwarded = append(slices.Clone(forwarded), "Authorization", "Content-Type", "Content-Encoding", "Content-Md5")
	}
	for _, h := range forwarded {
		if hopHeaders[h] {
			continue
		}
		if vs := viewer.Header.Values(h); len(vs) > 0 {
			req.Header[h] = slices.Clone(vs)
		}
	}
	if b.forwardAllHeaders || slices.Contains(forwarded, "Host") {
		req.Host = viewer.Host
	}
	if o.custom != nil {
		// CloudFront tells a custom origin who the viewer is (the origin sees the edge's
		// connection): it appends the viewer connection's address to X-Forwarded-For.
		xff := viewer.Header.Get("X-Forwarded-For")
		if host, _, err := net.SplitHostPort(viewer.RemoteAddr); err == nil {
			xff = strings.TrimPrefix(xff+", "+host, ", ")
		}
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		req.Header.Set("Via", "1.1 "+d.domain+" (CloudFront)")
	}
	for k, v := range o.headers {
		req.Header.Set(k, v)
	}
	if o.sign {
		if err := c.sign(ctx, d, o, req); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// sign signs as the origin access control does: SigV4 for s3 in the bucket's region, with the
// distribution named in signed headers.
func (c *originClient) sign(ctx context.Context, d *distribution, o origin, req *http.Request) error {
	req.Header.Set(HeaderSourceARN, d.arn)
	if d.account != "" {
		req.Header.Set(HeaderSourceAccount, d.account)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptyPayloadHash)
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("origin credentials: %w", err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, emptyPayloadHash, "s3", o.region, time.Now()); err != nil {
		return fmt.Errorf("sign origin request: %w", err)
	}
	return nil
}

func (c *originClient) do(o origin, req *http.Request) (*http.Response, error) {
	if o.custom != nil {
		return c.custom.Do(req)
	}
	return c.http.Do(req)
}
