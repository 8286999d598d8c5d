package names

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// RewriteEnv returns a copy of env in which values naming a mapped host are replaced by its
// local address, for processes that connect without the proxy (database clients):
//
//   - X_HOST=host (any key ending in HOST) becomes the local host, and its sibling X_PORT
//     the local port; X_PORT (when set) selects the entry, and is added when missing;
//   - host:port becomes the local host:port;
//   - a URL of a scheme other than http(s), such as postgres://u:p@host:5432/db, gets the
//     local host:port.
//
// PlainHTTP entries are left alone: HTTP clients reach them through the proxy under their
// AWS names, so URLs a process builds from them (CDN links) stay valid for its clients.
func (r *Resolver) RewriteEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	for k, v := range env {
		switch {
		case strings.HasSuffix(strings.ToUpper(k), "HOST") && !strings.ContainsAny(v, ":/"):
			portKey := k[:len(k)-4] + "PORT"
			if k[len(k)-1] == 't' {
				portKey = k[:len(k)-4] + "port"
			}
			port := 0
			if p, ok := env[portKey]; ok {
				n, err := strconv.Atoi(strings.TrimSpace(p))
				if err != nil {
					continue
				}
				port = n
			}
			if e, ok := r.lookupStream(v, port); ok {
				host, p, _ := net.SplitHostPort(e.Addr)
				out[k], out[portKey] = host, p
			}
		case strings.Contains(v, "://"):
			u, err := url.Parse(v)
			if err != nil || u.Scheme == "http" || u.Scheme == "https" || u.Host == "" {
				continue
			}
			port, _ := strconv.Atoi(u.Port())
			if e, ok := r.lookupStream(u.Hostname(), port); ok {
				u.Host = e.Addr
				out[k] = u.String()
			}
		default:
			if host, port, err := splitPort(strings.TrimSpace(v)); err == nil {
				if e, ok := r.lookupStream(host, port); ok {
					out[k] = e.Addr
				}
			}
		}
	}
	return out
}

// lookupStream finds the non-HTTP entry of host:port; port 0 (not given) also accepts the
// host's only entry.
func (r *Resolver) lookupStream(host string, port int) (Entry, bool) {
	e, ok := r.Lookup(host, port)
	if !ok && port == 0 {
		var found []Entry
		for _, c := range r.Entries() {
			if c.Host == Canonical(host) {
				found = append(found, c)
			}
		}
		if len(found) == 1 {
			e, ok = found[0], true
		}
	}
	return e, ok && !e.PlainHTTP
}
