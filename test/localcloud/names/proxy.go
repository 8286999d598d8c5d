package names

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/test/localtls"
)

// ProxyOptions configure the forward proxy.
type ProxyOptions struct {
	// Certificates returns a certificate for a host name, trusted by the proxy's clients
	// (see CertificatesFrom). The proxy uses it to terminate the TLS of CONNECT tunnels to
	// PlainHTTP entries; without it such tunnels are refused, since the client's TLS would
	// meet a plain-HTTP server.
	Certificates func(host string) (*tls.Certificate, error)
	// RootCAs verifies HTTPS servers the proxy itself connects to (absolute-URI https
	// requests); nil: the system roots.
	RootCAs *x509.CertPool
}

// Proxy is an HTTP forward proxy on loopback that resolves through a Resolver: absolute-URI
// requests for http (and https) URLs, and CONNECT tunnels. Unmapped hosts are reached as
// they are, so the proxy may be set for every request of a process.
//
// CONNECT to a PlainHTTP entry is terminated here (TLS with a certificate from
// Certificates) and its requests forwarded as plain HTTP with X-Forwarded-Proto: https;
// CONNECT to any other entry, or an unmapped host, is a byte tunnel to its address.
type Proxy struct {
	r        *Resolver
	opts     ProxyOptions
	ln       net.Listener
	srv      *http.Server // the proxy's own listener
	inner    *http.Server // requests of terminated CONNECT tunnels
	tunnels  *connListener
	upstream *http.Transport

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // hijacked connections, closed by Close
	closed bool
	wg     sync.WaitGroup
}

// StartProxy starts a forward proxy on a free port of 127.0.0.1.
func (r *Resolver) StartProxy(opts ProxyOptions) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("names: proxy listen: %w", err)
	}
	upstream := http.DefaultTransport.(*http.Transport).Clone()
	upstream.Proxy = nil // never loop through a proxy of our own environment
	upstream.DialContext = r.DialContext
	upstream.TLSClientConfig = &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
	p := &Proxy{
		r: r, opts: opts, ln: ln, upstream: upstream,
		tunnels: newConnListener(ln.Addr()),
		conns:   map[net.Conn]struct{}{},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serveProxy), ReadHeaderTimeout: 30 * time.Second}
	p.inner = &http.Server{
		Handler:           http.HandlerFunc(p.serveTerminated),
		ReadHeaderTimeout: 30 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, tunnelKey{}, c.(*terminatedConn).target)
		},
	}
	p.wg.Add(2)
	go func() { defer p.wg.Done(); _ = p.srv.Serve(ln) }()
	go func() { defer p.wg.Done(); _ = p.inner.Serve(p.tunnels) }()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's URL, for HTTP_PROXY and HTTPS_PROXY.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Env returns the variables that send a process's HTTP and HTTPS requests through the proxy,
// in both cases: curl reads only the lower-case http_proxy.
func (p *Proxy) Env() []string {
	u := p.URL()
	return []string{"HTTP_PROXY=" + u, "http_proxy=" + u, "HTTPS_PROXY=" + u, "https_proxy=" + u}
}

// Close stops the proxy and ends every connection and tunnel it holds.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := errors.Join(p.srv.Close(), p.inner.Close())
	p.wg.Wait()
	p.upstream.CloseIdleConnections()
	return err
}

// track registers a hijacked connection so that Close ends it; false once closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
}

func (p *Proxy) serveProxy(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodConnect {
		p.connect(w, req)
		return
	}
	if !req.URL.IsAbs() {
		http.Error(w, "this is a forward proxy: send absolute-URI requests or CONNECT", http.StatusBadRequest)
		return
	}
	host, port := req.URL.Hostname(), urlPort(req.URL.Scheme, req.URL.Port())
	target := *req.URL
	proto := req.URL.Scheme
	if e, ok := p.r.Lookup(host, port); ok && (e.PlainHTTP || target.Scheme == "http") {
		target.Scheme, target.Host = "http", e.Addr
	}
	p.forward(w, req, &target, proto)
}

// forward sends req to target keeping its Host header; proto is the scheme the client used.
func (p *Proxy) forward(w http.ResponseWriter, req *http.Request, target *url.URL, proto string) {
	host := hostHeader(req)
	rp := &httputil.ReverseProxy{
		Transport: p.upstream,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = host
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Proto", proto)
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			http.Error(w, fmt.Sprintf("local cloud proxy: %s: %v", host, err), http.StatusBadGateway)
		},
	}
	rp.ServeHTTP(w, req)
}

