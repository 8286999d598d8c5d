// Package fleet is the local cloud's data plane for Auto Scaling groups behind Application
// Load Balancers. moto only records groups, load balancers and target groups; a Fleet reads
// them from the emulator's APIs and makes them real on loopback:
//
//   - each Auto Scaling group runs DesiredCapacity processes of the `bootstrap` that its
//     launch template's user data installs (the `# mediastack-service:` line modules/asg
//     writes), downloaded from S3 with credentials of the instance profile's role, assumed
//     through STS, and run with the service's environment, the role's credentials served
//     the way SDKs refresh them (see package roles);
//   - instances follow the group: they scale out and in with DesiredCapacity, and one whose
//     process exits leaves the rotation at once and is terminated through the Auto Scaling
//     API, which launches the replacement that the fleet then starts;
//   - a group with a queue-backlog target tracking policy (a worker fleet) is scaled on its
//     queue's backlog per instance, from zero (see scaler.go); one with a policy on
//     requests per target or average CPU (a service fleet) on what its load balancer and
//     instances measure (see tracking.go);
//   - a scale-in drains: the instance leaves the rotation at once, and stops when its
//     requests in flight have finished or its target group's deregistration delay has
//     passed, as Auto Scaling and the ALB do;
//   - each ALB listener is an HTTP listener on loopback that forwards round-robin to the
//     targets its target group's health check finds healthy, or answers a redirect or fixed
//     response as the ALB would;
//   - a WAFv2 web ACL associated with a load balancer is enforced on its listeners, for the
//     rules on the client's country (see waf.go), the client placed by Options.ClientCountry.
//
// Ports: all instances share one host, so each listens on a free loopback port of its own,
// given to it as LISTEN_ADDR (127.0.0.1:port) and PORT. The service's port in the user data
// (what the target group and its "traffic-port" health check expect) maps to that port:
// the listeners and health checks use it. A service must therefore take its address from
// LISTEN_ADDR or PORT, as the upload API does.
//
// Not modelled: listener rules other than the default action, TLS on HTTPS listeners (they
// are served as plain HTTP, with X-Forwarded-Proto https), sticky sessions, slow start, and
// replacing instances that fail the ELB health check (such a target only leaves the
// rotation, and returns when it passes again).
package fleet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Options configure a Fleet. The zero value serves every group and load balancer the
// configuration's account and region has.
type Options struct {
	// Include selects the Auto Scaling groups and load balancers to serve, by name; nil
	// selects all. With moto's IAM enforcement, namespaces share one account and are told
	// apart by the ID their names carry.
	Include func(name string) bool
	// Env returns environment variables added last to every instance of a group, e.g.
	// AWS_ENDPOINT_URL, AWS_CA_BUNDLE, a proxy and host name rewrites.
	Env func(group string, svc Service) []string
	// ListenAddress chooses where an ALB listener listens; nil: a free port on 127.0.0.1.
	ListenAddress func(dnsName string, port int32) string
	// ClientCountry places a request's client in a country (ISO 3166 alpha-2), for the geo
	// rules of the web ACLs associated with the load balancers; nil: "" (unknown) for all.
	ClientCountry func(*http.Request) string
	// PollInterval is how often the APIs are read for changes; 1s when zero.
	PollInterval time.Duration
	// ScaleInAfter is how long a worker fleet's queue must be idle, or a service fleet's
	// metric below its target, before its group scales in (see scaler.go and tracking.go);
	// a minute when zero.
	ScaleInAfter time.Duration
	// MetricPeriod is the length of a target tracking policy's datapoints (see
	// tracking.go); 10s when zero.
	MetricPeriod time.Duration
	// Logf receives launches, exits and health changes; nil discards them.
	Logf func(format string, args ...any)
}

// Fleet runs the groups and listeners; Stop ends it.
type Fleet struct {
	cfg  aws.Config
	opts Options
	ec2  *ec2.Client
	asg  *autoscaling.Client
	elb  *elb.Client
	iam  *iam.Client
	waf  *wafv2.Client
	sqs  *sqs.Client
	// metadata serves each instance its role's credentials, as EC2's metadata service does.
	metadata *roles.Endpoint

	ctx      context.Context // the fleet's lifetime
	cancel   context.CancelFunc
	exited   chan *instance // instances whose process ended
	loopDone chan struct{}
	localIDs atomic.Uint64
	wg       sync.WaitGroup // exit watchers and instance stops

	mu        sync.Mutex
	groups    map[string]*group                // by ASG name
	tgs       map[string]*targetGroup          // by ARN
	listeners map[string]*listener             // by listener ARN
	lbs       map[string]elbtypes.LoadBalancer // by ARN
	warned    map[string]bool                  // web ACL rules said to be left out
	busySince map[string]time.Time             // by ASG name: when its policy's queue last had work
	delays    map[string]delayReading          // by target group ARN
	trackers  map[string]*tracker              // by ASG name: its target tracking policy's datapoints
	draining  map[string]*instance             // by instance id: scaled in, not yet stopped
}

