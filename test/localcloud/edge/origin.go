package edge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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
	http     aws.HTTPClient
	creds    aws.CredentialsProvider
	endpoint *url.URL // the emulator (path-style S3); nil: the origin's own host name
	signer   *v4.Signer
}

// request builds the origin request for a viewer path (escaped) and query.
func (c *originClient) request(ctx context.Context, d *distribution, o origin, method, escapedPath, query string, viewer http.Header) (*http.Request, error) {
	var u url.URL
	if c.endpoint != nil && o.bucket != "" {
		u = *c.endpoint
		u.RawPath = strings.TrimSuffix(u.EscapedPath(), "/") + "/" + url.PathEscape(o.bucket) + o.path + escapedPath
	} else {
		u = url.URL{Scheme: "https", Host: o.domain, RawPath: o.path + escapedPath}
	}
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("origin path %q: %w", u.RawPath, err)
	}
	u.Path = p
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	// What CloudFront forwards of the viewer's request to an S3 origin with the legacy
	// cache settings: ranges and validators only where the edge passes them through.
	for _, h := range []string{"Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if v := viewer.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set("User-Agent", "Amazon CloudFront")
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

func (c *originClient) do(req *http.Request) (*http.Response, error) {
	return c.http.Do(req)
}