func (p *Proxy) connect(w http.ResponseWriter, req *http.Request) {
	host, port, err := splitPort(req.Host)
	if err != nil {
		http.Error(w, "CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	e, mapped := p.r.Lookup(host, port)
	if mapped && e.PlainHTTP {
		if p.opts.Certificates == nil {
			http.Error(w, fmt.Sprintf("%s is served by plain HTTP locally and the proxy has no certificates to terminate TLS: use http:// or configure ProxyOptions.Certificates", req.Host), http.StatusBadGateway)
			return
		}
		client, ok := p.hijack(w)
		if !ok {
			return
		}
		name := Canonical(host)
		tlsConn := tls.Server(client, &tls.Config{
			MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"},
			GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if hello.ServerName != "" {
					return p.opts.Certificates(hello.ServerName)
				}
				return p.opts.Certificates(name)
			},
		})
		tc := &terminatedConn{Conn: tlsConn, target: tunnelTarget{host: name, port: port}, done: func() { p.untrack(client) }}
		if !p.tunnels.push(tc) {
			tc.Close()
		}
		return
	}
	upstream, err := p.r.DialContext(req.Context(), "tcp", req.Host)
	if err != nil {
		http.Error(w, fmt.Sprintf("local cloud proxy: %v", err), http.StatusBadGateway)
		return
	}
	client, ok := p.hijack(w)
	if !ok {
		upstream.Close()
		return
	}
	if !p.track(upstream) {
		client.Close()
		upstream.Close()
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		pipe(client, upstream)
		p.untrack(client)
		p.untrack(upstream)
	}()
}

// hijack takes the client connection over after answering 200 to its CONNECT.
func (p *Proxy) hijack(w http.ResponseWriter) (net.Conn, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot tunnel over this connection", http.StatusInternalServerError)
		return nil, false
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, false
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		conn.Close()
		return nil, false
	}
	c := conn
	if rw.Reader.Buffered() > 0 { // a client may send its TLS hello before reading our 200
		c = &bufferedConn{Conn: conn, r: rw.Reader}
	}
	if !p.track(c) {
		c.Close()
		return nil, false
	}
	return c, true
}

// pipe copies both ways until either side ends, then closes both.
func pipe(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	// Give the other direction a moment to drain a half-closed exchange, then end both.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	a.Close()
	b.Close()
}

type tunnelKey struct{}

type tunnelTarget struct {
	host string
	port int
}

// serveTerminated forwards a request read from a terminated CONNECT tunnel to the local
// plain-HTTP address of the tunnel's target.
func (p *Proxy) serveTerminated(w http.ResponseWriter, req *http.Request) {
	t := req.Context().Value(tunnelKey{}).(tunnelTarget)
	e, ok := p.r.Lookup(t.host, t.port)
	if !ok {
		http.Error(w, fmt.Sprintf("local cloud proxy: %s:%d is no longer mapped", t.host, t.port), http.StatusBadGateway)
		return
	}
	target := *req.URL
	target.Scheme, target.Host = "http", e.Addr
	if req.Host == "" {
		req.Host = t.host
	}
	p.forward(w, req, &target, "https")
}

// terminatedConn is the decrypted side of a CONNECT tunnel, with the target it was opened for.
type terminatedConn struct {
	net.Conn
	target tunnelTarget
	once   sync.Once
	done   func()
}

func (c *terminatedConn) Close() error {
	c.once.Do(c.done)
	return c.Conn.Close()
}

type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// connListener hands connections pushed to it to an http.Server.
type connListener struct {
	addr net.Addr
	ch   chan net.Conn
	mu   sync.Mutex
	done chan struct{}
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

// CertificatesFrom issues certificates from the local CA, one per host name, for
// ProxyOptions.Certificates; clients trust them through the CA's bundle (curl --cacert,
// SSL_CERT_FILE, AWS_CA_BUNDLE).
func CertificatesFrom(ca *localtls.CA) func(host string) (*tls.Certificate, error) {
	var mu sync.Mutex
	cache := map[string]*tls.Certificate{}
	return func(host string) (*tls.Certificate, error) {
		host = Canonical(host)
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cache[host]; ok {
			return c, nil
		}
		certPath, keyPath, err := ca.Issue("proxy-"+fileName(host), host)
		if err != nil {
			return nil, err
		}
		c, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return nil, fmt.Errorf("names: load certificate for %s: %w", host, err)
		}
		cache[host] = &c
		return &c, nil
	}
}

func fileName(host string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, host)
}