type group struct {
	name      string
	desired   int
	tgARNs    []string
	instances map[string]*instance // by instance id
	lastErr   error
}

// Start reads the groups and load balancers, opens the listeners and starts the first
// instances; it then follows changes every PollInterval until Stop. ctx bounds this first
// pass only. An instance that cannot launch (e.g. the role may not read the artifact) does
// not fail Start: the group reports it in LastError and the launch is retried each poll.
func Start(ctx context.Context, cfg aws.Config, opts Options) (*Fleet, error) {
	if opts.Include == nil {
		opts.Include = func(string) bool { return true }
	}
	if opts.ListenAddress == nil {
		opts.ListenAddress = func(string, int32) string { return "127.0.0.1:0" }
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.ScaleInAfter <= 0 {
		opts.ScaleInAfter = time.Minute
	}
	if opts.MetricPeriod <= 0 {
		opts.MetricPeriod = 10 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.ClientCountry == nil {
		opts.ClientCountry = func(*http.Request) string { return "" }
	}
	metadata, err := roles.StartEndpoint()
	if err != nil {
		return nil, err
	}
	f := &Fleet{
		cfg:       cfg,
		metadata:  metadata,
		opts:      opts,
		ec2:       ec2.NewFromConfig(cfg),
		asg:       autoscaling.NewFromConfig(cfg),
		elb:       elb.NewFromConfig(cfg),
		iam:       iam.NewFromConfig(cfg),
		waf:       wafv2.NewFromConfig(cfg),
		sqs:       sqs.NewFromConfig(cfg),
		warned:    map[string]bool{},
		busySince: map[string]time.Time{},
		delays:    map[string]delayReading{},
		trackers:  map[string]*tracker{},
		draining:  map[string]*instance{},
		exited:    make(chan *instance, 64),
		loopDone:  make(chan struct{}),
		groups:    map[string]*group{},
		tgs:       map[string]*targetGroup{},
		listeners: map[string]*listener{},
		lbs:       map[string]elbtypes.LoadBalancer{},
	}
	f.ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	firstCtx, stopFirst := context.WithCancel(f.ctx)
	stopOnCtx := context.AfterFunc(ctx, stopFirst)
	err = f.reconcile(firstCtx)
	stopOnCtx()
	stopFirst()
	if err != nil {
		close(f.loopDone)
		f.Stop()
		return nil, err
	}
	go func() {
		defer close(f.loopDone)
		f.loop()
	}()
	return f, nil
}

func (f *Fleet) loop() {
	ticker := time.NewTicker(f.opts.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case inst := <-f.exited:
			f.replace(inst)
		case <-ticker.C:
		}
		if err := f.reconcile(f.ctx); err != nil && f.ctx.Err() == nil {
			f.opts.Logf("fleet: %v", err)
		}
	}
}

// reconcile brings the local groups, target groups and listeners in line with the APIs.
func (f *Fleet) reconcile(ctx context.Context) error {
	groups, err := f.describeGroups(ctx)
	if err != nil {
		return err
	}
	if err := f.scale(ctx, groups); err != nil {
		f.opts.Logf("fleet: %v", err) // the groups keep their size meanwhile
	}
	lbs, listeners, err := f.describeListeners(ctx)
	if err != nil {
		return err
	}
	tgs, err := f.describeTargetGroups(ctx)
	if err != nil {
		return err
	}
	delays, err := f.describeDeregistrationDelays(ctx, tgs)
	if err != nil {
		return err
	}
	acls, err := f.describeWebACLs(ctx, lbs)
	if err != nil {
		return err
	}
	// Everything is read before anything changes, so that a failed read changes nothing.
	f.syncTargetGroups(tgs, delays)
	for _, g := range groups {
		f.syncGroup(ctx, g)
	}
	f.dropGroups(groups)
	f.syncListeners(lbs, listeners, acls)
	return nil
}

// describeWebACLs reads the web ACL associated with each load balancer, by its ARN.
func (f *Fleet) describeWebACLs(ctx context.Context, lbs map[string]elbtypes.LoadBalancer) (map[string]*webACL, error) {
	acls := map[string]*webACL{}
	for arn := range lbs {
		acl, err := webACLFor(ctx, f.waf, arn, func(acl, rule string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if key := acl + "/" + rule; !f.warned[key] {
				f.warned[key] = true
				f.opts.Logf("fleet: web ACL %s: rule %s is not evaluated locally (only geo match, not, and, or): it never matches here", acl, rule)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("web ACL of %s: %w", arn, err)
		}
		acls[arn] = acl
	}
	return acls, nil
}

func (f *Fleet) describeGroups(ctx context.Context) ([]astypes.AutoScalingGroup, error) {
	var out []astypes.AutoScalingGroup
	pages := autoscaling.NewDescribeAutoScalingGroupsPaginator(f.asg, &autoscaling.DescribeAutoScalingGroupsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe auto scaling groups: %w", err)
		}
		for _, g := range page.AutoScalingGroups {
			if f.opts.Include(aws.ToString(g.AutoScalingGroupName)) {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

func (f *Fleet) describeListeners(ctx context.Context) (map[string]elbtypes.LoadBalancer, []elbtypes.Listener, error) {
	lbs := map[string]elbtypes.LoadBalancer{}
	pages := elb.NewDescribeLoadBalancersPaginator(f.elb, &elb.DescribeLoadBalancersInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("describe load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancers {
			if lb.Type == elbtypes.LoadBalancerTypeEnumApplication && f.opts.Include(aws.ToString(lb.LoadBalancerName)) {
				lbs[aws.ToString(lb.LoadBalancerArn)] = lb
			}
		}
	}
	var listeners []elbtypes.Listener
	for lbARN := range lbs {
		pages := elb.NewDescribeListenersPaginator(f.elb, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("describe listeners of %s: %w", lbARN, err)
			}
			listeners = append(listeners, page.Listeners...)
		}
	}
	return lbs, listeners, nil
}

func (f *Fleet) describeTargetGroups(ctx context.Context) ([]elbtypes.TargetGroup, error) {
	var out []elbtypes.TargetGroup
	pages := elb.NewDescribeTargetGroupsPaginator(f.elb, &elb.DescribeTargetGroupsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe target groups: %w", err)
		}
		out = append(out, page.TargetGroups...)
	}
	return out, nil
}

// delaysReadEvery is how often a target group's deregistration delay is read again: it is
// read at every reconcile of a new group, then seldom, as it seldom changes.
const delaysReadEvery = 30 * time.Second

type delayReading struct {
	delay time.Duration
	at    time.Time
}

// describeDeregistrationDelays reads each target group's deregistration_delay.timeout_seconds
// (300 s, the ALB's default, when unset).
func (f *Fleet) describeDeregistrationDelays(ctx context.Context, tgs []elbtypes.TargetGroup) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, tg := range tgs {
		arn := aws.ToString(tg.TargetGroupArn)
		f.mu.Lock()
		r, ok := f.delays[arn]
		f.mu.Unlock()
		if !ok || time.Since(r.at) > delaysReadEvery {
			attrs, err := f.elb.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: &arn})
			if err != nil {
				return nil, fmt.Errorf("attributes of target group %s: %w", aws.ToString(tg.TargetGroupName), err)
			}
			r = delayReading{delay: 300 * time.Second, at: time.Now()}
			for _, a := range attrs.Attributes {
				if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
					if n, err := strconv.Atoi(aws.ToString(a.Value)); err == nil && n >= 0 {
						r.delay = time.Duration(n) * time.Second
					}
				}
			}
			f.mu.Lock()
			f.delays[arn] = r
			f.mu.Unlock()
		}
		out[arn] = r.delay
	}
	return out, nil
}

