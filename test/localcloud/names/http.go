package names

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Transport returns an HTTP transport that reaches mapped hosts at their local addresses:
// a clone of base (nil: http.DefaultTransport) dialing through the resolver, without an
// environment proxy (the resolver is the proxy's job done in-process), and sending https
// requests for PlainHTTP entries as plain HTTP.
func (r *Resolver) Transport(base *http.Transport) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	t.Proxy = nil
	t.DialContext = r.DialContext
	return &plainRoundTripper{r: r, base: t}
}

// HTTPClient returns an HTTP client using Transport(nil).
func (r *Resolver) HTTPClient() *http.Client {
	return &http.Client{Transport: r.Transport(nil), Timeout: 2 * time.Minute}
}

type plainRoundTripper struct {
	r    *Resolver
	base *http.Transport
}

func (p *plainRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return p.base.RoundTrip(req)
	}
	e, ok := p.r.Lookup(req.URL.Hostname(), urlPort(req.URL.Scheme, req.URL.Port()))
	if !ok || !e.PlainHTTP {
		return p.base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = "http", e.Addr
	out.Host = hostHeader(req)
	out.Header.Set("X-Forwarded-Proto", "https")
	return p.base.RoundTrip(out)
}

// hostHeader is the Host a request carries on the wire: its own, else its URL's without a
// default port.
func hostHeader(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" || port == "443" && req.URL.Scheme == "https" || port == "80" && req.URL.Scheme == "http" {
		return host
	}
	return net.JoinHostPort(host, port)
}

// urlPort is a URL's port, or its scheme's default.
func urlPort(scheme, port string) int {
	if n, err := strconv.Atoi(port); err == nil {
		return n
	}
	if scheme == "https" {
		return 443
	}
	return 80
}

// LongestPrefix returns the entry whose prefix holds addr with the most bits, as clients are
// placed in regions and countries; ok is false when none holds it.
func LongestPrefix[E any](addr netip.Addr, entries []E, prefix func(E) netip.Prefix) (best E, ok bool) {
	addr, bits := addr.Unmap(), -1
	for _, e := range entries {
		if p := prefix(e); p.Contains(addr) && p.Bits() > bits {
			best, bits, ok = e, p.Bits(), true
		}
	}
	return best, ok
}

// ClientAddr is where a request comes from: the first X-Forwarded-For hop, which the local
// proxy (standing in for the network) and the local edge set to the client's own address,
// else the connection's. A client presents itself from an address by the loopback address it
// connects from (any of 127.0.0.0/8); the local cloud places clients in regions and
// countries by it.
func ClientAddr(r *http.Request) (netip.Addr, bool) {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		a, err := netip.ParseAddr(strings.TrimSpace(first))
		return a.Unmap(), err == nil
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err == nil
}
