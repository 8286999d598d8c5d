package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

// responseHeaders is a response headers policy as the edge applies it: CloudFront adds each
// header to what it sends the viewer, replacing the origin's value only when the policy says
// override, and removes the headers it names. A policy's CORS and Server-Timing settings are
// not applied: the stack's API answers CORS itself.
type responseHeaders struct {
	set    []policyHeader
	remove []string
}

type policyHeader struct {
	name, value string
	override    bool
}

// managedHeaderPolicies are AWS's managed policies the modules attach by ID; the emulator
// knows only the policies created in it. Values as AWS documents them ("Using managed response
// headers policies", CloudFront Developer Guide).
var managedHeaderPolicies = map[string]*responseHeaders{
	// SecurityHeadersPolicy.
	"67f7725c-6f97-4210-82d7-5512b31e9d03": managedSecurityHeaders(),
	// CORS-and-SecurityHeadersPolicy: its CORS part is not applied (see responseHeaders).
	"e61eb60c-9c35-4d20-a928-2b84e02af89c": managedSecurityHeaders(),
}

func managedSecurityHeaders() *responseHeaders {
	return &responseHeaders{set: []policyHeader{
		{name: "Referrer-Policy", value: "strict-origin-when-cross-origin"},
		{name: "Strict-Transport-Security", value: "max-age=31536000"},
		{name: "X-Content-Type-Options", value: "nosniff"},
		{name: "X-Frame-Options", value: "SAMEORIGIN"},
		{name: "X-Xss-Protection", value: "1; mode=block"},
	}}
}

// loadResponseHeaders reads a response headers policy by its ID.
func loadResponseHeaders(ctx context.Context, client *cloudfront.Client, id string) (*responseHeaders, error) {
	out, err := client.GetResponseHeadersPolicy(ctx, &cloudfront.GetResponseHeadersPolicyInput{Id: aws.String(id)})
	var missing *cftypes.NoSuchResponseHeadersPolicy
	if errors.As(err, &missing) {
		if p, ok := managedHeaderPolicies[id]; ok {
			return p, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("get response headers policy %s: %w", id, err)
	}
	if out.ResponseHeadersPolicy == nil || out.ResponseHeadersPolicy.ResponseHeadersPolicyConfig == nil {
		return nil, fmt.Errorf("response headers policy %s has no config", id)
	}
	return newResponseHeaders(out.ResponseHeadersPolicy.ResponseHeadersPolicyConfig), nil
}

func newResponseHeaders(cfg *cftypes.ResponseHeadersPolicyConfig) *responseHeaders {
	p := &responseHeaders{}
	add := func(name, value string, override *bool) {
		p.set = append(p.set, policyHeader{name: name, value: value, override: aws.ToBool(override)})
	}
	if s := cfg.SecurityHeadersConfig; s != nil {
		if c := s.ContentSecurityPolicy; c != nil {
			add("Content-Security-Policy", aws.ToString(c.ContentSecurityPolicy), c.Override)
		}
		if c := s.ContentTypeOptions; c != nil {
			add("X-Content-Type-Options", "nosniff", c.Override)
		}
		if c := s.FrameOptions; c != nil {
			add("X-Frame-Options", string(c.FrameOption), c.Override)
		}
		if c := s.ReferrerPolicy; c != nil {
			add("Referrer-Policy", string(c.ReferrerPolicy), c.Override)
		}
		if c := s.StrictTransportSecurity; c != nil {
			v := "max-age=" + strconv.Itoa(int(aws.ToInt32(c.AccessControlMaxAgeSec)))
			if aws.ToBool(c.IncludeSubdomains) {
				v += "; includeSubDomains"
			}
			if aws.ToBool(c.Preload) {
				v += "; preload"
			}
			add("Strict-Transport-Security", v, c.Override)
		}
		if c := s.XSSProtection; c != nil {
			v := "0"
			if aws.ToBool(c.Protection) {
				v = "1"
				if aws.ToBool(c.ModeBlock) {
					v += "; mode=block"
				} else if r := aws.ToString(c.ReportUri); r != "" {
					v += "; report=" + r
				}
			}
			add("X-XSS-Protection", v, c.Override)
		}
	}
	if c := cfg.CustomHeadersConfig; c != nil {
		for _, h := range c.Items {
			add(aws.ToString(h.Header), aws.ToString(h.Value), h.Override)
		}
	}
	if c := cfg.RemoveHeadersConfig; c != nil {
		for _, h := range c.Items {
			p.remove = append(p.remove, aws.ToString(h.Header))
		}
	}
	return p
}

// apply sets the policy's headers on h, the headers of a response about to be written.
func (p *responseHeaders) apply(h http.Header) {
	for _, name := range p.remove {
		h.Del(name)
	}
	for _, x := range p.set {
		if x.override || h.Get(x.name) == "" {
			h.Set(x.name, x.value)
		}
	}
}

// withResponseHeaders applies p to whatever response is written through w.
func withResponseHeaders(w http.ResponseWriter, p *responseHeaders) http.ResponseWriter {
	if p == nil {
		return w
	}
	return &headersWriter{ResponseWriter: w, policy: p}
}

type headersWriter struct {
	http.ResponseWriter
	policy *responseHeaders
	wrote  bool
}

func (w *headersWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		w.policy.apply(w.Header())
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *headersWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *headersWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
