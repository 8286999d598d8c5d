package r53dns

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// HealthChecker evaluates Route 53 health checks as Route 53's checkers do (AWS: "How Route 53
// determines whether a health check is healthy"), from this machine: every RequestInterval
// seconds (30 by default) it probes the endpoint; an HTTP or HTTPS check passes on a 2xx or
// 3xx answer within 2 s of connecting (4 s to connect; certificates are not verified, as
// Route 53 does not), a TCP check on a connection. The status flips after FailureThreshold
// (3 by default) consecutive results that disagree with it. A new check counts as healthy
// until it has failed that often; a disabled one is always healthy; an inverted one reports
// the opposite. A check is probed from the first time an answer depends on it until Stop.
type HealthChecker struct {
	client *http.Client
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	logf   func(string, ...any)

	mu     sync.Mutex
	checks map[string]*healthCheck
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type healthCheck struct {
	cfg     types.HealthCheckConfig
	healthy bool // before inversion
	streak  int  // consecutive results that disagree with healthy
	probes  int
}

// NewHealthChecker probes HTTP checks through transport and TCP checks through dial (both
// reaching the local cloud's AWS names); logf, when set, hears each status change.
func NewHealthChecker(transport http.RoundTripper, dial func(ctx context.Context, network, addr string) (net.Conn, error), logf func(string, ...any)) *HealthChecker {
	ctx, cancel := context.WithCancel(context.Background())
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &HealthChecker{
		client: &http.Client{
			Transport: transport,
			Timeout:   6 * time.Second, // 4 s to connect, then 2 s to answer
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a 3xx passes as it is
			},
		},
		dial:   dial,
		logf:   logf,
		checks: map[string]*healthCheck{},
		ctx:    ctx,
		cancel: cancel,
	}
}

// Healthy is the current status of the check id configured as cfg, probing it from now on.
func (h *HealthChecker) Healthy(id string, cfg *types.HealthCheckConfig) bool {
	if cfg == nil {
		return true // a check the zone names but the emulator does not know: Route 53 ignores it
	}
	if aws.ToBool(cfg.Disabled) {
		return true
	}
	h.mu.Lock()
	c, ok := h.checks[id]
	if !ok {
		c = &healthCheck{cfg: *cfg, healthy: true}
		h.checks[id] = c
		h.wg.Add(1)
		go h.run(id, c)
	}
	healthy := c.healthy
	h.mu.Unlock()
	return healthy != aws.ToBool(cfg.Inverted)
}

// Probes is how many times check id has been probed, for tests.
func (h *HealthChecker) Probes(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.checks[id]; ok {
		return c.probes
	}
	return 0
}

// Stop ends every probe.
func (h *HealthChecker) Stop() {
	h.cancel()
	h.wg.Wait()
}

func (h *HealthChecker) run(id string, c *healthCheck) {
	defer h.wg.Done()
	interval := time.Duration(aws.ToInt32(c.cfg.RequestInterval)) * time.Second
	if interval <= 0 {
		interval = 30 * time.Second
	}
	threshold := int(aws.ToInt32(c.cfg.FailureThreshold))
	if threshold <= 0 {
		threshold = 3
	}
	for {
		err := h.probe(c.cfg)
		h.mu.Lock()
		c.probes++
		if (err == nil) == c.healthy {
			c.streak = 0
		} else if c.streak++; c.streak >= threshold {
			c.healthy, c.streak = err == nil, 0
			h.logf("route53: health check %s (%s) is now %s: %v", id, endpoint(c.cfg), map[bool]string{true: "healthy", false: "unhealthy"}[c.healthy], err)
		}
		h.mu.Unlock()
		select {
		case <-h.ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// probe is one check of the endpoint: nil when it passed.
func (h *HealthChecker) probe(cfg types.HealthCheckConfig) error {
	ctx, cancel := context.WithTimeout(h.ctx, h.client.Timeout)
	defer cancel()
	switch cfg.Type {
	case types.HealthCheckTypeTcp:
		conn, err := h.dial(ctx, "tcp", hostPort(cfg))
		if err != nil {
			return err
		}
		return conn.Close()
	case types.HealthCheckTypeHttp, types.HealthCheckTypeHttps:
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint(cfg), nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", "Amazon-Route53-Health-Check-Service (ref local)")
		resp, err := h.client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("answered %s", resp.Status)
		}
		return nil
	}
	return fmt.Errorf("health check type %s is not evaluated locally", cfg.Type)
}

func hostPort(cfg types.HealthCheckConfig) string {
	host := aws.ToString(cfg.FullyQualifiedDomainName)
	if host == "" {
		host = aws.ToString(cfg.IPAddress)
	}
	port := int(aws.ToInt32(cfg.Port))
	if port == 0 {
		port = 80
		if cfg.Type == types.HealthCheckTypeHttps {
			port = 443
		}
	}
	return net.JoinHostPort(strings.TrimSuffix(host, "."), strconv.Itoa(port))
}

func endpoint(cfg types.HealthCheckConfig) string {
	if cfg.Type == types.HealthCheckTypeTcp {
		return "tcp://" + hostPort(cfg)
	}
	scheme := "http"
	if cfg.Type == types.HealthCheckTypeHttps {
		scheme = "https"
	}
	path := aws.ToString(cfg.ResourcePath)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return scheme + "://" + hostPort(cfg) + path
}
