// Package names maps the AWS host names a stack hands out (CloudFront domains, ALB DNS names,
// RDS endpoints) to the local addresses that stand in for them, so that clients follow the
// URLs and endpoints the stack returns unmodified.
//
// One Resolver serves every way of reaching a name:
//   - Go clients dial through DialContext (http.Transport, pgx) or use HTTPClient;
//   - unmodified clients (curl, ffprobe, other processes) use the forward proxy (StartProxy)
//     through HTTP_PROXY / HTTPS_PROXY;
//   - processes that connect without a proxy (database clients) get their environment
//     rewritten (RewriteEnv);
//   - the DNS server answers alias records with the loopback IP the resolver gives each host (IP).
//
// An entry is keyed by host and the port clients use on AWS: 443 for an https URL, 80 for
// http, 5432 for an RDS endpoint; port 0 matches any port of the host that has no entry of
// its own. Local stand-ins for HTTPS endpoints (the CloudFront edge, ALB listeners) speak plain
// HTTP; such entries are marked PlainHTTP. An https request to one is sent as plain HTTP to
// the local address with its Host header kept and X-Forwarded-Proto: https, by HTTPClient
// directly and by the proxy after terminating the client's TLS with a certificate from the
// local CA (see ProxyOptions.Certificates).
package names

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Entry maps one AWS endpoint to its local address.
type Entry struct {
	Host string `json:"host"`           // AWS host name, e.g. d111111abcdef8.cloudfront.net
	Port int    `json:"port,omitempty"` // port clients use on AWS; 0: any port
	Addr string `json:"addr"`           // local host:port that serves it
	// PlainHTTP says the local address is an HTTP server without TLS standing in for an
	// endpoint that may be HTTPS on AWS; https requests to it are sent as plain HTTP.
	PlainHTTP bool `json:"plain_http,omitempty"`
	// IP is the loopback address DNS answers for Host; zero: one is assigned on first use.
	// Every entry of a host shares it.
	IP netip.Addr `json:"ip,omitzero"`
}

type key struct {
	host string
	port int
}

// Resolver is the map from AWS host names to local addresses. It is safe for concurrent use
// and may change while clients use it.
type Resolver struct {
	mu      sync.RWMutex
	entries map[key]Entry
	ips     map[string]netip.Addr // host -> loopback IP, shared by the host's entries
	hostOf  map[netip.Addr]string
	nextIP  netip.Addr
	dialer  *net.Dialer
}

// firstIP starts the range assigned to hosts: 127.0.1.0/24 and up, clear of 127.0.0.1 where
// the local servers listen by default. All of 127/8 is loopback on Linux, so a server may
// even listen on the IP of its host.
var firstIP = netip.MustParseAddr("127.0.1.1")

// New returns an empty resolver; names it does not map are dialed as they are.
func New() *Resolver {
	return &Resolver{
		entries: map[key]Entry{},
		ips:     map[string]netip.Addr{},
		hostOf:  map[netip.Addr]string{},
		nextIP:  firstIP,
		dialer:  &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
	}
}

