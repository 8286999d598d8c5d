package load

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The API's name is resolved by the stack's DNS server, kept for the record's TTL, and the
// address it answers is what the client connects to; other hosts go their own way.
func TestThroughDNSResolvesTheAPIName(t *testing.T) {
	var hosts atomic.Value
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts.Store(r.Host)
		_, _ = io.WriteString(w, "api")
	}))
	t.Cleanup(api.Close)
	_, port, err := net.SplitHostPort(api.Listener.Addr().String())
	require.NoError(t, err)

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	var queries atomic.Int32
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, q *mdns.Msg) {
		queries.Add(1)
		m := new(mdns.Msg)
		m.SetReply(q)
		if q.Question[0].Name == "api.stack.test." {
			m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Question[0].Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: net.ParseIP("127.0.0.1")})
		} else {
			m.Rcode = mdns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "other") }))
	t.Cleanup(other.Close)
	tr := ThroughDNS(http.DefaultTransport, "api.stack.test", pc.LocalAddr().String())
	client := &http.Client{Transport: tr}
	get := func(url string) string {
		resp, err := client.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	for range 3 {
		assert.Equal(t, "api", get("http://api.stack.test:"+port+"/v1/feed"))
	}
	assert.Equal(t, "api.stack.test:"+port, hosts.Load(), "the request names the API, as a browser's would")
	assert.Equal(t, int64(1), tr.Lookups(), "the answer is kept for its TTL")
	assert.Equal(t, "other", get(other.URL), "other hosts do not ask the stack's DNS")
	assert.Equal(t, int32(1), queries.Load())

	tr = ThroughDNS(http.DefaultTransport, "gone.stack.test", pc.LocalAddr().String())
	resp, err := (&http.Client{Transport: tr}).Get("http://gone.stack.test:" + port + "/")
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "NXDOMAIN"), "a name the zone does not have: %v", err)
}
