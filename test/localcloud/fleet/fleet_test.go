package fleet_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/fleet"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

// waitFor bounds every eventual condition: health thresholds here take a few seconds.
const waitFor = 30 * time.Second

func TestInstancesRunTheServiceAsTheInstanceRole(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true})
	s.waitHealthy(t)
	ctx := context.Background()

	g := s.group(t)
	require.Len(t, g.Instances, 2)
	assert.NoError(t, g.LastError)
	assert.ElementsMatch(t, s.apiInstanceIDs(t), ids(g), "the instances are the ones the Auto Scaling API reports")
	assert.NotEqual(t, g.Instances[0].Addr, g.Instances[1].Addr)

	for _, inst := range g.Instances {
		echo := s.get(t, "http://"+inst.Addr+"/", "")
		env := echo.Env
		assert.Equal(t, inst.Addr, env["LISTEN_ADDR"], "the service's port is mapped to the instance's own")
		assert.Equal(t, inst.Addr[strings.LastIndex(inst.Addr, ":")+1:], env["PORT"])
		assert.Equal(t, "hello from the launch template", env["GREETING"], "the service's environment from the user data")
		assert.Equal(t, "from-the-hook", env["FLEET_EXTRA"], "the caller's Env hook")
		assert.Equal(t, s.ns.Region, env["AWS_REGION"])
		assert.Equal(t, inst.Dir, echo.Dir, "the bootstrap runs in the unpacked artifact")
		assert.FileExists(t, filepath.Join(inst.Dir, "bootstrap"))

		// No keys in its environment: as on EC2, the SDK fetches (and refreshes) the instance
		// role's credentials, issued for this instance, from where the environment says.
		assert.Empty(t, env["AWS_ACCESS_KEY_ID"])
		cfg := s.cfg.Copy()
		cfg.Credentials = roles.Fetched(env)
		who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		require.NoError(t, err)
		assert.Contains(t, aws.ToString(who.Arn), ":assumed-role/"+s.role+"/"+inst.ID)
	}
}

func TestListenerRoutesToHealthyTargetsOnly(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true})
	s.waitHealthy(t)
	g := s.group(t)
	a, b := g.Instances[0], g.Instances[1]
	url := "http://" + s.listener(t, 80) + "/v1/media?x=1"

	// Round-robin over the two healthy instances, with the ALB's headers.
	seen := s.spread(t, url, 10)
	assert.Equal(t, map[string]int{a.Addr: 5, b.Addr: 5}, seen)
	echo := s.get(t, url, s.dns)
	assert.Equal(t, s.dns, echo.Host, "the client's Host goes through")
	assert.Equal(t, "/v1/media?x=1", echo.URI)
	assert.Equal(t, "203.0.113.7, 127.0.0.1", echo.Headers.Get("X-Forwarded-For"))
	assert.Equal(t, "http", echo.Headers.Get("X-Forwarded-Proto"))
	assert.Equal(t, "80", echo.Headers.Get("X-Forwarded-Port"))
	assert.Regexp(t, `^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`, echo.Headers.Get("X-Amzn-Trace-Id"))

	// A failing health check takes a out of the rotation after the unhealthy threshold...
	s.setHealth(t, a, "fail")
	s.waitState(t, a.ID, elbtypes.TargetHealthStateEnumUnhealthy)
	assert.Equal(t, map[string]int{b.Addr: 6}, s.spread(t, url, 6))
	// ...and passing ones bring it back after the healthy threshold.
	s.setHealth(t, a, "ok")
	s.waitState(t, a.ID, elbtypes.TargetHealthStateEnumHealthy)
	assert.Equal(t, map[string]int{a.Addr: 3, b.Addr: 3}, s.spread(t, url, 6))

	// With every target unhealthy the ALB fails open, to all of them.
	s.setHealth(t, a, "fail")
	s.setHealth(t, b, "fail")
	s.waitState(t, a.ID, elbtypes.TargetHealthStateEnumUnhealthy)
	s.waitState(t, b.ID, elbtypes.TargetHealthStateEnumUnhealthy)
	assert.Equal(t, map[string]int{a.Addr: 2, b.Addr: 2}, s.spread(t, url, 4))

	// A target group without targets has nothing to route to.
	resp, err := http.Get("http://" + s.listener(t, 82) + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestRedirectListenerAnswersLikeTheALB(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodGet, "http://"+s.listener(t, 81)+"/v1/media/42?full=1", nil)
	require.NoError(t, err)
	req.Host = s.dns + ":81"
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "https://"+s.dns+"/v1/media/42?full=1", resp.Header.Get("Location"), "HTTPS on 443, path and query kept")
}

