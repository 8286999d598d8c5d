package fleet

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// targetGroup is the local side of an ELBv2 target group: its health check settings and
// the instances registered with it.
type targetGroup struct {
	arn, name string

	mu      sync.Mutex
	hc      healthCheck
	delay   time.Duration      // deregistration_delay.timeout_seconds
	targets map[string]*target // by instance id
	next    atomic.Uint64      // round-robin position
	// requests counts what the listeners forwarded to the group, its RequestCount metric.
	requests atomic.Uint64
}

func (tg *targetGroup) healthCheck() healthCheck {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.hc
}

// register starts checking inst; registering it again does nothing.
func (tg *targetGroup) register(ctx context.Context, inst *instance, logf func(string, ...any)) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if _, ok := tg.targets[inst.id]; ok {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &target{inst: inst, health: newHealthState(), cancel: cancel, done: make(chan struct{})}
	tg.targets[inst.id] = t
	go t.check(ctx, tg, logf)
}

// deregister takes the instance out of the rotation and stops checking it. With drain, it
// then waits as an ALB does (AWS: "Elastic Load Balancing stops sending requests to targets
// that are deregistering ... If a deregistering target has no in-flight requests and no
// active connections, Elastic Load Balancing immediately completes the deregistration
// process, without waiting for the deregistration delay to elapse"): until the requests in
// flight on it have finished, for at most the group's deregistration delay, or until ctx
// ends. The target is reported draining meanwhile.
func (tg *targetGroup) deregister(ctx context.Context, id string, drain bool) {
	tg.mu.Lock()
	t, ok := tg.targets[id]
	if ok {
		// Under the lock that pick takes: no request is sent to it after this.
		t.draining = true
	}
	delay := tg.delay
	tg.mu.Unlock()
	if !ok {
		return
	}
	t.cancel()
	<-t.done
	if drain {
		deadline := time.NewTimer(delay)
		defer deadline.Stop()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
	wait:
		for t.inFlight.Load() > 0 {
			select {
			case <-ctx.Done():
				break wait
			case <-deadline.C:
				break wait
			case <-tick.C:
			}
		}
	}
	tg.mu.Lock()
	if tg.targets[id] == t {
		delete(tg.targets, id)
	}
	tg.mu.Unlock()
}

// deregisterAll takes every target out at once, without draining.
func (tg *targetGroup) deregisterAll() {
	tg.mu.Lock()
	ids := make([]string, 0, len(tg.targets))
	for id := range tg.targets {
		ids = append(ids, id)
	}
	tg.mu.Unlock()
	for _, id := range ids {
		tg.deregister(context.Background(), id, false)
	}
}

// hasHealthy reports whether any registered target is healthy.
func (tg *targetGroup) hasHealthy() bool {
	return tg.healthyTargets() > 0
}

// healthyTargets counts the healthy targets, the denominator of RequestCountPerTarget.
func (tg *targetGroup) healthyTargets() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	n := 0
	for _, t := range tg.targets {
		if t.stateLocked() == elbtypes.TargetHealthStateEnumHealthy {
			n++
		}
	}
	return n
}

// pick chooses the next target round-robin among the healthy ones and counts a request in
// flight on it, which the caller ends with done. As on AWS, a group whose registered
// targets are all unhealthy fails open and routes to all of them; with no targets, or only
// ones still in their initial check or draining, there is none.
func (tg *targetGroup) pick() (t *target, done func()) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	var healthy, unhealthy []*target
	serving := 0
	for _, t := range tg.targets {
		switch t.stateLocked() {
		case elbtypes.TargetHealthStateEnumHealthy:
			healthy = append(healthy, t)
		case elbtypes.TargetHealthStateEnumUnhealthy:
			unhealthy = append(unhealthy, t)
		}
		if !t.draining {
			serving++
		}
	}
	candidates := healthy
	if len(healthy) == 0 && len(unhealthy) == serving {
		candidates = unhealthy
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	slices.SortFunc(candidates, func(a, b *target) int { return strings.Compare(a.inst.id, b.inst.id) })
	t = candidates[(tg.next.Add(1)-1)%uint64(len(candidates))]
	t.inFlight.Add(1)
	return t, func() { t.inFlight.Add(-1) }
}

// action is a listener's default action, decoded once per poll.
type action struct {
	kind     elbtypes.ActionTypeEnum
	forward  []weightedGroup
	redirect *elbtypes.RedirectActionConfig
	fixed    *elbtypes.FixedResponseActionConfig
}