// syncTargetGroups keeps every target group's health check and deregistration delay
// current. A target group that is gone deregisters its targets.
func (f *Fleet) syncTargetGroups(described []elbtypes.TargetGroup, delays map[string]time.Duration) {
	seen := map[string]bool{}
	for _, d := range described {
		arn := aws.ToString(d.TargetGroupArn)
		hc, err := healthCheckOf(d)
		if err != nil {
			f.opts.Logf("fleet: %v", err)
			continue
		}
		seen[arn] = true
		f.mu.Lock()
		tg, ok := f.tgs[arn]
		if !ok {
			tg = &targetGroup{arn: arn, name: aws.ToString(d.TargetGroupName), targets: map[string]*target{}}
			f.tgs[arn] = tg
		}
		f.mu.Unlock()
		tg.mu.Lock()
		tg.hc = hc
		tg.delay = delays[arn]
		tg.mu.Unlock()
	}
	f.mu.Lock()
	var gone []*targetGroup
	for arn, tg := range f.tgs {
		if !seen[arn] {
			gone = append(gone, tg)
			delete(f.tgs, arn)
			delete(f.delays, arn)
		}
	}
	f.mu.Unlock()
	for _, tg := range gone {
		tg.deregisterAll()
	}
}

// syncGroup runs the instances the group wants. The instance ids are the ones the Auto
// Scaling API reports (moto launches its own records), so that a terminated instance and
// its replacement are the API's; should it report fewer than DesiredCapacity, local ids
// make up the difference.
func (f *Fleet) syncGroup(ctx context.Context, d astypes.AutoScalingGroup) {
	name := aws.ToString(d.AutoScalingGroupName)
	f.mu.Lock()
	g, ok := f.groups[name]
	if !ok {
		g = &group{name: name, instances: map[string]*instance{}}
		f.groups[name] = g
	}
	g.desired = int(aws.ToInt32(d.DesiredCapacity))
	g.tgARNs = slices.Clone(d.TargetGroupARNs)
	wanted := wantedIDs(d, g, f.newLocalID)
	var stale []*instance
	for id, inst := range g.instances {
		if !slices.Contains(wanted, id) {
			stale = append(stale, inst)
			delete(g.instances, id)
		}
	}
	var missing []string
	for _, id := range wanted {
		if _, ok := g.instances[id]; !ok {
			missing = append(missing, id)
		}
	}
	running := slices.Collect(maps.Values(g.instances))
	f.mu.Unlock()

	for _, inst := range stale {
		f.opts.Logf("fleet: %s: scale in, draining and stopping %s", name, inst.id)
		f.retire(inst, true)
	}
	// Target group membership follows the group's list, which may change after launch.
	for _, inst := range running {
		f.register(inst, g.tgARNs)
	}
	if len(missing) == 0 {
		f.setErr(g, nil)
		return
	}
	lc, err := f.launchConfigOf(ctx, d)
	if err != nil {
		f.setErr(g, fmt.Errorf("group %s: %w", name, err))
		return
	}
	for _, id := range missing {
		inst, err := f.launch(ctx, name, id, lc)
		if err != nil {
			f.setErr(g, fmt.Errorf("group %s: launch %s: %w", name, id, err))
			return
		}
		f.opts.Logf("fleet: %s: launched %s on %s (service %s, port %d)", name, id, inst.addr, lc.service.Name, lc.service.Port)
		f.mu.Lock()
		g.instances[id] = inst
		f.mu.Unlock()
		f.register(inst, g.tgARNs)
		f.wg.Go(func() {
			select {
			case <-inst.proc.Done():
				// Out of the rotation at once, so that only the requests in flight on it
				// fail. On AWS the target stays in until its health check has failed
				// UnhealthyThresholdCount times; the local fleet sees the exit itself.
				f.leaveTargetGroups(inst, false)
				select {
				case f.exited <- inst:
				case <-f.ctx.Done():
				}
			case <-f.ctx.Done():
			}
		})
	}
	f.setErr(g, nil)
}

