package r53dns_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	r53dns "github.com/mediastack/terraform-aws-mediastack/test/localcloud/dns"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

const (
	eastALB = "mediastack-east-1234567890.us-east-1.elb.amazonaws.com"
	westALB = "mediastack-west-0987654321.eu-west-1.elb.amazonaws.com"
	cdn     = "d111111abcdef8.cloudfront.net"
	gone    = "not-running-42.ap-south-1.elb.amazonaws.com" // an alias target with no local server
)

// stack is a hosted zone on the emulator as the latency-dns module leaves it, and a DNS
// server answering it.
type stack struct {
	zone    string // FQDN
	zoneID  string
	r53     *route53.Client
	names   *names.Resolver
	server  *r53dns.Server
	westBad atomic.Bool // the eu-west-1 health check fails
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	s := &stack{zone: "media-" + ns.ID + ".example.com.", r53: route53.NewFromConfig(cfg), names: names.New()}

	zone, err := s.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(s.zone), CallerReference: aws.String(ns.ID)})
	require.NoError(t, err)
	s.zoneID = aws.ToString(zone.HostedZone.Id)
	check, err := s.r53.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference: aws.String(ns.ID + "-west"),
		HealthCheckConfig: &types.HealthCheckConfig{
			Type: types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String(westALB), Port: aws.Int32(80),
			ResourcePath: aws.String("/healthz"), FailureThreshold: aws.Int32(3), RequestInterval: aws.Int32(30),
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { // the namespace is an account of its own; this keeps the emulator lean
		_, _ = s.r53.DeleteHealthCheck(context.Background(), &route53.DeleteHealthCheckInput{HealthCheckId: check.HealthCheck.Id})
	})

	latency := func(name string, typ types.RRType, region types.ResourceRecordSetRegion, target string, hc *string) types.ResourceRecordSet {
		return types.ResourceRecordSet{
			Name: aws.String(name), Type: typ, SetIdentifier: aws.String(string(region)), Region: region, HealthCheckId: hc,
			AliasTarget: &types.AliasTarget{DNSName: aws.String(target), HostedZoneId: aws.String("Z35SXDOTRQ7X7K"), EvaluateTargetHealth: true},
		}
	}
	api := "api." + s.zone
	s.change(t,
		latency(api, types.RRTypeA, types.ResourceRecordSetRegionUsEast1, eastALB, nil),
		latency(api, types.RRTypeAaaa, types.ResourceRecordSetRegionUsEast1, eastALB, nil),
		latency(api, types.RRTypeA, types.ResourceRecordSetRegionEuWest1, westALB, check.HealthCheck.Id),
		latency(api, types.RRTypeAaaa, types.ResourceRecordSetRegionEuWest1, westALB, check.HealthCheck.Id),
		simple("www."+s.zone, types.RRTypeA, "192.0.2.10", "192.0.2.11"),
		simple("txt."+s.zone, types.RRTypeTxt, `"v=media1 region=local"`),
		simple("videos."+s.zone, types.RRTypeCname, "www."+s.zone),
		simple("*.wild."+s.zone, types.RRTypeA, "192.0.2.99"),
		types.ResourceRecordSet{Name: aws.String("cdn." + s.zone), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{DNSName: aws.String(cdn + "."), HostedZoneId: aws.String("Z2FDTNDATAQYW2")}},
		types.ResourceRecordSet{Name: aws.String("apex-www." + s.zone), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{DNSName: aws.String("www." + s.zone), HostedZoneId: aws.String(s.zoneID)}},
		failover("fo."+s.zone, types.ResourceRecordSetFailoverPrimary, "192.0.2.1", check.HealthCheck.Id),
		failover("fo."+s.zone, types.ResourceRecordSetFailoverSecondary, "192.0.2.2", nil),
		multi("mv."+s.zone, "a", "192.0.2.31"),
		multi("mv."+s.zone, "b", "192.0.2.32"),
		types.ResourceRecordSet{Name: aws.String("broken." + s.zone), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{DNSName: aws.String(gone), HostedZoneId: aws.String("ZP97RAFLXTNZK")}},
	)

	for _, e := range []names.Entry{
		{Host: eastALB, Port: 80, Addr: "127.0.0.1:18001", PlainHTTP: true},
		{Host: westALB, Port: 80, Addr: "127.0.0.1:18002", PlainHTTP: true},
		{Host: cdn, Port: 443, Addr: "127.0.0.1:18003", PlainHTTP: true},
	} {
		require.NoError(t, s.names.Add(e))
	}
	s.server, err = r53dns.Start(ctx, r53dns.Options{
		Route53: s.r53,
		Names:   s.names,
		ClientRegions: []r53dns.ClientRegion{
			{Prefix: netip.MustParsePrefix("127.0.0.0/8"), Region: "us-east-1"},
			{Prefix: netip.MustParsePrefix("127.0.0.2/32"), Region: "eu-west-1"}, // more specific wins
			{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Region: "eu-west-1"},
			{Prefix: netip.MustParsePrefix("2001:db8::/32"), Region: "eu-west-1"},
		},
		DefaultRegion: "us-east-1",
		Healthy: func(_ context.Context, target r53dns.Target) bool {
			if target.HealthCheck != nil && aws.ToString(target.HealthCheck.FullyQualifiedDomainName) == westALB {
				return !s.westBad.Load()
			}
			return true
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.server.Close()) })
	return s
}

