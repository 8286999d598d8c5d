package fleet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// healthCheck is a target group's health check as the ELBv2 API reports it.
type healthCheck struct {
	path      string
	matcher   []codeRange
	interval  time.Duration
	timeout   time.Duration
	healthy   int // consecutive successes that bring an unhealthy target back
	unhealthy int // consecutive failures that take a target out
}

type codeRange struct{ lo, hi int }

// healthCheckOf reads a target group's settings with the ALB defaults for what is unset.
func healthCheckOf(tg elbtypes.TargetGroup) (healthCheck, error) {
	hc := healthCheck{
		path:      aws.ToString(tg.HealthCheckPath),
		interval:  seconds(tg.HealthCheckIntervalSeconds, 30),
		timeout:   seconds(tg.HealthCheckTimeoutSeconds, 5),
		healthy:   count(tg.HealthyThresholdCount, 5),
		unhealthy: count(tg.UnhealthyThresholdCount, 2),
	}
	if hc.path == "" {
		hc.path = "/"
	}
	codes := "200"
	if tg.Matcher != nil && aws.ToString(tg.Matcher.HttpCode) != "" {
		codes = aws.ToString(tg.Matcher.HttpCode)
	}
	m, err := parseMatcher(codes)
	if err != nil {
		return healthCheck{}, fmt.Errorf("target group %s: %w", aws.ToString(tg.TargetGroupName), err)
	}
	hc.matcher = m
	return hc, nil
}

func seconds(v *int32, def int32) time.Duration {
	if v == nil || *v <= 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*v) * time.Second
}

func count(v *int32, def int) int {
	if v == nil || *v <= 0 {
		return def
	}
	return int(*v)
}

// parseMatcher reads an ALB success-code matcher: "200", "200,202" or "200-299".
func parseMatcher(s string) ([]codeRange, error) {
	var out []codeRange
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(strings.TrimSpace(lo))
		h, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || l > h {
			return nil, fmt.Errorf("health check matcher %q: want codes like 200, 200,202 or 200-299", s)
		}
		out = append(out, codeRange{l, h})
	}
	return out, nil
}

func (hc healthCheck) matches(code int) bool {
	for _, r := range hc.matcher {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// healthState follows one target's checks the way an ALB does: a new target is healthy
// after its first passing check; a healthy (or new) one becomes unhealthy after `unhealthy`
// consecutive failures, and an unhealthy one healthy again after `healthy` consecutive
// successes.
type healthState struct {
	state         elbtypes.TargetHealthStateEnum
	passes, fails int
}

func newHealthState() healthState { return healthState{state: elbtypes.TargetHealthStateEnumInitial} }

func (h *healthState) observe(ok bool, hc healthCheck) {
	if ok {
		h.passes, h.fails = h.passes+1, 0
		if h.state == elbtypes.TargetHealthStateEnumInitial ||
			h.state == elbtypes.TargetHealthStateEnumUnhealthy && h.passes >= hc.healthy {
			h.state = elbtypes.TargetHealthStateEnumHealthy
		}
		return
	}
	h.passes, h.fails = 0, h.fails+1
	if h.state != elbtypes.TargetHealthStateEnumUnhealthy && h.fails >= hc.unhealthy {
		h.state = elbtypes.TargetHealthStateEnumUnhealthy
	}
}

// checkClient makes one connection per check, as the ALB closes it after each.
var checkClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	// A redirect is an answer with its own code, not something to follow.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// probe runs one health check against addr.
func probe(ctx context.Context, hc healthCheck, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, hc.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+hc.path, nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := checkClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return hc.matches(resp.StatusCode)
}

// target is an instance registered with a target group, with its own checker.
type target struct {
	inst *instance

	mu     sync.Mutex
	health healthState
	// draining is set, under its target group's lock, once it is deregistered.
	draining bool
	inFlight atomic.Int64 // requests the listeners are proxying to it

	cancel context.CancelFunc
	done   chan struct{}
}

// stateLocked is the target's state; its target group's lock is held.
func (t *target) stateLocked() elbtypes.TargetHealthStateEnum {
	if t.draining {
		return elbtypes.TargetHealthStateEnumDraining
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.health.state
}

// check runs the target group's health check every interval until ctx ends; the settings
// are read again before each check so that a modified target group applies at once.
func (t *target) check(ctx context.Context, tg *targetGroup, logf func(string, ...any)) {
	defer close(t.done)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		hc := tg.healthCheck()
		ok := probe(ctx, hc, t.inst.addr)
		if ctx.Err() != nil {
			return
		}
		t.mu.Lock()
		before := t.health.state
		t.health.observe(ok, hc)
		after := t.health.state
		t.mu.Unlock()
		if before != after {
			logf("fleet: target %s (%s) of %s: %s -> %s", t.inst.id, t.inst.addr, tg.name, before, after)
		}
		timer.Reset(hc.interval)
	}
}
