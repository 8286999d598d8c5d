// Package localcloud is the data plane that moto lacks, assembled: for one emulated account
// and its regions it reads what Terraform really configured from the emulator's APIs and
// runs the project's artifacts against it.
//
//   - every Lambda function (its zip, checked by CodeSha256) and a poller per SQS event
//     source mapping (package functions);
//   - a PostgreSQL server per RDS instance, with the managed secret's credentials (rds);
//   - the Auto Scaling groups behind their ALB listeners (fleet);
//   - a caching edge per CloudFront distribution, reaching S3 as the CloudFront service
//     principal (edge);
//   - a DNS server for the hosted zones (r53dns);
//   - S3 Replication of new objects per each bucket's rules (replication);
//   - one names resolver mapping every AWS host name above to its local address, and an HTTP
//     proxy on it for clients that cannot dial through Go (names).
//
// Nothing is configured twice: Start takes the account, not the stack's settings. Stop ends
// every process and removes every file it made; the guardian of test/procs does the same if
// this process dies first.
package localcloud

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	r53dns "github.com/mediastack/terraform-aws-mediastack/test/localcloud/dns"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/edge"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/fleet"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/functions"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/rds"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/replication"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/roles"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/schedules"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// HealthyTimeout bounds how long Start waits for the fleets' instances to pass their health
// checks: the upload API migrates its database before it answers.
const HealthyTimeout = 90 * time.Second

// edgeRefresh is how often each edge re-reads its distribution and applies invalidations
// made since: a deleted media's files leave the edge within it.
const edgeRefresh = 2 * time.Second

// Options configure a local cloud.
type Options struct {
	// Emulator is where the AWS APIs are; its CA also issues the proxy's certificates.
	Emulator *emulator.Emulator
	// Namespace is the account whose resources are run, and whose credentials play the AWS
	// services (Lambda, EC2, CloudFront) when assuming roles and reading configuration.
	Namespace *emulator.Namespace
	// Regions to serve; the namespace's region when empty. The first is the home region
	// (upload_api_url, DNS clients no ClientRegions entry places).
	Regions []string
	// Manifest is build/manifest.json of scripts/artifacts; the repository's when empty.
	Manifest string
	// Include selects resources by name (functions, DB instances, groups, load balancers,
	// user pools; distributions by comment or origin). Nil selects everything in the account,
	// right for a namespace of its own; with IAM enforcement namespaces share one account
	// and are told apart by the ID their names carry.
	Include func(name string) bool
	// ClientRegions places DNS clients in regions for latency records; nil places every
	// client in the home region.
	ClientRegions []r53dns.ClientRegion
	// ClientCountries places clients in countries for geo rules (CloudFront's geo
	// restriction, WAF geo matches on the load balancers), by the longest prefix holding the
	// client's address; DefaultCountry is the country of clients no entry places ("":
	// unknown, which CloudFront serves and no WAF geo match holds). See names.ClientAddr.
	ClientCountries []ClientCountry
	DefaultCountry  string
	// Logf receives what the pieces report (launches, batches, failures); nil discards it.
	Logf func(format string, args ...any)
	// OnBatch is called after each batch a function processed, for live views.
	OnBatch func(function string, b functions.Batch)
}