func simple(name string, typ types.RRType, values ...string) types.ResourceRecordSet {
	rs := types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(300)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func failover(name string, role types.ResourceRecordSetFailover, value string, hc *string) types.ResourceRecordSet {
	rs := simple(name, types.RRTypeA, value)
	rs.SetIdentifier, rs.Failover, rs.HealthCheckId = aws.String(string(role)), role, hc
	return rs
}

func multi(name, id, value string) types.ResourceRecordSet {
	rs := simple(name, types.RRTypeA, value)
	rs.SetIdentifier, rs.MultiValueAnswer = aws.String(id), aws.Bool(true)
	return rs
}

func (s *stack) change(t *testing.T, sets ...types.ResourceRecordSet) {
	t.Helper()
	var changes []types.Change
	for _, rs := range sets {
		changes = append(changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &rs})
	}
	_, err := s.r53.ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(s.zoneID), ChangeBatch: &types.ChangeBatch{Changes: changes},
	})
	require.NoError(t, err)
}

// ask is one query: from a source address (zero: 127.0.0.1), over UDP or TCP, with an
// optional EDNS Client Subnet.
type ask struct {
	name   string
	qtype  uint16
	from   string
	tcp    bool
	subnet string
}

func (s *stack) query(t *testing.T, a ask) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(a.name, a.qtype)
	if a.subnet != "" {
		p := netip.MustParsePrefix(a.subnet)
		family := uint16(1)
		if p.Addr().Is6() {
			family = 2
		}
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &mdns.EDNS0_SUBNET{
			Code: mdns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()), Address: net.IP(p.Addr().AsSlice()), //nolint:gosec // a prefix length, port or TTL within the type's range
		})
	}
	c := &mdns.Client{Timeout: 3 * time.Second}
	if a.tcp {
		c.Net = "tcp"
	}
	if a.from != "" {
		ip := net.ParseIP(a.from)
		if a.tcp {
			c.Dialer = &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 3 * time.Second}
		} else {
			c.Dialer = &net.Dialer{LocalAddr: &net.UDPAddr{IP: ip}, Timeout: 3 * time.Second}
		}
	}
	resp, _, err := c.Exchange(m, s.server.Addr())
	require.NoError(t, err)
	return resp
}

// addresses lists the A and AAAA answers for name, in order.
func addresses(m *mdns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *mdns.A:
			out = append(out, rr.A.String())
		case *mdns.AAAA: // netip keeps the IPv4-mapped form visible
			out = append(out, netip.AddrFrom16([16]byte(rr.AAAA.To16())).String())
		}
	}
	return out
}

func (s *stack) ip(t *testing.T, host string) string {
	t.Helper()
	ip, ok := s.names.IP(host)
	require.True(t, ok)
	return ip.String()
}

