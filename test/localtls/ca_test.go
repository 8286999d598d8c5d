package localtls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIssuedCertificatesAreTrustedThroughTheBundle(t *testing.T) {
	ca, err := NewCA(t.TempDir())
	require.NoError(t, err)
	certPath, keyPath, err := ca.Issue("server", "127.0.0.1", "localhost")
	require.NoError(t, err)
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	require.NoError(t, err)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()

	resp, err := ca.HTTPClient().Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	// Other processes trust the CA through the PEM bundle alone.
	bundle, err := os.ReadFile(ca.BundlePath)
	require.NoError(t, err)
	block, _ := pem.Decode(bundle)
	require.NotNil(t, block)
	caCert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, caCert.IsCA)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"})
	assert.NoError(t, err)

	resp, err = http.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	assert.Error(t, err, "without the CA the certificate must not be trusted")
}