// Endpoints is what a client of the local cloud needs, as `make up` writes it to
// .local/endpoints.json.
type Endpoints struct {
	UploadAPIURL string `json:"upload_api_url"`
	CDNBaseURL   string `json:"cdn_base_url"`
	// APIViaCDNURL is where the API's public reads are cached at the edge (GET /v1/feed,
	// /v1/media/{id}): the first distribution with the API as a custom origin.
	APIViaCDNURL string `json:"api_via_cdn_url,omitempty"`
	// WebAppURL is the web app on the home region's distribution; open it through HTTPProxy.
	WebAppURL string            `json:"web_app_url,omitempty"`
	HTTPProxy string            `json:"http_proxy"`
	Hosts     map[string]string `json:"hosts"` // AWS host name -> local host:port
	DNSServer string            `json:"dns_server"`
	// Regions are the regions served, the home one first, each with its API and CDN.
	Regions []RegionEndpoints `json:"regions"`
	// APIDNSName is the latency record's name, answered with each client's nearest healthy
	// region by the DNS server; "" without one.
	APIDNSName string `json:"api_dns_name,omitempty"`
	// ClientRegions and ClientCountries say where a client is by the address it sends from:
	// a client presents itself as being in a region (DNS queries) or a country (the CDN and
	// the API) by binding a loopback address of the prefix; others are in the home region
	// and DefaultCountry.
	ClientRegions   []r53dns.ClientRegion `json:"client_regions,omitempty"`
	ClientCountries []ClientCountry       `json:"client_countries,omitempty"`
	DefaultCountry  string                `json:"default_country,omitempty"`
	EmulatorURL     string                `json:"emulator_url"`
	CABundle        string                `json:"ca_bundle"` // trust it for the emulator and the proxy's TLS
	IDToken         string                `json:"id_token,omitempty"`
	// Identity is the user pool the API trusts, so that any client can sign users up and
	// in through Cognito's own API, as an app would; known once SignIn ran.
	Identity *Identity `json:"identity,omitempty"`
}

// RegionEndpoints are one region's entry points.
type RegionEndpoints struct {
	Region       string `json:"region"`
	UploadAPIURL string `json:"upload_api_url"`
	CDNBaseURL   string `json:"cdn_base_url"`
}

// ClientCountry says that clients from Prefix are in Country (ISO 3166-1 alpha-2).
type ClientCountry struct {
	Prefix  netip.Prefix `json:"prefix"`
	Country string       `json:"country"`
}

// clientCountry places a request's client in a country by its address.
func (c *Cloud) clientCountry(r *http.Request) string {
	if addr, ok := names.ClientAddr(r); ok {
		if cc, ok := names.LongestPrefix(addr, c.opts.ClientCountries, func(cc ClientCountry) netip.Prefix { return cc.Prefix }); ok {
			return cc.Country
		}
	}
	return c.opts.DefaultCountry
}

// Identity names the stack's user pool and the endpoint of Cognito's API that serves it.
type Identity struct {
	Region     string `json:"region"`
	UserPoolID string `json:"user_pool_id"`
	ClientID   string `json:"client_id"`
	Endpoint   string `json:"endpoint"`
}

// Cloud is a running local cloud.
type Cloud struct {
	opts     Options
	cfg      aws.Config // home region
	resolver *names.Resolver
	proxy    *names.Proxy
	dbs      *rds.Databases
	edges    []*edge.Edge
	fns      map[string]*functions.Function // by name
	pollers  []*functions.Poller
	fleets   map[string]*fleet.Fleet // by region
	dns      *r53dns.Server
	health   *r53dns.HealthChecker
	// replication copies objects as S3 Replication does.
	replication *replication.Replicator
	// schedules runs EventBridge Scheduler's schedules.
	schedules *schedules.Runner

	mu       sync.Mutex
	idToken  string
	identity *Identity

	stopOnce sync.Once
	stopErr  error
}