func TestLatencyRecords(t *testing.T) {
	s := newStack(t)
	api := "api." + s.zone
	east, west := s.ip(t, eastALB), s.ip(t, westALB)
	require.NotEqual(t, east, west)

	for _, tc := range []struct {
		desc string
		ask  ask
		want string
	}{
		{"client map: 127.0.0.1 is in us-east-1", ask{name: api, qtype: mdns.TypeA}, east},
		{"client map: the longer prefix puts 127.0.0.2 in eu-west-1", ask{name: api, qtype: mdns.TypeA, from: "127.0.0.2"}, west},
		{"client map over TCP", ask{name: api, qtype: mdns.TypeA, from: "127.0.0.2", tcp: true}, west},
		{"ECS overrides the source address", ask{name: api, qtype: mdns.TypeA, subnet: "198.51.100.0/24"}, west},
		{"ECS of an unmapped subnet: the default region", ask{name: api, qtype: mdns.TypeA, from: "127.0.0.2", subnet: "203.0.113.0/24"}, east},
		{"ECS over IPv6, AAAA answers the IPv4-mapped IP", ask{name: api, qtype: mdns.TypeAAAA, subnet: "2001:db8:1::/48"}, "::ffff:" + west},
		{"names are case-insensitive", ask{name: "API." + s.zone, qtype: mdns.TypeA, from: "127.0.0.2"}, west},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			resp := s.query(t, tc.ask)
			require.Equal(t, mdns.RcodeSuccess, resp.Rcode)
			assert.True(t, resp.Authoritative)
			assert.Equal(t, []string{tc.want}, addresses(resp))
			require.Len(t, resp.Answer, 1)
			assert.Equal(t, tc.ask.name, resp.Answer[0].Header().Name, "the owner is the name asked")
			assert.EqualValues(t, 60, resp.Answer[0].Header().Ttl)
		})
	}

	t.Run("the ECS scope tells caches how far the answer holds", func(t *testing.T) {
		resp := s.query(t, ask{name: api, qtype: mdns.TypeA, subnet: "198.51.100.0/24"})
		opt := resp.IsEdns0()
		require.NotNil(t, opt)
		require.Len(t, opt.Option, 1)
		ecs := opt.Option[0].(*mdns.EDNS0_SUBNET)
		assert.EqualValues(t, 24, ecs.SourceScope)
		assert.Equal(t, "198.51.100.0", ecs.Address.String())
	})

	t.Run("an unhealthy region is skipped for the next one", func(t *testing.T) {
		s.westBad.Store(true)
		defer s.westBad.Store(false)
		assert.Equal(t, []string{east}, addresses(s.query(t, ask{name: api, qtype: mdns.TypeA, from: "127.0.0.2"})))
	})

	t.Run("a region without a local server is skipped", func(t *testing.T) {
		s.names.Remove(westALB, 80)
		defer func() {
			_ = s.names.Add(names.Entry{Host: westALB, Port: 80, Addr: "127.0.0.1:18002", PlainHTTP: true})
		}()
		assert.Equal(t, []string{east}, addresses(s.query(t, ask{name: api, qtype: mdns.TypeA, from: "127.0.0.2"})))
	})
}

