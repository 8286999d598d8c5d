package r53dns

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthCheckFlipsAfterItsThreshold(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/readyz", r.URL.Path)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	p, _ := strconv.Atoi(port)
	cfg := &types.HealthCheckConfig{
		Type: types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String(host), Port: aws.Int32(int32(p)), //nolint:gosec // a prefix length, port or TTL within the type's range
		ResourcePath: aws.String("/readyz"), RequestInterval: aws.Int32(1), FailureThreshold: aws.Int32(2),
	}
	h := NewHealthChecker(http.DefaultTransport, (&net.Dialer{}).DialContext, t.Logf)
	defer h.Stop()

	assert.True(t, h.Healthy("hc1", cfg), "a new check counts as healthy")
	status.Store(http.StatusServiceUnavailable)
	probes := h.Probes("hc1")
	require.Eventually(t, func() bool { return !h.Healthy("hc1", cfg) }, 10*time.Second, 100*time.Millisecond)
	assert.GreaterOrEqual(t, h.Probes("hc1")-probes, 2, "only after failure_threshold failures in a row")

	inverted := *cfg
	inverted.Inverted = aws.Bool(true)
	assert.True(t, h.Healthy("hc1", &inverted), "an inverted check reports the opposite")
	disabled := *cfg
	disabled.Disabled = aws.Bool(true)
	assert.True(t, h.Healthy("hc2", &disabled), "a disabled check is healthy")

	status.Store(http.StatusFound) // a 3xx passes
	require.Eventually(t, func() bool { return h.Healthy("hc1", cfg) }, 10*time.Second, 100*time.Millisecond)
}

func TestTCPHealthCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().(*net.TCPAddr)
	cfg := &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("127.0.0.1"), Port: aws.Int32(int32(addr.Port)), RequestInterval: aws.Int32(1), FailureThreshold: aws.Int32(1)} //nolint:gosec // a prefix length, port or TTL within the type's range
	h := NewHealthChecker(http.DefaultTransport, (&net.Dialer{}).DialContext, t.Logf)
	defer h.Stop()
	require.True(t, h.Healthy("tcp", cfg))
	require.Eventually(t, func() bool { return h.Probes("tcp") >= 1 }, 5*time.Second, 50*time.Millisecond)
	assert.True(t, h.Healthy("tcp", cfg), "a listener accepts")
	ln.Close()
	require.Eventually(t, func() bool { return !h.Healthy("tcp", cfg) }, 10*time.Second, 100*time.Millisecond, "nothing listens any more")
}
