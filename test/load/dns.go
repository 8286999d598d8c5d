package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
)

// ThroughDNS sends the requests for host to the address the DNS server at dnsAddr (the
// stack's Route 53 zone, which answers the API's latency record with the client's nearest
// healthy region) answers for it, as a client on the internet would: an A query, the answer
// kept for its TTL, the request sent by next to that address with its Host header still the
// name. Requests for other hosts go to next as they are.
func ThroughDNS(next http.RoundTripper, host, dnsAddr string) *DNSTransport {
	return &DNSTransport{next: next, host: strings.ToLower(host), dnsAddr: dnsAddr}
}

// DNSTransport is ThroughDNS's round tripper.
type DNSTransport struct {
	next    http.RoundTripper
	host    string
	dnsAddr string
	lookups atomic.Int64

	mu      sync.Mutex
	answer  string // the address last answered
	expires time.Time
}

func (t *DNSTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Hostname(), t.host) {
		return t.next.RoundTrip(req)
	}
	ip, err := t.resolve(req.Context(), t.host)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Host = req.Host
	if out.Host == "" {
		out.Host = req.URL.Host
	}
	out.URL.Host = ip
	if port := req.URL.Port(); port != "" {
		out.URL.Host = net.JoinHostPort(ip, port)
	}
	return t.next.RoundTrip(out)
}

// Lookups is how many queries were sent to the DNS server.
func (t *DNSTransport) Lookups() int64 { return t.lookups.Load() }

// resolve answers host's A record from the cache, or from the DNS server once it expired.
func (t *DNSTransport) resolve(ctx context.Context, host string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.answer != "" && time.Now().Before(t.expires) {
		return t.answer, nil
	}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(host), mdns.TypeA)
	t.lookups.Add(1)
	client := &mdns.Client{Timeout: 5 * time.Second}
	in, _, err := client.ExchangeContext(ctx, m, t.dnsAddr)
	if err != nil {
		return "", fmt.Errorf("resolve %s at %s: %w", host, t.dnsAddr, err)
	}
	if in.Rcode != mdns.RcodeSuccess {
		return "", fmt.Errorf("resolve %s at %s: %s", host, t.dnsAddr, mdns.RcodeToString[in.Rcode])
	}
	for _, rr := range in.Answer {
		if a, ok := rr.(*mdns.A); ok {
			t.answer = a.A.String()
			t.expires = time.Now().Add(time.Duration(a.Hdr.Ttl) * time.Second)
			return t.answer, nil
		}
	}
	return "", fmt.Errorf("resolve %s at %s: no A record", host, t.dnsAddr)
}