// Start discovers the account's resources in every region and runs them; on failure it
// stops what it started. ctx bounds the start only.
func Start(ctx context.Context, opts Options) (_ *Cloud, err error) {
	if opts.Emulator == nil || opts.Namespace == nil {
		return nil, errors.New("localcloud: Emulator and Namespace are required")
	}
	if len(opts.Regions) == 0 {
		opts.Regions = []string{opts.Namespace.Region}
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Manifest == "" {
		root, err := target.RepoRoot()
		if err != nil {
			return nil, err
		}
		opts.Manifest = filepath.Join(root, "build", "manifest.json")
	}
	manifest, err := functions.ReadManifest(opts.Manifest)
	if err != nil {
		return nil, err
	}
	cfg, err := opts.Namespace.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg.Region = opts.Regions[0]

	c := &Cloud{opts: opts, cfg: cfg, resolver: names.New(), fns: map[string]*functions.Function{}, fleets: map[string]*fleet.Fleet{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
		}
	}()
	ca := opts.Emulator.CA()
	// First, so that every process gets its address; entries are added as pieces start.
	if c.proxy, err = c.resolver.StartProxy(names.ProxyOptions{Certificates: names.CertificatesFrom(ca), RootCAs: ca.CertPool()}); err != nil {
		return nil, fmt.Errorf("start proxy: %w", err)
	}
	// The databases and the edges before the programs: the upload API connects and migrates
	// at start, and the programs build URLs on the CDN's name.
	regionConfigs := make([]aws.Config, len(opts.Regions))
	for i, region := range opts.Regions {
		regionConfigs[i] = c.regionConfig(region)
	}
	if c.dbs, err = rds.Start(ctx, regionConfigs, rds.Options{Include: opts.Include, Names: c.resolver, Logf: opts.Logf}); err != nil {
		return nil, err
	}
	if err := c.startEdges(ctx); err != nil {
		return nil, err
	}
	// S3 Replication, by the replication role of each configuration (as the S3 service).
	c.replication = replication.Start(replication.Options{
		S3:          s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		Credentials: func(role string) aws.CredentialsProvider { return roles.Credentials(cfg, role, "s3-replication") },
		Include:     opts.Include,
		Logf:        opts.Logf,
	})
	for _, region := range opts.Regions {
		if err := c.startFunctions(ctx, region, manifest); err != nil {
			return nil, err
		}
	}
	for _, region := range opts.Regions {
		if err := c.startFleet(ctx, region); err != nil {
			return nil, err
		}
	}
	// After the functions, whose queues the schedules send to.
	c.schedules = schedules.Start(schedules.Options{
		Regions: regionConfigs,
		Credentials: func(role string) aws.CredentialsProvider {
			return roles.Credentials(cfg, role, "eventbridge-scheduler")
		},
		Include: opts.Include,
		Logf:    opts.Logf,
	})
	regions := make([]r53dns.ClientRegion, len(opts.ClientRegions))
	copy(regions, opts.ClientRegions)
	// Route 53's checkers probe the load balancers by their names; certificates unverified.
	probe := http.DefaultTransport.(*http.Transport).Clone()
	probe.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // as Route 53's checkers
	c.health = r53dns.NewHealthChecker(c.resolver.Transport(probe), c.resolver.DialContext, opts.Logf)
	if c.dns, err = r53dns.Start(ctx, r53dns.Options{
		Route53:       route53.NewFromConfig(c.regionConfig("us-east-1")),
		Names:         c.resolver,
		ClientRegions: regions,
		DefaultRegion: opts.Regions[0],
		Healthy:       c.healthy,
		Logf:          opts.Logf,
	}); err != nil {
		return nil, fmt.Errorf("start DNS: %w", err)
	}
	return c, nil
}

// healthy is Route 53's view of a record: its health check as the checker finds it, and for an
// alias that evaluates target health, whether the load balancer has healthy targets.
func (c *Cloud) healthy(_ context.Context, t r53dns.Target) bool {
	if t.HealthCheckID != "" {
		return c.health.Healthy(t.HealthCheckID, t.HealthCheck)
	}
	if t.AliasTarget != "" {
		for _, f := range c.fleets {
			if healthy, known := f.HasHealthyTargets(t.AliasTarget); known {
				return healthy
			}
		}
	}
	return true
}

// StartT starts a local cloud for a test, stopped at cleanup; when the test failed, the
// programs' last output is logged first.
func StartT(t testing.TB, opts Options) *Cloud {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("local cloud: %v", err)
	}
	t.Cleanup(func() {
		// Instances' logs go with them; functions keep those of stopped environments.
		var fleetLogs string
		if t.Failed() {
			fleetLogs = c.fleetLogs()
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stop local cloud: %v", err)
		}
		if t.Failed() {
			t.Logf("local cloud logs:\n%s%s", c.functionLogs(), fleetLogs)
		}
	})
	return c
}

func (c *Cloud) regionConfig(region string) aws.Config {
	cfg := c.cfg.Copy()
	cfg.Region = region
	return cfg
}

func (c *Cloud) included(name string) bool { return c.opts.Include == nil || c.opts.Include(name) }

