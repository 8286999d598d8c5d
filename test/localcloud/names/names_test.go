package names_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
)

const (
	cdnHost = "d111111abcdef8.cloudfront.net"
	albHost = "mediastack-api-1234567890.us-east-1.elb.amazonaws.com"
	rdsHost = "mediastack.c9akciq32.us-east-1.rds.amazonaws.com"
)

// echoServer answers every request with what it received: Host, X-Forwarded-Proto, path,
// and whether TLS reached it.
func echoServer(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(echo(name))
	t.Cleanup(srv.Close)
	return srv
}

func echo(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s host=%s proto=%s path=%s tls=%t", name, r.Host, r.Header.Get("X-Forwarded-Proto"), r.URL.RequestURI(), r.TLS != nil) //nolint:gosec // a test server's or the local edge's own answer, read by the harness
	}
}

func addr(srv *httptest.Server) string { return srv.Listener.Addr().String() }

func TestLookup(t *testing.T) {
	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: cdnHost, Port: 443, Addr: "127.0.0.1:1001", PlainHTTP: true}))
	require.NoError(t, r.Add(names.Entry{Host: "Mixed.Example.COM.", Addr: "127.0.0.1:1002"}))
	require.NoError(t, r.Add(names.Entry{Host: rdsHost, Port: 5432, Addr: "127.0.0.1:1003", IP: netip.MustParseAddr("127.0.9.9")}))

	for _, tc := range []struct {
		host string
		port int
		want string // "" when unmapped
	}{
		{cdnHost, 443, "127.0.0.1:1001"},
		{cdnHost, 80, ""},                             // a port of its own is strict
		{"mixed.example.com", 8080, "127.0.0.1:1002"}, // port 0 matches any port
		{"MIXED.example.com.", 80, "127.0.0.1:1002"},
		{rdsHost, 5432, "127.0.0.1:1003"},
		{"127.0.9.9", 5432, "127.0.0.1:1003"}, // the host's IP stands for the host
		{"::ffff:127.0.9.9", 5432, "127.0.0.1:1003"},
		{"elsewhere.amazonaws.com", 443, ""},
	} {
		t.Run(fmt.Sprintf("%s:%d", tc.host, tc.port), func(t *testing.T) {
			e, ok := r.Lookup(tc.host, tc.port)
			assert.Equal(t, tc.want != "", ok)
			assert.Equal(t, tc.want, e.Addr)
		})
	}

	t.Run("IPs are distinct, stable and only for mapped hosts", func(t *testing.T) {
		cdnIP, ok := r.IP(cdnHost)
		require.True(t, ok)
		mixedIP, ok := r.IP("mixed.example.com")
		require.True(t, ok)
		again, _ := r.IP(cdnHost + ".")
		assert.Equal(t, cdnIP, again)
		assert.NotEqual(t, cdnIP, mixedIP)
		assert.True(t, cdnIP.IsLoopback() && mixedIP.IsLoopback())
		assert.NotEqual(t, netip.MustParseAddr("127.0.0.1"), cdnIP)
		rdsIP, _ := r.IP(rdsHost)
		assert.Equal(t, netip.MustParseAddr("127.0.9.9"), rdsIP) // given by the entry
		_, ok = r.IP("unmapped.example.com")
		assert.False(t, ok)
	})

	t.Run("bad entries are refused", func(t *testing.T) {
		assert.Error(t, r.Add(names.Entry{Host: "", Addr: "127.0.0.1:1"}))
		assert.Error(t, r.Add(names.Entry{Host: "a.example.com", Addr: "no-port"}))
		assert.Error(t, r.Add(names.Entry{Host: "a.example.com", Addr: "127.0.0.1:1", IP: netip.MustParseAddr("10.0.0.1")}))
		assert.Error(t, r.Add(names.Entry{Host: "b.example.com", Addr: "127.0.0.1:1", IP: netip.MustParseAddr("127.0.9.9")}), "IP of another host")
	})

	t.Run("updates while running", func(t *testing.T) {
		require.NoError(t, r.Add(names.Entry{Host: cdnHost, Port: 443, Addr: "127.0.0.1:2001", PlainHTTP: true}))
		e, _ := r.Lookup(cdnHost, 443)
		assert.Equal(t, "127.0.0.1:2001", e.Addr)
		r.Remove(cdnHost, 443)
		_, ok := r.Lookup(cdnHost, 443)
		assert.False(t, ok)
	})
}

