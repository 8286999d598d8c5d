package fleet

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

func TestHealthStateFollowsThresholds(t *testing.T) {
	hc := healthCheck{healthy: 3, unhealthy: 2}
	const (
		initial   = elbtypes.TargetHealthStateEnumInitial
		healthy   = elbtypes.TargetHealthStateEnumHealthy
		unhealthy = elbtypes.TargetHealthStateEnumUnhealthy
	)
	for _, tc := range []struct {
		name   string
		checks string // p: pass, f: fail
		want   []elbtypes.TargetHealthStateEnum
	}{
		{"a new target is healthy after one pass", "p", []elbtypes.TargetHealthStateEnum{healthy}},
		{"a new target fails after the unhealthy threshold", "ff", []elbtypes.TargetHealthStateEnum{initial, unhealthy}},
		{"one failure is not enough", "pfp", []elbtypes.TargetHealthStateEnum{healthy, healthy, healthy}},
		{"failures must be consecutive", "pfpf", []elbtypes.TargetHealthStateEnum{healthy, healthy, healthy, healthy}},
		{"out after two failures", "pff", []elbtypes.TargetHealthStateEnum{healthy, healthy, unhealthy}},
		{"back after three passes", "pffppp", []elbtypes.TargetHealthStateEnum{healthy, healthy, unhealthy, unhealthy, unhealthy, healthy}},
		{"passes must be consecutive", "pffppfppp", []elbtypes.TargetHealthStateEnum{healthy, healthy, unhealthy, unhealthy, unhealthy, unhealthy, unhealthy, unhealthy, healthy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHealthState()
			var got []elbtypes.TargetHealthStateEnum
			for _, c := range tc.checks {
				h.observe(c == 'p', hc)
				got = append(got, h.state)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestMatcher(t *testing.T) {
	for _, tc := range []struct {
		matcher string
		ok, bad []int
	}{
		{"200", []int{200}, []int{201, 301, 500}},
		{"200,202", []int{200, 202}, []int{201}},
		{"200-299", []int{200, 204, 299}, []int{199, 300}},
		{"200-204, 301", []int{203, 301}, []int{302}},
	} {
		hc := healthCheck{}
		var err error
		hc.matcher, err = parseMatcher(tc.matcher)
		require.NoError(t, err, tc.matcher)
		for _, c := range tc.ok {
			assert.True(t, hc.matches(c), "%s matches %d", tc.matcher, c)
		}
		for _, c := range tc.bad {
			assert.False(t, hc.matches(c), "%s does not match %d", tc.matcher, c)
		}
	}
	for _, bad := range []string{"", "ok", "299-200", "200-"} {
		_, err := parseMatcher(bad)
		assert.Error(t, err, bad)
	}
}

func TestRedirectURL(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config elbtypes.RedirectActionConfig
		target string
		want   string
	}{
		{"to HTTPS on 443 (modules/alb)", elbtypes.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443")},
			"http://api.example.com/v1/media?x=1", "https://api.example.com/v1/media?x=1"},
		{"the request's port is dropped, another port kept", elbtypes.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("8443")},
			"http://api.example.com:80/", "https://api.example.com:8443/"},
		{"placeholders", elbtypes.RedirectActionConfig{Host: aws.String("www.#{host}"), Path: aws.String("/new/#{path}"), Query: aws.String("from=#{port}&#{query}")},
			"http://example.com/old?a=b", "http://www.example.com/new/old?from=80&a=b"},
		{"the port defaults to the listener's, even for another protocol", elbtypes.RedirectActionConfig{Protocol: aws.String("HTTPS")},
			"http://example.com/x", "https://example.com:80/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			assert.Equal(t, tc.want, redirectURL(&tc.config, r, "http", 80))
		})
	}
}

// The listener's answers when the target group cannot serve: 503 without a target (or
// with targets still in their first check), 502 when the chosen target does not answer.
func TestListenerErrors(t *testing.T) {
	port, err := procs.FreePort()
	require.NoError(t, err)
	tg := &targetGroup{arn: "tg", name: "tg", targets: map[string]*target{}}
	l, err := startListener("127.0.0.1:0", elbtypes.Listener{ListenerArn: aws.String("l"), Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp},
		elbtypes.LoadBalancer{DNSName: aws.String("alb.example.com")}, func(arn string) *targetGroup {
			if arn == "tg" {
				return tg
			}
			return nil
		}, func(*http.Request) string { return "" })
	require.NoError(t, err)
	defer l.close()
	l.action.Store(&action{kind: elbtypes.ActionTypeEnumForward, forward: []weightedGroup{{arn: "tg", weight: 1}}})
	status := func() int {
		resp, err := http.Get("http://" + l.addr() + "/")
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}

	assert.Equal(t, http.StatusServiceUnavailable, status(), "no targets")
	tg.targets["i-1"] = &target{inst: &instance{id: "i-1", addr: "127.0.0.1:" + strconv.Itoa(port)}, health: newHealthState()}
	assert.Equal(t, http.StatusServiceUnavailable, status(), "a target still in its initial check")
	tg.targets["i-1"].health.state = elbtypes.TargetHealthStateEnumHealthy
	assert.Equal(t, http.StatusBadGateway, status(), "a healthy target that refuses the connection")

	l.action.Store(&action{kind: elbtypes.ActionTypeEnumFixedResponse, fixed: &elbtypes.FixedResponseActionConfig{
		StatusCode: aws.String("418"), ContentType: aws.String("text/plain"), MessageBody: aws.String("teapot")}})
	assert.Equal(t, 418, status(), "fixed response")
}

// ParseUserData reads the line that modules/asg's template really writes.
func TestParseUserDataOfTheModuleTemplate(t *testing.T) {
	tmpl, err := os.ReadFile("../../../modules/asg/templates/user-data.sh.tftpl")
	require.NoError(t, err)
	const line = `{"artifact":"s3://b/k.zip","environment":{"LISTEN_ADDR":":8080"},"name":"upload-api","port":8080,"stop_timeout_seconds":120}`
	userData := strings.ReplaceAll(string(tmpl), "${service_json}", line)
	assert.Equal(t, "# mediastack-service: "+line, strings.Split(userData, "\n")[1], "the service line is the second")
	svc, err := ParseUserData([]byte(userData))
	require.NoError(t, err)
	assert.Equal(t, Service{Name: "upload-api", Port: 8080, Artifact: "s3://b/k.zip", Environment: map[string]string{"LISTEN_ADDR": ":8080"}, StopTimeoutSeconds: 120}, svc)

	_, err = ParseUserData([]byte("#!/bin/bash\necho hi\n"))
	assert.ErrorContains(t, err, "mediastack-service")
}

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "ELB-HealthChecker/2.0", r.UserAgent())
		switch r.URL.Path {
		case "/ok":
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	m, _ := parseMatcher("200")
	hc := func(path string) healthCheck {
		return healthCheck{path: path, matcher: m, timeout: 100 * time.Millisecond}
	}
	ctx := context.Background()
	assert.True(t, probe(ctx, hc("/ok"), addr))
	assert.False(t, probe(ctx, hc("/missing"), addr), "a code outside the matcher")
	assert.False(t, probe(ctx, hc("/moved"), addr), "a redirect is not followed")
	assert.False(t, probe(ctx, hc("/slow"), addr), "past the timeout")
}

// The API's instances come first; when it reports fewer than DesiredCapacity, local ids make
// up the rest, and running local ones are kept.
func TestWantedIDs(t *testing.T) {
	n := 0
	newID := func() string { n++; return localPrefix + strconv.Itoa(n) }
	d := astypes.AutoScalingGroup{
		DesiredCapacity: aws.Int32(3),
		Instances: []astypes.Instance{
			{InstanceId: aws.String("i-gone"), LifecycleState: astypes.LifecycleStateTerminating},
			{InstanceId: aws.String("i-api"), LifecycleState: astypes.LifecycleStateInService},
		},
	}
	g := &group{instances: map[string]*instance{}}
	assert.Equal(t, []string{"i-api", "i-local1", "i-local2"}, wantedIDs(d, g, newID))

	g.instances["i-local2"] = &instance{id: "i-local2"}
	assert.Equal(t, []string{"i-api", "i-local2", "i-local3"}, wantedIDs(d, g, newID))

	d.DesiredCapacity = aws.Int32(1)
	assert.Equal(t, []string{"i-api"}, wantedIDs(d, g, newID))
}
