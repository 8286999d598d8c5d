package names_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
	"github.com/mediastack/terraform-aws-mediastack/test/localtls"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// tlsHost stands for an endpoint whose local stand-in speaks TLS itself, with a certificate
// for the AWS name: the proxy must tunnel it untouched.
const tlsHost = "search-media.us-east-1.es.amazonaws.com"

type proxyFixture struct {
	ca     *localtls.CA
	r      *names.Resolver
	proxy  *names.Proxy
	edge   *httptest.Server
	origin *httptest.Server
}

func newProxyFixture(t *testing.T) *proxyFixture {
	t.Helper()
	ca, err := localtls.NewCA(procs.TempDir(t, "names-proxy-*"))
	require.NoError(t, err)
	edge := echoServer(t, "edge")
	alb := echoServer(t, "alb")

	certPath, keyPath, err := ca.Issue("origin", tlsHost)
	require.NoError(t, err)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	require.NoError(t, err)
	origin := httptest.NewUnstartedServer(echo("origin"))
	origin.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	origin.StartTLS()
	t.Cleanup(origin.Close)

	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: cdnHost, Port: 443, Addr: addr(edge), PlainHTTP: true}))
	require.NoError(t, r.Add(names.Entry{Host: albHost, Port: 80, Addr: addr(alb), PlainHTTP: true}))
	require.NoError(t, r.Add(names.Entry{Host: tlsHost, Port: 443, Addr: addr(origin)}))
	p, err := r.StartProxy(names.ProxyOptions{Certificates: names.CertificatesFrom(ca)})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, p.Close()) })
	return &proxyFixture{ca: ca, r: r, proxy: p, edge: edge, origin: origin}
}

// curl runs curl with the proxy's environment and nothing of ours that names a proxy.
func curl(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--fail-with-body", "--max-time", "10"}, args...)...)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasSuffix(strings.ToLower(k), "_proxy") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestProxyWithCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	f := newProxyFixture(t)
	env := f.proxy.Env()

	t.Run("http_proxy: an absolute-URI request reaches the mapped host", func(t *testing.T) {
		out, err := curl(t, env, "http://"+albHost+"/v1/media/42?x=1")
		require.NoError(t, err, out)
		assert.Equal(t, "alb host="+albHost+" proto=http path=/v1/media/42?x=1 tls=false", out)
	})
	t.Run("https_proxy: CONNECT to a plain-HTTP edge is terminated with the local CA", func(t *testing.T) {
		out, err := curl(t, env, "--cacert", f.ca.BundlePath, "https://"+cdnHost+"/hls/index.m3u8")
		require.NoError(t, err, out)
		assert.Equal(t, "edge host="+cdnHost+" proto=https path=/hls/index.m3u8 tls=false", out)
	})
	t.Run("https_proxy: the terminated certificate is not trusted without the CA", func(t *testing.T) {
		out, err := curl(t, env, "https://"+cdnHost+"/hls/index.m3u8")
		require.Error(t, err)
		assert.Contains(t, out, "certificate")
	})
	t.Run("https_proxy: CONNECT to a TLS stand-in is a byte tunnel", func(t *testing.T) {
		out, err := curl(t, env, "--cacert", f.ca.BundlePath, "https://"+tlsHost+"/_search")
		require.NoError(t, err, out)
		assert.Equal(t, "origin host="+tlsHost+" proto= path=/_search tls=true", out)
	})
	t.Run("unmapped hosts are reached as they are", func(t *testing.T) {
		out, err := curl(t, nil, "--proxy", f.proxy.URL(), f.edge.URL+"/direct")
		require.NoError(t, err, out)
		assert.Contains(t, out, "edge host="+addr(f.edge)+" proto=http path=/direct")
	})
	t.Run("an unmapped name that does not resolve is a 502", func(t *testing.T) {
		out, err := curl(t, env, "http://nowhere.invalid/")
		require.Error(t, err)
		assert.Contains(t, out, "local cloud proxy")
	})
}

func TestProxyForGoClients(t *testing.T) {
	f := newProxyFixture(t)
	proxyURL, err := url.Parse(f.proxy.URL())
	require.NoError(t, err)
	transport := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: f.ca.CertPool()}}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}

	assert.Equal(t, "edge host="+cdnHost+" proto=https path=/poster.jpg tls=false", get(t, client, "https://"+cdnHost+"/poster.jpg"))
	assert.Equal(t, "alb host="+albHost+" proto=http path=/ tls=false", get(t, client, "http://"+albHost+"/"))
	// Connections are reused: a second request goes over the same terminated tunnel.
	assert.Contains(t, get(t, client, "https://"+cdnHost+"/second"), "path=/second")
}

func TestProxyRefusesToTunnelTLSIntoPlainHTTPWithoutCertificates(t *testing.T) {
	edge := echoServer(t, "edge")
	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: cdnHost, Port: 443, Addr: addr(edge), PlainHTTP: true}))
	p, err := r.StartProxy(names.ProxyOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })

	resp := connect(t, p.Addr(), cdnHost+":443")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Contains(t, string(body), "no certificates")
}

func TestProxyCloseEndsOpenTunnels(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { backend.Close() })
	go func() { // a server that holds its connections open and echoes
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	r := names.New()
	require.NoError(t, r.Add(names.Entry{Host: rdsHost, Port: 5432, Addr: backend.Addr().String()}))
	p, err := r.StartProxy(names.ProxyOptions{})
	require.NoError(t, err)

	conn, err := net.Dial("tcp", p.Addr())
	require.NoError(t, err)
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s:5432 HTTP/1.1\r\nHost: %s:5432\r\n\r\n", rdsHost, rdsHost)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil) //nolint:bodyclose // a CONNECT's 200 has no body: the connection is the tunnel, closed above
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = conn.Write([]byte("ping"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(br, buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf), "the tunnel carries bytes both ways")

	require.NoError(t, p.Close())
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "Close ends the tunnel")
}

// connect sends a CONNECT to the proxy and returns its answer.
func connect(t *testing.T, proxyAddr, target string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", proxyAddr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	return resp
}