func TestHostsAndEntriesForTheEndpointsFile(t *testing.T) {
	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: cdnHost, Port: 443, Addr: "127.0.0.1:1001", PlainHTTP: true}))
	require.NoError(t, r.Add(names.Entry{Host: albHost, Port: 80, Addr: "127.0.0.1:1002", PlainHTTP: true}))
	require.NoError(t, r.Add(names.Entry{Host: albHost, Port: 443, Addr: "127.0.0.1:1003", PlainHTTP: true}))
	assert.Equal(t, map[string]string{
		cdnHost:          "127.0.0.1:1001",
		albHost + ":80":  "127.0.0.1:1002",
		albHost + ":443": "127.0.0.1:1003",
	}, r.Hosts())

	ip, _ := r.IP(cdnHost)
	data, err := json.Marshal(r.Entries())
	require.NoError(t, err)
	var back []names.Entry
	require.NoError(t, json.Unmarshal(data, &back))
	require.Len(t, back, 3)
	assert.Equal(t, names.Entry{Host: cdnHost, Port: 443, Addr: "127.0.0.1:1001", PlainHTTP: true, IP: ip}, back[0])
}

func TestDialContext(t *testing.T) {
	alb := echoServer(t, "alb")
	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: albHost, Port: 80, Addr: addr(alb), PlainHTTP: true}))
	transport := &http.Transport{DialContext: r.DialContext}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}

	t.Run("a mapped host reaches its local address with its Host kept", func(t *testing.T) {
		assert.Equal(t, "alb host="+albHost+" proto= path=/v1/health tls=false", get(t, client, "http://"+albHost+"/v1/health"))
	})
	t.Run("the host's IP is dialed like the host", func(t *testing.T) {
		ip, _ := r.IP(albHost)
		assert.Contains(t, get(t, client, "http://"+ip.String()+"/x"), "alb host="+ip.String())
	})
	t.Run("anything else is dialed as it is", func(t *testing.T) {
		assert.Contains(t, get(t, client, alb.URL+"/direct"), "path=/direct")
	})
	t.Run("a mapped host whose server is gone fails naming both addresses", func(t *testing.T) {
		gone := httptest.NewServer(echo("gone"))
		goneAddr := addr(gone)
		gone.Close()
		require.NoError(t, r.Add(names.Entry{Host: rdsHost, Port: 5432, Addr: goneAddr}))
		_, err := r.DialContext(context.Background(), "tcp", rdsHost+":5432")
		require.Error(t, err)
		assert.Contains(t, err.Error(), rdsHost)
		assert.Contains(t, err.Error(), goneAddr)
	})
	t.Run("LookupHost keeps mapped names for the dialer", func(t *testing.T) {
		hosts, err := r.LookupHost(context.Background(), albHost)
		require.NoError(t, err)
		assert.Equal(t, []string{albHost}, hosts)
		hosts, err = r.LookupHost(context.Background(), "localhost")
		require.NoError(t, err)
		assert.NotEmpty(t, hosts)
	})
}

func TestHTTPClientSendsHTTPSToPlainEntriesAsHTTP(t *testing.T) {
	edge := echoServer(t, "edge")
	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: cdnHost, Port: 443, Addr: addr(edge), PlainHTTP: true}))
	client := r.HTTPClient()
	t.Cleanup(client.CloseIdleConnections)
	assert.Equal(t, "edge host="+cdnHost+" proto=https path=/hls/index.m3u8?v=1 tls=false",
		get(t, client, "https://"+cdnHost+"/hls/index.m3u8?v=1"))
}

func TestRewriteEnv(t *testing.T) {
	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: rdsHost, Port: 5432, Addr: "127.0.0.1:15432"}))
	require.NoError(t, r.Add(names.Entry{Host: cdnHost, Port: 443, Addr: "127.0.0.1:18080", PlainHTTP: true}))
	in := map[string]string{
		"DB_HOST":      rdsHost,
		"DB_PORT":      "5432",
		"PGHOST":       rdsHost, // no PGPORT: the host's only entry, and the port is added
		"DB_ENDPOINT":  rdsHost + ":5432",
		"DATABASE_URL": "postgres://media:p%40ss@" + rdsHost + ":5432/media?sslmode=disable",
		"OTHER_HOST":   rdsHost,
		"OTHER_PORT":   "3306", // no entry for that port: left alone
		"CDN_DOMAIN":   cdnHost,
		"CDN_HOST":     cdnHost, // HTTP names stay AWS names; the proxy serves them
		"CDN_BASE_URL": "https://" + cdnHost,
		"REGION":       "us-east-1",
	}
	want := map[string]string{
		"DB_HOST":      "127.0.0.1",
		"DB_PORT":      "15432",
		"PGHOST":       "127.0.0.1",
		"PGPORT":       "15432",
		"DB_ENDPOINT":  "127.0.0.1:15432",
		"DATABASE_URL": "postgres://media:p%40ss@127.0.0.1:15432/media?sslmode=disable",
		"OTHER_HOST":   rdsHost,
		"OTHER_PORT":   "3306",
		"CDN_DOMAIN":   cdnHost,
		"CDN_HOST":     cdnHost,
		"CDN_BASE_URL": "https://" + cdnHost,
		"REGION":       "us-east-1",
	}
	snapshot := map[string]string{}
	for k, v := range in {
		snapshot[k] = v
	}
	assert.Equal(t, want, r.RewriteEnv(in))
	assert.Equal(t, snapshot, in, "the input is not modified")
}

func get(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return string(body)
}