// processEnv is what every process the local cloud starts gets on top of its own
// configuration: where AWS is, the CA to trust, the proxy, and its own variables rewritten
// where they name a host that only the resolver knows (database endpoints).
func (c *Cloud) processEnv(own map[string]string) []string {
	env := []string{"AWS_ENDPOINT_URL=" + c.opts.Emulator.URL(), "AWS_CA_BUNDLE=" + c.opts.Emulator.CABundle()}
	env = append(env, c.proxy.Env()...)
	rewritten := c.resolver.RewriteEnv(own)
	for _, k := range slices.Sorted(maps.Keys(rewritten)) {
		if v, ok := own[k]; !ok || v != rewritten[k] {
			env = append(env, k+"="+rewritten[k])
		}
	}
	// The issuer's JWKS is served by the emulator under the pool id, not at the issuer.
	if issuer := own["JWT_ISSUER"]; issuer != "" && own["JWT_JWKS_URL"] == "" {
		pool := issuer[strings.LastIndex(issuer, "/")+1:]
		env = append(env, "JWT_JWKS_URL="+c.opts.Emulator.URL()+"/"+pool+"/.well-known/jwks.json")
	}
	return env
}

func (c *Cloud) startEdges(ctx context.Context) error {
	creds, ok := emulator.ServiceCredentials("cloudfront.amazonaws.com")
	if !ok {
		return errors.New("the emulator cannot stand in for the CloudFront service principal")
	}
	cfg := c.regionConfig("us-east-1") // CloudFront is global
	pages := cloudfront.NewListDistributionsPaginator(cloudfront.NewFromConfig(cfg), &cloudfront.ListDistributionsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list distributions: %w", err)
		}
		if page.DistributionList == nil {
			break
		}
		for _, d := range page.DistributionList.Items {
			if c.opts.Include != nil {
				// moto's list leaves out comments and origins; the distribution's own
				// configuration has them.
				got, err := cloudfront.NewFromConfig(cfg).GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: d.Id})
				if err != nil {
					return fmt.Errorf("distribution %s: %w", aws.ToString(d.Id), err)
				}
				match := c.opts.Include(aws.ToString(got.DistributionConfig.Comment))
				if got.DistributionConfig.Origins != nil {
					for _, o := range got.DistributionConfig.Origins.Items {
						match = match || c.opts.Include(aws.ToString(o.DomainName))
					}
				}
				if !match {
					continue
				}
			}
			e, err := edge.Start(ctx, cfg, aws.ToString(d.Id), edge.Options{
				OriginCredentials: credentials.StaticCredentialsProvider{Value: creds},
				// Custom origins (the upload API's load balancer) by their AWS names.
				CustomOriginClient: c.HTTPClient(),
				ClientCountry:      c.clientCountry,
				Logf:               c.opts.Logf,
				// CloudFront completes invalidations within seconds to minutes, asynchronously.
				RefreshInterval: edgeRefresh,
			})
			if err != nil {
				return fmt.Errorf("distribution %s: %w", aws.ToString(d.Id), err)
			}
			c.edges = append(c.edges, e)
			for _, h := range e.Hosts() {
				if err := c.resolver.Add(names.Entry{Host: h, Addr: e.Addr(), PlainHTTP: true}); err != nil {
					return err
				}
			}
			c.opts.Logf("localcloud: distribution %s (%s) at %s", e.ID(), e.Domain(), e.Addr())
		}
	}
	return nil
}