func TestRecords(t *testing.T) {
	s := newStack(t)

	t.Run("simple A with every value", func(t *testing.T) {
		resp := s.query(t, ask{name: "www." + s.zone, qtype: mdns.TypeA})
		assert.ElementsMatch(t, []string{"192.0.2.10", "192.0.2.11"}, addresses(resp))
		assert.EqualValues(t, 300, resp.Answer[0].Header().Ttl)
	})
	t.Run("TXT", func(t *testing.T) {
		resp := s.query(t, ask{name: "txt." + s.zone, qtype: mdns.TypeTXT})
		require.Len(t, resp.Answer, 1)
		assert.Equal(t, []string{"v=media1 region=local"}, resp.Answer[0].(*mdns.TXT).Txt)
	})
	t.Run("a CNAME is followed inside the zone", func(t *testing.T) {
		resp := s.query(t, ask{name: "videos." + s.zone, qtype: mdns.TypeA, tcp: true})
		require.Len(t, resp.Answer, 3)
		assert.Equal(t, "www."+s.zone, resp.Answer[0].(*mdns.CNAME).Target)
		assert.ElementsMatch(t, []string{"192.0.2.10", "192.0.2.11"}, addresses(resp))
	})
	t.Run("an alias to a CloudFront domain answers its local IP", func(t *testing.T) {
		resp := s.query(t, ask{name: "cdn." + s.zone, qtype: mdns.TypeA})
		assert.Equal(t, []string{s.ip(t, cdn)}, addresses(resp))
	})
	t.Run("an alias to a record of the zone answers that record", func(t *testing.T) {
		resp := s.query(t, ask{name: "apex-www." + s.zone, qtype: mdns.TypeA})
		assert.ElementsMatch(t, []string{"192.0.2.10", "192.0.2.11"}, addresses(resp))
		assert.Equal(t, "apex-www."+s.zone, resp.Answer[0].Header().Name)
	})
	t.Run("an alias to a target not running locally has no data", func(t *testing.T) {
		resp := s.query(t, ask{name: "broken." + s.zone, qtype: mdns.TypeA})
		assert.Equal(t, mdns.RcodeSuccess, resp.Rcode)
		assert.Empty(t, resp.Answer)
	})
	t.Run("failover answers the primary while it is healthy", func(t *testing.T) {
		assert.Equal(t, []string{"192.0.2.1"}, addresses(s.query(t, ask{name: "fo." + s.zone, qtype: mdns.TypeA})))
		s.westBad.Store(true) // the primary carries the eu-west-1 check
		defer s.westBad.Store(false)
		assert.Equal(t, []string{"192.0.2.2"}, addresses(s.query(t, ask{name: "fo." + s.zone, qtype: mdns.TypeA})))
	})
	t.Run("multivalue answers every healthy record", func(t *testing.T) {
		assert.ElementsMatch(t, []string{"192.0.2.31", "192.0.2.32"}, addresses(s.query(t, ask{name: "mv." + s.zone, qtype: mdns.TypeA})))
	})
	t.Run("a wildcard covers names below it", func(t *testing.T) {
		resp := s.query(t, ask{name: "anything.wild." + s.zone, qtype: mdns.TypeA})
		assert.Equal(t, []string{"192.0.2.99"}, addresses(resp))
		assert.Equal(t, "anything.wild."+s.zone, resp.Answer[0].Header().Name)
	})
	t.Run("NS and SOA at the apex", func(t *testing.T) {
		resp := s.query(t, ask{name: s.zone, qtype: mdns.TypeNS})
		require.NotEmpty(t, resp.Answer)
		assert.Contains(t, resp.Answer[0].(*mdns.NS).Ns, "awsdns")
		resp = s.query(t, ask{name: s.zone, qtype: mdns.TypeSOA})
		require.Len(t, resp.Answer, 1)
		assert.IsType(t, &mdns.SOA{}, resp.Answer[0])
	})
	t.Run("NXDOMAIN with the SOA for an unknown name in the zone", func(t *testing.T) {
		resp := s.query(t, ask{name: "nope." + s.zone, qtype: mdns.TypeA})
		assert.Equal(t, mdns.RcodeNameError, resp.Rcode)
		assert.True(t, resp.Authoritative)
		require.Len(t, resp.Ns, 1)
		assert.IsType(t, &mdns.SOA{}, resp.Ns[0])
	})
	t.Run("no data for a known name without the type", func(t *testing.T) {
		resp := s.query(t, ask{name: "www." + s.zone, qtype: mdns.TypeMX})
		assert.Equal(t, mdns.RcodeSuccess, resp.Rcode)
		assert.Empty(t, resp.Answer)
		require.Len(t, resp.Ns, 1)
	})
	t.Run("REFUSED outside the served zones", func(t *testing.T) {
		resp := s.query(t, ask{name: "example.org.", qtype: mdns.TypeA})
		assert.Equal(t, mdns.RcodeRefused, resp.Rcode)
		assert.False(t, resp.Authoritative)
	})
	t.Run("Refresh picks up records created later", func(t *testing.T) {
		name := "late." + s.zone
		s.change(t, simple(name, types.RRTypeA, "192.0.2.77"))
		assert.Equal(t, mdns.RcodeNameError, s.query(t, ask{name: name, qtype: mdns.TypeA}).Rcode, "not read yet")
		require.NoError(t, s.server.Refresh(context.Background()))
		assert.Equal(t, []string{"192.0.2.77"}, addresses(s.query(t, ask{name: name, qtype: mdns.TypeA})))
	})
}

func TestPeriodicRefresh(t *testing.T) {
	ctx := context.Background()
	ns := emulator.Shared(t).NamespaceT(t)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(t, err)
	client := route53.NewFromConfig(cfg)
	server, err := r53dns.Start(ctx, r53dns.Options{Route53: client, Names: names.New(), RefreshInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, server.Close()) })
	zone := "later-" + ns.ID + ".example.net."
	s := &stack{zone: zone, r53: client, server: server}
	require.Equal(t, mdns.RcodeRefused, s.query(t, ask{name: "www." + zone, qtype: mdns.TypeA}).Rcode, "no zone yet")

	out, err := client.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(zone), CallerReference: aws.String(ns.ID)})
	require.NoError(t, err)
	s.zoneID = aws.ToString(out.HostedZone.Id)
	s.change(t, simple("www."+zone, types.RRTypeA, "192.0.2.5"))
	// No Refresh call: the periodic one must pick up the zone and record created after Start.
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal([]string{"192.0.2.5"}, addresses(s.query(t, ask{name: "www." + zone, qtype: mdns.TypeA}))) {
		require.True(t, time.Now().Before(deadline), "the new zone was not served within 5s")
		time.Sleep(50 * time.Millisecond)
	}
}