func TestCrashedInstanceIsReplaced(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true})
	s.waitHealthy(t)
	crashed := s.group(t).Instances[0]

	if resp, err := http.Post("http://"+crashed.Addr+"/crash", "", nil); err == nil { // no answer: it exits
		resp.Body.Close()
	}
	require.Eventually(t, func() bool {
		g := s.group(t)
		return len(g.Instances) == 2 && !slices.Contains(ids(g), crashed.ID)
	}, waitFor, 100*time.Millisecond, "a replacement instance")
	s.waitHealthy(t)
	g := s.group(t)
	assert.NotContains(t, s.apiInstanceIDs(t), crashed.ID, "the crashed instance is terminated in the Auto Scaling group")
	assert.ElementsMatch(t, s.apiInstanceIDs(t), ids(g), "and its replacement is the group's")
	assertGone(t, crashed)
	assert.Len(t, s.spread(t, "http://"+s.listener(t, 80)+"/", 4), 2, "the replacement takes traffic")
}

func TestGroupFollowsDesiredCapacity(t *testing.T) {
	t.Parallel()
	s := deploy(t, emulator.Shared(t), setup{grantRead: true})
	s.waitHealthy(t)
	s.setDesired(t, 3)
	require.Eventually(t, func() bool { return len(s.group(t).Instances) == 3 }, waitFor, 100*time.Millisecond)
	s.waitHealthy(t)
	g := s.group(t)
	require.Len(t, g.Instances, 3)
	assert.ElementsMatch(t, s.apiInstanceIDs(t), ids(g))
	assert.Len(t, s.spread(t, "http://"+s.listener(t, 80)+"/", 6), 3, "traffic reaches the new instance")

	s.setDesired(t, 1)
	require.Eventually(t, func() bool { return len(s.group(t).Instances) == 1 }, waitFor, 100*time.Millisecond)
	kept := s.group(t).Instances[0]
	for _, inst := range g.Instances {
		if inst.ID != kept.ID {
			assertGone(t, inst)
		}
	}
	assert.Equal(t, map[string]int{kept.Addr: 3}, s.spread(t, "http://"+s.listener(t, 80)+"/", 3))
}

// With IAM enforced, the instance role is what reads the artifact: without s3:GetObject the
// launch fails as on AWS, and the fleet retries until the permission is granted.
func TestArtifactIsReadAsTheInstanceRole(t *testing.T) {
	t.Parallel()
	e := emulator.StartT(t, emulator.Options{EnforceIAM: true})
	s := deploy(t, e, setup{trustCaller: true})
	require.Eventually(t, func() bool {
		g := s.group(t)
		return g.LastError != nil && strings.Contains(g.LastError.Error(), "AccessDenied")
	}, waitFor, 100*time.Millisecond, "the launch fails without s3:GetObject")
	assert.Empty(t, s.group(t).Instances)

	s.grantRead(t)
	s.waitHealthy(t)
	assert.Len(t, s.group(t).Instances, 2)
}

// ---------------------------------------------------------------------------------------

// stack is one test's Auto Scaling group behind an ALB, created with the SDK (Terraform on
// moto is slow for ALBs), shaped as modules/asg and modules/alb shape theirs.
type stack struct {
	ns       *emulator.Namespace
	cfg      aws.Config
	fleet    *fleet.Fleet
	name     string // the group's
	role     string
	dns      string
	artifact string // bucket/key
	lbARN    string
	tgARN    string // the target group of port 80
}