// Canonical is the form host names are compared in: lower case, without a trailing dot.
func Canonical(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

// Add maps e.Host:e.Port to e.Addr, replacing an entry with the same host and port.
func (r *Resolver) Add(e Entry) error {
	e.Host = Canonical(e.Host)
	if e.Host == "" {
		return fmt.Errorf("names: entry without a host")
	}
	if e.Port < 0 || e.Port > 65535 {
		return fmt.Errorf("names: %s: port %d out of range", e.Host, e.Port)
	}
	if _, _, err := splitPort(e.Addr); err != nil {
		return fmt.Errorf("names: %s: local address %q: %w", e.Host, e.Addr, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.IP.IsValid() {
		if !e.IP.IsLoopback() {
			return fmt.Errorf("names: %s: IP %s is not a loopback address", e.Host, e.IP)
		}
		if other, ok := r.hostOf[e.IP]; ok && other != e.Host {
			return fmt.Errorf("names: %s: IP %s is already %s's", e.Host, e.IP, other)
		}
		if old, ok := r.ips[e.Host]; ok && old != e.IP {
			delete(r.hostOf, old)
		}
		r.ips[e.Host], r.hostOf[e.IP] = e.IP, e.Host
	}
	e.IP = netip.Addr{} // kept per host in r.ips
	r.entries[key{e.Host, e.Port}] = e
	return nil
}

// Remove deletes the entry of host and port; the host keeps its IP.
func (r *Resolver) Remove(host string, port int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, key{Canonical(host), port})
}

// Lookup returns the entry that serves host:port: the host's entry for that port, else its
// entry for any port. host may also be the loopback IP the resolver gave a host.
func (r *Resolver) Lookup(host string, port int) (Entry, bool) {
	host = Canonical(host)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ip, err := netip.ParseAddr(host); err == nil {
		if h, ok := r.hostOf[ip.Unmap()]; ok {
			host = h
		}
	}
	e, ok := r.entries[key{host, port}]
	if !ok {
		e, ok = r.entries[key{host, 0}]
	}
	if ok {
		e.IP = r.ips[host]
	}
	return e, ok
}

// Mapped reports whether host has an entry for some port.
func (r *Resolver) Mapped(host string) bool {
	host = Canonical(host)
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.mappedLocked(host)
}

func (r *Resolver) mappedLocked(host string) bool {
	for k := range r.entries {
		if k.host == host {
			return true
		}
	}
	return false
}

// IP returns the loopback IP of a mapped host, assigning the next free one on first use, so
// that DNS answers say which target was chosen. ok is false for unmapped hosts.
func (r *Resolver) IP(host string) (ip netip.Addr, ok bool) {
	host = Canonical(host)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.mappedLocked(host) {
		return netip.Addr{}, false
	}
	if ip, ok := r.ips[host]; ok {
		return ip, true
	}
	for {
		ip = r.nextIP
		if !ip.IsLoopback() {
			return netip.Addr{}, false // 65 000 hosts: not a local stack any more
		}
		r.nextIP = ip.Next()
		if b := ip.As4(); b[3] == 0 || b[3] == 255 {
			continue // network and broadcast look like mistakes in a DNS answer
		}
		if _, taken := r.hostOf[ip]; !taken {
			break
		}
	}
	r.ips[host], r.hostOf[ip] = ip, host
	return ip, true
}

// Entries returns every entry, sorted by host and port, with its IP if it has one.
func (r *Resolver) Entries() []Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Entry, 0, len(r.entries))
	for k, e := range r.entries {
		e.IP = r.ips[k.host]
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		return a.Port - b.Port
	})
	return out
}

// Hosts returns the map for an endpoints file: AWS host name -> local host:port. A host with
// entries for several ports appears once per port as "host:port" (its any-port entry as the
// bare host), so that no entry is lost.
func (r *Resolver) Hosts() map[string]string {
	entries := r.Entries()
	count := map[string]int{}
	for _, e := range entries {
		count[e.Host]++
	}
	hosts := make(map[string]string, len(entries))
	for _, e := range entries {
		name := e.Host
		if count[e.Host] > 1 && e.Port != 0 {
			name = net.JoinHostPort(e.Host, strconv.Itoa(e.Port))
		}
		hosts[name] = e.Addr
	}
	return hosts
}

// DialContext dials the local address of a mapped host:port and anything else as it is. It
// fits http.Transport.DialContext and pgconn.Config.DialFunc.
func (r *Resolver) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	if host, port, err := splitPort(address); err == nil {
		if e, ok := r.Lookup(host, port); ok {
			conn, err := r.dialer.DialContext(ctx, network, e.Addr)
			if err != nil {
				return nil, fmt.Errorf("dial %s (local %s): %w", address, e.Addr, err)
			}
			return conn, nil
		}
	}
	return r.dialer.DialContext(ctx, network, address)
}

// LookupHost returns a mapped host name itself, so that a client which resolves names before
// dialing (pgx's LookupFunc) hands it on to DialContext; other names are resolved as usual.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	if r.Mapped(host) {
		return []string{host}, nil
	}
	return net.DefaultResolver.LookupHost(ctx, host)
}

func splitPort(address string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(address)
	if err != nil {
		return "", 0, err
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, port, nil
}