func (c *Cloud) startFunctions(ctx context.Context, region string, manifest *functions.Manifest) error {
	cfg := c.regionConfig(region)
	pages := lambda.NewListFunctionsPaginator(lambda.NewFromConfig(cfg), &lambda.ListFunctionsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list functions in %s: %w", region, err)
		}
		for _, f := range page.Functions {
			name := aws.ToString(f.FunctionName)
			if !c.included(name) {
				continue
			}
			spec, err := functions.Load(ctx, cfg, name, manifest)
			if err != nil {
				return err
			}
			spec.ExtraEnv = func(s *functions.Spec) []string { return c.processEnv(s.Env) }
			fn, err := functions.New(*spec)
			if err != nil {
				return fmt.Errorf("function %s: %w", name, err)
			}
			c.fns[name] = fn
			mappings, err := functions.LoadMappings(ctx, cfg, spec)
			if err != nil {
				return err
			}
			queues := sqs.NewFromConfig(spec.RoleConfig(cfg))
			for _, m := range mappings {
				popts := functions.PollerOptions{Logf: c.opts.Logf, OnBatch: func(b functions.Batch) {
					c.opts.Logf("localcloud: %s: batch of %d in %s: %d deleted, %d reported failed, error %v",
						name, len(b.MessageIDs), b.Duration.Round(time.Millisecond), b.Deleted, len(b.Failed), b.Err)
					if c.opts.OnBatch != nil {
						c.opts.OnBatch(name, b)
					}
				}}
				c.pollers = append(c.pollers, functions.StartPoller(m, queues, fn, popts))
			}
			c.opts.Logf("localcloud: function %s in %s, %d event source mapping(s)", name, region, len(mappings))
		}
	}
	return nil
}

func (c *Cloud) startFleet(ctx context.Context, region string) error {
	f, err := fleet.Start(ctx, c.regionConfig(region), fleet.Options{
		Include:       c.opts.Include,
		Env:           func(_ string, svc fleet.Service) []string { return c.processEnv(svc.Environment) },
		ClientCountry: c.clientCountry,
		Logf:          c.opts.Logf,
	})
	if err != nil {
		return fmt.Errorf("fleet in %s: %w", region, err)
	}
	c.fleets[region] = f
	for _, lb := range f.LoadBalancers() {
		for port, addr := range lb.Listeners {
			if err := c.resolver.Add(names.Entry{Host: lb.DNSName, Port: int(port), Addr: addr, PlainHTTP: true}); err != nil {
				return err
			}
		}
	}
	healthyCtx, cancel := context.WithTimeout(ctx, HealthyTimeout)
	defer cancel()
	if err := f.WaitHealthy(healthyCtx); err != nil {
		return fmt.Errorf("fleet in %s: %w", region, err)
	}
	return nil
}

// Endpoints returns the local cloud's endpoints and, once SignIn ran, the demo user's token.
func (c *Cloud) Endpoints() Endpoints {
	e := Endpoints{
		HTTPProxy:   c.proxy.URL(),
		Hosts:       c.resolver.Hosts(),
		DNSServer:   c.dns.Addr(),
		EmulatorURL: c.opts.Emulator.URL(),
		CABundle:    c.opts.Emulator.CABundle(),

		ClientRegions:   c.opts.ClientRegions,
		ClientCountries: c.opts.ClientCountries,
		DefaultCountry:  c.opts.DefaultCountry,
	}
	for _, region := range c.opts.Regions {
		r := RegionEndpoints{Region: region}
		if f := c.fleets[region]; f != nil {
			r.UploadAPIURL = apiURL(f.LoadBalancers())
		}
		for _, edge := range c.edges {
			if edge.OriginRegion() == region {
				r.CDNBaseURL = "https://" + edge.Domain()
				break
			}
		}
		e.Regions = append(e.Regions, r)
	}
	e.UploadAPIURL = e.Regions[0].UploadAPIURL // the home region's
	if names := c.dns.LatencyNames(); len(names) > 0 {
		e.APIDNSName = names[0]
	}
	if len(c.edges) > 0 {
		e.CDNBaseURL = "https://" + c.edges[0].Domain()
	}
	for _, edge := range c.edges {
		if edge.HasCustomOrigin() {
			e.APIViaCDNURL = "https://" + edge.Domain()
			break
		}
	}
	c.mu.Lock()
	e.IDToken = c.idToken
	e.Identity = c.identity
	c.mu.Unlock()
	return e
}

// apiURL is the base URL of the first load balancer (by name): https when it listens on
// 443, else http on its lowest port.
func apiURL(lbs map[string]fleet.LoadBalancer) string {
	dnsNames := slices.Sorted(maps.Keys(lbs))
	for _, n := range dnsNames {
		ports := slices.Sorted(maps.Keys(lbs[n].Listeners))
		switch {
		case len(ports) == 0:
			continue
		case slices.Contains(ports, 443):
			return "https://" + n
		case ports[0] == 80:
			return "http://" + n
		default:
			return "http://" + n + ":" + strconv.Itoa(int(ports[0]))
		}
	}
	return ""
}