const servicePort = 8080

// setup varies the stack: whether the instance role may read the artifact, and whether its
// trust policy also names the caller. moto's AssumeRole under IAM enforcement fails on a
// trust policy with a Service principal only (a TypeError in its principal check), so the
// enforcing test adds the caller to it; the fleet stands in for EC2 either way.
type setup struct {
	grantRead, trustCaller bool
	// metricPeriod and scaleInAfter are the fleet's target tracking settings; zero: its
	// defaults.
	metricPeriod, scaleInAfter time.Duration
}

// drainFor is the target groups' deregistration delay, short to keep the tests short.
const drainFor = 5 * time.Second

func deploy(t *testing.T, e *emulator.Emulator, opts setup) *stack {
	t.Helper()
	ctx := context.Background()
	ns := e.NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	s := &stack{ns: ns, cfg: cfg, name: ns.ID + "-api", role: ns.ID + "-instance"}

	// Network: a VPC with two subnets in two zones, as an ALB needs.
	ec2c := ec2.NewFromConfig(cfg)
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	require.NoError(t, err)
	var subnets []string
	for i, az := range []string{"a", "b"} {
		sn, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId:            vpc.Vpc.VpcId,
			CidrBlock:        aws.String(fmt.Sprintf("10.0.%d.0/24", i+1)),
			AvailabilityZone: aws.String(ns.Region + az),
		})
		require.NoError(t, err)
		subnets = append(subnets, aws.ToString(sn.Subnet.SubnetId))
	}

	// The artifact: a zip holding the test server as bootstrap.
	bucket, key := ns.ID+"-artifacts", "upload-api/bootstrap.zip"
	s.artifact = bucket + "/" + key
	s3c, err := ns.S3Client(ctx)
	require.NoError(t, err)
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	require.NoError(t, err)
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(echoServerZip(t))})
	require.NoError(t, err)

	// The instance role and profile.
	iamc := iam.NewFromConfig(cfg)
	principal := `{"Service":"ec2.amazonaws.com"}`
	if opts.trustCaller {
		who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		require.NoError(t, err)
		principal = `{"Service":"ec2.amazonaws.com","AWS":"` + aws.ToString(who.Arn) + `"}`
	}
	_, err = iamc.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 &s.role,
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}]}`),
	})
	require.NoError(t, err)
	if opts.grantRead {
		s.grantRead(t)
	}
	profile, err := iamc.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: &s.role})
	require.NoError(t, err)
	_, err = iamc.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: &s.role, RoleName: &s.role})
	require.NoError(t, err)

	// The launch template, its user data rendered from modules/asg's template.
	service, err := json.Marshal(fleet.Service{
		Name:        "upload-api",
		Port:        servicePort,
		Artifact:    "s3://" + s.artifact,
		Environment: map[string]string{"LISTEN_ADDR": fmt.Sprintf(":%d", servicePort), "GREETING": "hello from the launch template"},
	})
	require.NoError(t, err)
	tmpl, err := os.ReadFile("../../../modules/asg/templates/user-data.sh.tftpl")
	require.NoError(t, err)
	userData := strings.NewReplacer( // the template's own placeholders; its directives stay as text
		"${service_json}", string(service),
		"${service_name}", "upload-api",
		"${artifact_bucket}", bucket,
		"${artifact_key}", key,
		"${region}", ns.Region,
	).Replace(string(tmpl))
	lt, err := ec2c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: &s.name,
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{
			ImageId:            aws.String("ami-12c6146b"),
			InstanceType:       ec2types.InstanceTypeT3Micro,
			UserData:           aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
			IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: profile.InstanceProfile.Arn},
		},
	})
	require.NoError(t, err)

	// The load balancer: port 80 forwards to the target group, 81 redirects to HTTPS, 82
	// forwards to a target group without targets.
	elbc := elb.NewFromConfig(cfg)
	lb, err := elbc.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(ns.ID + "-alb"), Subnets: subnets, Type: elbtypes.LoadBalancerTypeEnumApplication})
	require.NoError(t, err)
	s.dns = aws.ToString(lb.LoadBalancers[0].DNSName)
	lbARN := lb.LoadBalancers[0].LoadBalancerArn
	targetGroup := func(name string) *string {
		tg, err := elbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
			Name:     aws.String(name),
			VpcId:    vpc.Vpc.VpcId,
			Protocol: elbtypes.ProtocolEnumHttp,
			Port:     aws.Int32(servicePort),
			// Faster than AWS allows (at least 5s), to keep the tests short.
			HealthCheckPath:            aws.String("/healthz"),
			Matcher:                    &elbtypes.Matcher{HttpCode: aws.String("200-299")},
			HealthCheckIntervalSeconds: aws.Int32(2),
			HealthCheckTimeoutSeconds:  aws.Int32(1),
			HealthyThresholdCount:      aws.Int32(2),
			UnhealthyThresholdCount:    aws.Int32(2),
		})
		require.NoError(t, err)
		_, err = elbc.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{
			TargetGroupArn: tg.TargetGroups[0].TargetGroupArn,
			Attributes:     []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(fmt.Sprint(drainFor.Seconds()))}},
		})
		require.NoError(t, err)
		return tg.TargetGroups[0].TargetGroupArn
	}
	tgARN, emptyARN := targetGroup(ns.ID+"-tg"), targetGroup(ns.ID+"-empty")
	s.tgARN, s.lbARN = aws.ToString(tgARN), aws.ToString(lbARN)
	listeners := map[int32]elbtypes.Action{
		80: {Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN},
		81: {Type: elbtypes.ActionTypeEnumRedirect, RedirectConfig: &elbtypes.RedirectActionConfig{
			Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301,
		}},
		82: {Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: emptyARN},
	}
	for port, a := range listeners {
		_, err := elbc.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Port: aws.Int32(port), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{a}})
		require.NoError(t, err)
	}

	_, err = autoscaling.NewFromConfig(cfg).CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: &s.name,
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("$Latest")},
		MinSize:              aws.Int32(0),
		MaxSize:              aws.Int32(5),
		DesiredCapacity:      aws.Int32(2),
		VPCZoneIdentifier:    aws.String(strings.Join(subnets, ",")),
		TargetGroupARNs:      []string{aws.ToString(tgARN)},
		HealthCheckType:      aws.String("ELB"),
	})
	require.NoError(t, err)

	f, err := fleet.Start(ctx, cfg, fleet.Options{
		Include: func(name string) bool { return strings.HasPrefix(name, ns.ID+"-") },
		Env: func(group string, svc fleet.Service) []string {
			return []string{"FLEET_EXTRA=from-the-hook", "AWS_ENDPOINT_URL=" + ns.Endpoint, "AWS_CA_BUNDLE=" + ns.CABundle}
		},
		PollInterval: 200 * time.Millisecond,
		MetricPeriod: opts.metricPeriod,
		ScaleInAfter: opts.scaleInAfter,
		Logf:         t.Logf,
	})
	require.NoError(t, err)
	s.fleet = f
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop stops the fleet and proves that nothing it ran is left: no process, no unpacked
// artifact, no listener.
func (s *stack) stop(t *testing.T) {
	groups := s.fleet.Groups()
	lbs := s.fleet.LoadBalancers()
	s.fleet.Stop()
	for _, g := range groups {
		for _, inst := range append(g.Instances, g.Draining...) {
			assertGone(t, inst)
		}
	}
	for _, lb := range lbs {
		for port, addr := range lb.Listeners {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
			}
			assert.Error(t, err, "listener %d is closed", port)
		}
	}
}

func assertGone(t *testing.T, inst fleet.Instance) {
	t.Helper()
	assert.Eventually(t, func() bool { return syscall.Kill(inst.PID, 0) != nil }, 10*time.Second, 50*time.Millisecond, "process of %s", inst.ID)
	assert.Eventually(t, func() bool { _, err := os.Stat(inst.Dir); return os.IsNotExist(err) }, 10*time.Second, 50*time.Millisecond, "install dir of %s", inst.ID)
}

func (s *stack) grantRead(t *testing.T) {
	t.Helper()
	_, err := iam.NewFromConfig(s.cfg).PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{
		RoleName:       &s.role,
		PolicyName:     aws.String("service"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"ReadServiceArtifact","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + s.artifact + `"}]}`),
	})
	require.NoError(t, err)
}