type weightedGroup struct {
	arn    string
	weight int
}

// actionOf reads the first default action the local listener can serve: forward, redirect
// or fixed-response (authentication actions are not modelled).
func actionOf(l elbtypes.Listener) (action, error) {
	actions := slices.Clone(l.DefaultActions)
	slices.SortStableFunc(actions, func(a, b elbtypes.Action) int {
		return int(aws.ToInt32(a.Order)) - int(aws.ToInt32(b.Order))
	})
	for _, a := range actions {
		switch a.Type {
		case elbtypes.ActionTypeEnumForward:
			var groups []weightedGroup
			if a.ForwardConfig != nil {
				for _, g := range a.ForwardConfig.TargetGroups {
					groups = append(groups, weightedGroup{arn: aws.ToString(g.TargetGroupArn), weight: int(aws.ToInt32(g.Weight))})
				}
			}
			if len(groups) == 0 && aws.ToString(a.TargetGroupArn) != "" {
				groups = []weightedGroup{{arn: aws.ToString(a.TargetGroupArn), weight: 1}}
			}
			if len(groups) == 1 && groups[0].weight == 0 {
				groups[0].weight = 1
			}
			return action{kind: a.Type, forward: groups}, nil
		case elbtypes.ActionTypeEnumRedirect:
			if a.RedirectConfig == nil {
				return action{}, errors.New("redirect action without a redirect config")
			}
			return action{kind: a.Type, redirect: a.RedirectConfig}, nil
		case elbtypes.ActionTypeEnumFixedResponse:
			if a.FixedResponseConfig == nil {
				return action{}, errors.New("fixed-response action without its config")
			}
			return action{kind: a.Type, fixed: a.FixedResponseConfig}, nil
		}
	}
	return action{}, fmt.Errorf("listener %s: no forward, redirect or fixed-response default action", aws.ToString(l.ListenerArn))
}

func (a action) pickGroup() string {
	total := 0
	for _, g := range a.forward {
		total += g.weight
	}
	if total == 0 {
		return ""
	}
	n := rand.IntN(total) //nolint:gosec // spreading load and think time, not a secret
	for _, g := range a.forward {
		if n < g.weight {
			return g.arn
		}
		n -= g.weight
	}
	return ""
}

// listener is a plain-HTTP loopback listener standing in for one ALB listener. An HTTPS
// listener is served as plain HTTP too, but tells the targets what the ALB would: the
// protocol and port the client used, per X-Forwarded-Proto and X-Forwarded-Port.
type listener struct {
	arn      string
	lbName   string
	dnsName  string
	port     int32
	protocol string // lower case: http or https

	action  atomic.Pointer[action]
	waf     atomic.Pointer[webACL] // of the load balancer; nil: none associated
	country func(*http.Request) string
	groups  func(arn string) *targetGroup
	ln      net.Listener
	srv     *http.Server
	proxy   *httputil.ReverseProxy
}

type targetKey struct{}

// targetTransport reaches targets directly (never through a proxy of the environment) and
// gives up on a target that sends no response within the ALB's default idle timeout.
var targetTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.ResponseHeaderTimeout = 60 * time.Second
	return t
}()

func startListener(addr string, l elbtypes.Listener, lb elbtypes.LoadBalancer, groups func(string) *targetGroup, country func(*http.Request) string) (*listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for %s:%d: %w", aws.ToString(lb.DNSName), aws.ToInt32(l.Port), err)
	}
	lis := &listener{
		arn:      aws.ToString(l.ListenerArn),
		lbName:   aws.ToString(lb.LoadBalancerName),
		dnsName:  aws.ToString(lb.DNSName),
		port:     aws.ToInt32(l.Port),
		protocol: strings.ToLower(string(l.Protocol)),
		groups:   groups,
		country:  country,
		ln:       ln,
	}
	if lis.protocol == "" {
		lis.protocol = "http"
	}
	lis.proxy = &httputil.ReverseProxy{Rewrite: lis.rewrite, Transport: targetTransport, ErrorHandler: proxyError}
	lis.srv = &http.Server{Handler: lis, ReadHeaderTimeout: 30 * time.Second}
	go lis.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed at close
	return lis, nil
}

func (l *listener) addr() string { return l.ln.Addr().String() }