// Resolver is the names resolver of the cloud's AWS host names.
func (c *Cloud) Resolver() *names.Resolver { return c.resolver }

// Proxy is the HTTP proxy that resolves through the resolver.
func (c *Cloud) Proxy() *names.Proxy { return c.proxy }

// HTTPClient reaches the AWS host names of the cloud (API, CDN) directly through the
// resolver, and trusts the emulator's CA (presigned S3 URLs).
func (c *Cloud) HTTPClient() *http.Client {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{RootCAs: c.opts.Emulator.CA().CertPool(), MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: c.resolver.Transport(base), Timeout: 2 * time.Minute}
}

// DNSAddr is the DNS server's host:port.
func (c *Cloud) DNSAddr() string { return c.dns.Addr() }

// Function returns a running function by name.
func (c *Cloud) Function(name string) (*functions.Function, bool) {
	fn, ok := c.fns[name]
	return fn, ok
}

// Fleet returns the fleet of a region.
func (c *Cloud) Fleet(region string) (*fleet.Fleet, bool) {
	f, ok := c.fleets[region]
	return f, ok
}

// DuplicateDeliveries makes every SQS event source mapping deliver each batch it receives
// in the next d twice, to two invocations at once, as SQS's at-least-once delivery may (see
// functions.Poller.DuplicateFor). It returns how many mappings it affects.
func (c *Cloud) DuplicateDeliveries(d time.Duration) int {
	for _, p := range c.pollers {
		p.DuplicateFor(d)
	}
	return len(c.pollers)
}

// Databases are the servers of the account's DB instances.
func (c *Cloud) Databases() *rds.Databases { return c.dbs }

// Schedules returns the runner of the EventBridge Scheduler schedules.
func (c *Cloud) Schedules() *schedules.Runner { return c.schedules }

// Edges returns the distributions' edges.
func (c *Cloud) Edges() []*edge.Edge { return slices.Clone(c.edges) }

// Logs returns the functions' stopped environments' output and the tail of each fleet
// instance's, for failure reports.
func (c *Cloud) Logs() string { return c.functionLogs() + c.fleetLogs() }

func (c *Cloud) functionLogs() string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(c.fns)) {
		fmt.Fprintf(&b, "== function %s\n%s\n", name, c.fns[name].Logs())
	}
	return b.String()
}

func (c *Cloud) fleetLogs() string {
	var b strings.Builder
	regions := slices.Sorted(maps.Keys(c.fleets))
	for _, region := range regions {
		groups := c.fleets[region].Groups()
		gnames := make([]string, 0, len(groups))
		for n := range groups {
			gnames = append(gnames, n)
		}
		sort.Strings(gnames)
		for _, g := range gnames {
			for _, inst := range groups[g].Instances {
				fmt.Fprintf(&b, "== instance %s of %s (%s)\n%s\n", inst.ID, g, region, tail(inst.Log, 4<<10))
			}
		}
	}
	return b.String()
}

func tail(path string, n int64) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if int64(len(data)) > n {
		data = data[int64(len(data))-n:]
	}
	return string(data)
}

// Stop ends everything in the reverse order of Start: no request reaches a stopped piece.
func (c *Cloud) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		if c.dns != nil {
			errs = append(errs, c.dns.Close())
		}
		if c.health != nil {
			c.health.Stop()
		}
		if c.schedules != nil {
			c.schedules.Stop()
		}
		for _, f := range c.fleets {
			f.Stop()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range c.pollers {
			errs = append(errs, p.Stop(ctx))
		}
		for _, fn := range c.fns {
			errs = append(errs, fn.Close())
		}
		for _, e := range c.edges {
			errs = append(errs, e.Stop())
		}
		if c.replication != nil {
			c.replication.Stop()
		}
		if c.dbs != nil {
			errs = append(errs, c.dbs.Stop())
		}
		if c.proxy != nil {
			errs = append(errs, c.proxy.Close())
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}