func (s *stack) waitHealthy(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, s.fleet.WaitHealthy(ctx))
}

func (s *stack) group(t *testing.T) fleet.Group {
	t.Helper()
	g, ok := s.fleet.Groups()[s.name]
	require.True(t, ok, "the fleet serves %s", s.name)
	return g
}

func (s *stack) listener(t *testing.T, port int32) string {
	t.Helper()
	addr, ok := s.fleet.Addr(s.dns, port)
	require.True(t, ok, "a listener for %s:%d", s.dns, port)
	return addr
}

func (s *stack) apiInstanceIDs(t *testing.T) []string {
	t.Helper()
	out, err := autoscaling.NewFromConfig(s.cfg).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{s.name}})
	require.NoError(t, err)
	require.Len(t, out.AutoScalingGroups, 1)
	var ids []string
	for _, i := range out.AutoScalingGroups[0].Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

func (s *stack) setDesired(t *testing.T, n int32) {
	t.Helper()
	_, err := autoscaling.NewFromConfig(s.cfg).SetDesiredCapacity(context.Background(), &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: &s.name, DesiredCapacity: &n})
	require.NoError(t, err)
}

func (s *stack) setHealth(t *testing.T, inst fleet.Instance, status string) {
	t.Helper()
	resp, err := http.Post("http://"+inst.Addr+"/healthz?status="+status, "", nil)
	require.NoError(t, err)
	resp.Body.Close()
}