func (l *listener) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if l.srv.Shutdown(ctx) != nil {
		l.srv.Close()
	}
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if acl := l.waf.Load(); acl != nil {
		if d := acl.decide(l.country(r)); d.blocked {
			w.Header().Set("Content-Type", d.contentType)
			w.WriteHeader(d.status)
			_, _ = w.Write([]byte(d.body))
			return
		}
	}
	a := l.action.Load()
	switch {
	case a == nil:
		http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
	case a.kind == elbtypes.ActionTypeEnumRedirect:
		code := http.StatusMovedPermanently
		if a.redirect.StatusCode == elbtypes.RedirectActionStatusCodeEnumHttp302 {
			code = http.StatusFound
		}
		w.Header().Set("Location", redirectURL(a.redirect, r, l.protocol, l.port))
		w.WriteHeader(code)
	case a.kind == elbtypes.ActionTypeEnumFixedResponse:
		code, err := strconv.Atoi(aws.ToString(a.fixed.StatusCode))
		if err != nil {
			code = http.StatusOK
		}
		if ct := aws.ToString(a.fixed.ContentType); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(aws.ToString(a.fixed.MessageBody)))
	default:
		tg := l.groups(a.pickGroup())
		var t *target
		var done func()
		if tg != nil {
			tg.requests.Add(1)
			t, done = tg.pick()
		}
		if t == nil {
			http.Error(w, "503 Service Temporarily Unavailable", http.StatusServiceUnavailable)
			return
		}
		defer done()
		l.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
	}
}

// rewrite sends the request to the chosen target with the headers an ALB adds; the Host
// header is the client's, as the ALB passes it on.
func (l *listener) rewrite(pr *httputil.ProxyRequest) {
	t := pr.In.Context().Value(targetKey{}).(*target)
	pr.SetURL(&url.URL{Scheme: "http", Host: t.inst.addr})
	pr.Out.Host = pr.In.Host
	client, _, err := net.SplitHostPort(pr.In.RemoteAddr)
	if err != nil {
		client = pr.In.RemoteAddr
	}
	// Rewrite starts from a request without X-Forwarded-*: the ALB appends to the client's.
	if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		client = strings.Join(prior, ", ") + ", " + client
	}
	pr.Out.Header.Set("X-Forwarded-For", client)
	pr.Out.Header.Set("X-Forwarded-Proto", l.protocol)
	pr.Out.Header.Set("X-Forwarded-Port", strconv.Itoa(int(l.port)))
	if pr.Out.Header.Get("X-Amzn-Trace-Id") == "" {
		pr.Out.Header.Set("X-Amzn-Trace-Id", traceID())
	}
}

// proxyError answers as an ALB does when the target fails: 504 when it timed out, 502
// otherwise (connection refused or reset, a malformed response).
func proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		http.Error(w, "504 Gateway Time-out", http.StatusGatewayTimeout)
		return
	}
	http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
}

// traceID is an X-Amzn-Trace-Id root: version, epoch seconds in hex, 96 random bits.
func traceID() string {
	b := make([]byte, 12)
	crand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", time.Now().Unix(), hex.EncodeToString(b))
}

// redirectURL expands an ALB redirect: each part defaults to the request's own (#{protocol},
// #{host}, #{port}, /#{path}, #{query}) and the port is left out when it is the protocol's
// default.
func redirectURL(rc *elbtypes.RedirectActionConfig, r *http.Request, protocol string, port int32) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	expand := func(v, def string) string {
		if v == "" {
			v = def
		}
		return strings.NewReplacer(
			"#{protocol}", protocol,
			"#{host}", host,
			"#{port}", strconv.Itoa(int(port)),
			"#{path}", strings.TrimPrefix(r.URL.Path, "/"),
			"#{query}", r.URL.RawQuery,
		).Replace(v)
	}
	scheme := strings.ToLower(expand(aws.ToString(rc.Protocol), "#{protocol}"))
	p := expand(aws.ToString(rc.Port), "#{port}")
	u := url.URL{
		Scheme:   scheme,
		Host:     expand(aws.ToString(rc.Host), "#{host}"),
		Path:     expand(aws.ToString(rc.Path), "/#{path}"),
		RawQuery: expand(aws.ToString(rc.Query), "#{query}"),
	}
	if (scheme != "http" || p != "80") && (scheme != "https" || p != "443") {
		u.Host = net.JoinHostPort(u.Host, p)
	}
	return u.String()
}