// wantedIDs are the ids of the instances the group should run: the API's in-service and
// pending instances, up to DesiredCapacity, then local ids already running, then new ones.
func wantedIDs(d astypes.AutoScalingGroup, g *group, newID func() string) []string {
	desired := int(aws.ToInt32(d.DesiredCapacity))
	var ids []string
	for _, i := range d.Instances {
		if len(ids) == desired {
			return ids
		}
		state := string(i.LifecycleState)
		if state == string(astypes.LifecycleStateInService) || strings.HasPrefix(state, "Pending") {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	local := slices.Sorted(maps.Keys(g.instances))
	for _, id := range local {
		if len(ids) < desired && strings.HasPrefix(id, localPrefix) {
			ids = append(ids, id)
		}
	}
	for len(ids) < desired {
		ids = append(ids, newID())
	}
	return ids
}

// localPrefix marks instance ids that the Auto Scaling API does not know.
const localPrefix = "i-local"

func (f *Fleet) newLocalID() string {
	return fmt.Sprintf("%s%09x", localPrefix, f.localIDs.Add(1))
}

// setErr records the group's launch error, logging it when it changes: a launch that keeps
// failing is retried every poll.
func (f *Fleet) setErr(g *group, err error) {
	f.mu.Lock()
	changed := err != nil && (g.lastErr == nil || g.lastErr.Error() != err.Error())
	g.lastErr = err
	f.mu.Unlock()
	if changed && f.ctx.Err() == nil {
		f.opts.Logf("fleet: %v", err)
	}
}

// register makes inst a target of the given target groups and of no others.
func (f *Fleet) register(inst *instance, arns []string) {
	f.mu.Lock()
	var add, remove []*targetGroup
	for arn, tg := range f.tgs {
		if slices.Contains(arns, arn) {
			add = append(add, tg)
		} else {
			remove = append(remove, tg)
		}
	}
	f.mu.Unlock()
	for _, tg := range add {
		tg.register(f.ctx, inst, f.opts.Logf)
	}
	for _, tg := range remove {
		f.wg.Go(func() { tg.deregister(f.ctx, inst.id, true) })
	}
}

// leaveTargetGroups deregisters an instance from every target group, all at once; with
// drain, each waits for its requests in flight (see targetGroup.deregister).
func (f *Fleet) leaveTargetGroups(inst *instance, drain bool) {
	f.mu.Lock()
	tgs := slices.Collect(maps.Values(f.tgs))
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, tg := range tgs {
		wg.Go(func() { tg.deregister(f.ctx, inst.id, drain) })
	}
	wg.Wait()
}

// retire stops an instance in the background. With drain, as an Auto Scaling group does
// for a scale-in (AWS: it "waits for the deregistration delay to complete before
// terminating the instance"), it is first deregistered from its target groups and drained;
// otherwise it leaves them at once. A scale-in then gives the service its unit's stop timeout
// to finish the work in hand, as systemd does when EC2 shuts the instance down; other
// retirements (a replaced or failed instance, the fleet stopping) give it procs.StopTimeout,
// and the fleet stopping cuts every grace short.
func (f *Fleet) retire(inst *instance, drain bool) {
	stopTimeout := procs.StopTimeout
	if drain {
		stopTimeout = inst.stopTimeout
		f.mu.Lock()
		f.draining[inst.id] = inst
		f.mu.Unlock()
	}
	f.wg.Go(func() {
		defer func() {
			f.mu.Lock()
			delete(f.draining, inst.id)
			f.mu.Unlock()
		}()
		f.leaveTargetGroups(inst, drain)
		inst.revoke()
		if err := errors.Join(inst.proc.StopWithin(f.ctx, stopTimeout), inst.removeDir()); err != nil {
			f.opts.Logf("fleet: stop %s: %v", inst.id, err)
		}
	})
}

// replace handles an instance whose process ended: as the Auto Scaling group would for an
// impaired instance, it is terminated without lowering the desired capacity, so that the
// group launches a replacement that the next reconcile starts.
func (f *Fleet) replace(inst *instance) {
	f.mu.Lock()
	g := f.groups[inst.group]
	current := g != nil && g.instances[inst.id] == inst
	if current {
		delete(g.instances, inst.id)
	}
	f.mu.Unlock()
	if !current {
		return // stopped on purpose
	}
	f.opts.Logf("fleet: %s: instance %s exited (%v); last output:\n%s", inst.group, inst.id, inst.proc.ExitErr(), inst.proc.Tail(20))
	f.retire(inst, false) // nothing left to drain
	if strings.HasPrefix(inst.id, localPrefix) {
		return
	}
	_, err := f.asg.TerminateInstanceInAutoScalingGroup(f.ctx, &autoscaling.TerminateInstanceInAutoScalingGroupInput{
		InstanceId:                     aws.String(inst.id),
		ShouldDecrementDesiredCapacity: aws.Bool(false),
	})
	if err != nil && f.ctx.Err() == nil {
		// The next reconcile starts the same id again, as a reboot would.
		f.opts.Logf("fleet: %s: terminate %s: %v", inst.group, inst.id, err)
	}
}

// dropGroups stops the instances of groups that are gone.
func (f *Fleet) dropGroups(described []astypes.AutoScalingGroup) {
	f.mu.Lock()
	var stale []*instance
	for name, g := range f.groups {
		if !slices.ContainsFunc(described, func(d astypes.AutoScalingGroup) bool { return aws.ToString(d.AutoScalingGroupName) == name }) {
			stale = slices.AppendSeq(stale, maps.Values(g.instances))
			delete(f.groups, name)
		}
	}
	f.mu.Unlock()
	for _, inst := range stale {
		f.retire(inst, false)
	}
}

// syncListeners opens a local listener for each new ALB listener, updates the actions of
// the others and closes those that are gone.
func (f *Fleet) syncListeners(lbs map[string]elbtypes.LoadBalancer, described []elbtypes.Listener, acls map[string]*webACL) {
	seen := map[string]bool{}
	for _, d := range described {
		arn := aws.ToString(d.ListenerArn)
		a, err := actionOf(d)
		if err != nil {
			f.opts.Logf("fleet: %v", err)
			continue
		}
		f.mu.Lock()
		l, ok := f.listeners[arn]
		f.mu.Unlock()
		if !ok {
			lb := lbs[aws.ToString(d.LoadBalancerArn)]
			l, err = startListener(f.opts.ListenAddress(aws.ToString(lb.DNSName), aws.ToInt32(d.Port)), d, lb, f.targetGroup, f.opts.ClientCountry)
			if err != nil {
				f.opts.Logf("fleet: %v", err)
				continue
			}
			f.opts.Logf("fleet: listener %s:%d (%s) on %s", l.dnsName, l.port, a.kind, l.addr())
			f.mu.Lock()
			f.listeners[arn] = l
			f.mu.Unlock()
		}
		l.action.Store(&a)
		l.waf.Store(acls[aws.ToString(d.LoadBalancerArn)])
		seen[arn] = true
	}
	f.mu.Lock()
	f.lbs = lbs
	var gone []*listener
	for arn, l := range f.listeners {
		if !seen[arn] {
			gone = append(gone, l)
			delete(f.listeners, arn)
		}
	}
	f.mu.Unlock()
	for _, l := range gone {
		l.close()
	}
}

func (f *Fleet) targetGroup(arn string) *targetGroup {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tgs[arn]
}

// Stop closes the listeners, stops every instance and removes what they installed. The
// emulator's records are left as they are.
func (f *Fleet) Stop() {
	f.cancel()
	<-f.loopDone // no launch after this
	f.mu.Lock()
	listeners := slices.Collect(maps.Values(f.listeners))
	var instances []*instance
	for _, g := range f.groups {
		instances = slices.AppendSeq(instances, maps.Values(g.instances))
	}
	tgs := slices.Collect(maps.Values(f.tgs))
	f.listeners, f.groups = map[string]*listener{}, map[string]*group{}
	f.mu.Unlock()
	for _, l := range listeners {
		l.close()
	}
	for _, tg := range tgs {
		tg.deregisterAll()
	}
	for _, inst := range instances {
		f.retire(inst, false)
	}
	f.wg.Wait()
	if err := f.metadata.Close(); err != nil {
		f.opts.Logf("fleet: credentials endpoint: %v", err)
	}
}

// LoadBalancer is a served ALB: its listeners' local addresses by the ALB's port.
type LoadBalancer struct {
	Name      string
	ARN       string
	DNSName   string
	Listeners map[int32]string // ALB listener port -> local host:port
}

// LoadBalancers returns the served ALBs by DNS name, which is how clients name them.
func (f *Fleet) LoadBalancers() map[string]LoadBalancer {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]LoadBalancer{}
	for arn, lb := range f.lbs {
		out[aws.ToString(lb.DNSName)] = LoadBalancer{Name: aws.ToString(lb.LoadBalancerName), ARN: arn, DNSName: aws.ToString(lb.DNSName), Listeners: map[int32]string{}}
	}
	for _, l := range f.listeners {
		if lb, ok := out[l.dnsName]; ok {
			lb.Listeners[l.port] = l.addr()
		}
	}
	return out
}

// Addr is the local address of the listener on port of the ALB named dnsName.
func (f *Fleet) Addr(dnsName string, port int32) (string, bool) {
	addr, ok := f.LoadBalancers()[dnsName].Listeners[port]
	return addr, ok
}

// Group is the state of a served Auto Scaling group.
type Group struct {
	Name            string
	DesiredCapacity int
	Instances       []Instance // sorted by ID
	// Draining are the instances a scale-in removed that still finish their requests
	// before they stop, sorted by ID; their Health is draining.
	Draining []Instance
	// LastError is why the last launch failed, nil once one succeeds.
	LastError error
}

// Instance is a running instance of a group.
type Instance struct {
	ID   string
	Addr string // 127.0.0.1:port
	PID  int
	Dir  string // the unpacked artifact, the process's working directory
	Log  string // the process's stdout and stderr, removed with the instance
	// Health is the instance's state in each of the group's target groups, by ARN.
	Health map[string]elbtypes.TargetHealthStateEnum
}

// Groups returns the served Auto Scaling groups by name.
func (f *Fleet) Groups() map[string]Group {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]Group{}
	for name, g := range f.groups {
		og := Group{Name: name, DesiredCapacity: g.desired, LastError: g.lastErr}
		for _, inst := range g.instances {
			og.Instances = append(og.Instances, f.describeInstance(inst, g.tgARNs))
		}
		for _, inst := range f.draining {
			if inst.group == name {
				og.Draining = append(og.Draining, f.describeInstance(inst, g.tgARNs))
			}
		}
		byID := func(a, b Instance) int { return strings.Compare(a.ID, b.ID) }
		slices.SortFunc(og.Instances, byID)
		slices.SortFunc(og.Draining, byID)
		out[name] = og
	}
	return out
}