func (s *stack) waitState(t *testing.T, id string, want elbtypes.TargetHealthStateEnum) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, inst := range s.group(t).Instances {
			if inst.ID == id {
				for _, state := range inst.Health {
					return state == want
				}
			}
		}
		return false
	}, waitFor, 50*time.Millisecond, "%s becomes %s", id, want)
}

// echo is what the test server answers.
type echo struct {
	Listen  string            `json:"listen"`
	Env     map[string]string `json:"env"`
	Dir     string            `json:"dir"`
	Host    string            `json:"host"`
	URI     string            `json:"uri"`
	Headers http.Header       `json:"headers"`
}

// get requests url (with Host host when given, as a client of the ALB's name would) and
// decodes the test server's answer.
func (s *stack) get(t *testing.T, url, host string) echo {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var e echo
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	return e
}

// spread sends n requests through url and counts them by the instance that answered.
func (s *stack) spread(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		seen[s.get(t, url, s.dns).Listen]++
	}
	return seen
}

func ids(g fleet.Group) []string {
	var out []string
	for _, i := range g.Instances {
		out = append(out, i.ID)
	}
	return out
}

var (
	echoOnce sync.Once
	echoZip  []byte
	echoErr  error
)

// echoServerZip builds testdata/echoserver once per test binary and zips it as the
// artifact's bootstrap.
func echoServerZip(t *testing.T) []byte {
	t.Helper()
	echoOnce.Do(func() {
		dir, remove, err := procs.MkdirTemp("fleet-echoserver-*")
		if err != nil {
			echoErr = err
			return
		}
		defer func() { _ = remove() }()
		bin := filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./testdata/echoserver")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			echoErr = fmt.Errorf("build the test server: %v\n%s", err, out)
			return
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			echoErr = err
			return
		}
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err == nil {
			_, err = w.Write(data)
		}
		if err == nil {
			err = zw.Close()
		}
		echoZip, echoErr = buf.Bytes(), err
	})
	require.NoError(t, echoErr)
	return echoZip
}