// describeInstance reports inst with its state in the target groups; f.mu is held.
func (f *Fleet) describeInstance(inst *instance, tgARNs []string) Instance {
	i := Instance{ID: inst.id, Addr: inst.addr, PID: inst.proc.PID(), Dir: inst.dir, Log: inst.proc.LogPath(), Health: map[string]elbtypes.TargetHealthStateEnum{}}
	for _, arn := range tgARNs {
		state := elbtypes.TargetHealthStateEnumUnused
		if tg := f.tgs[arn]; tg != nil {
			tg.mu.Lock()
			if t := tg.targets[inst.id]; t != nil {
				state = t.stateLocked()
			}
			tg.mu.Unlock()
		}
		i.Health[arn] = state
	}
	return i
}

// WaitHealthy waits until every served group runs its desired capacity and every instance
// is healthy in all of its target groups. When ctx ends first, the error says what is
// missing, with the groups' launch errors.
func (f *Fleet) WaitHealthy(ctx context.Context) error {
	for {
		var missing []string
		for _, g := range f.Groups() {
			if len(g.Instances) != g.DesiredCapacity {
				missing = append(missing, fmt.Sprintf("%s runs %d of %d instances (last error: %v)", g.Name, len(g.Instances), g.DesiredCapacity, g.LastError))
			}
			for _, i := range g.Instances {
				for arn, state := range i.Health {
					if state != elbtypes.TargetHealthStateEnumHealthy {
						missing = append(missing, fmt.Sprintf("%s/%s is %s in %s", g.Name, i.ID, state, arn))
					}
				}
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			slices.Sort(missing)
			return fmt.Errorf("fleet not healthy: %w: %s", ctx.Err(), strings.Join(missing, "; "))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// HasHealthyTargets is Route 53's target health of the ALB named dnsName, for alias records
// that evaluate it (AWS: "an alias record for an ELB load balancer is healthy when its
// target groups have healthy targets"): true when every target group its listeners forward
// to has at least one healthy target. known is false for a name this fleet does not serve.
func (f *Fleet) HasHealthyTargets(dnsName string) (healthy, known bool) {
	f.mu.Lock()
	var groups []*targetGroup
	// Route 53 keeps an ALB alias target as dualstack.<name>, in any case.
	dnsName = strings.TrimPrefix(strings.ToLower(dnsName), "dualstack.")
	for _, l := range f.listeners {
		if !strings.EqualFold(l.dnsName, dnsName) {
			continue
		}
		known = true
		if a := l.action.Load(); a != nil && a.kind == elbtypes.ActionTypeEnumForward {
			for _, w := range a.forward {
				if tg := f.tgs[w.arn]; tg != nil {
					groups = append(groups, tg)
				}
			}
		}
	}
	f.mu.Unlock()
	if !known {
		return false, false
	}
	for _, tg := range groups {
		if !tg.hasHealthy() {
			return false, true
		}
	}
	return len(groups) > 0, true
}
