package r53dns

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"
)

// snapshot is what the emulator reported at one refresh; answers read it without locks.
type snapshot struct {
	zones  []*zone // longest name first, so the first match is the closest enclosing zone
	checks map[string]*types.HealthCheckConfig
}

type zone struct {
	id   string
	name string // lower-case FQDN with the trailing dot
	sets map[string][]*rrset
	soa  mdns.RR
}

// rrset is one Route 53 record set.
type rrset struct {
	name, typ     string
	qtype         uint16
	ttl           uint32
	values        []string
	alias         *types.AliasTarget
	setID, region string
	failover      types.ResourceRecordSetFailover
	weight        *int64
	multi         bool
	healthCheckID string
	rrs           []mdns.RR // parsed values, owner name as in the zone
}

func (s *snapshot) zoneFor(name string) *zone {
	for _, z := range s.zones {
		if mdns.IsSubDomain(z.name, name) {
			return z
		}
	}
	return nil
}

// load reads every hosted zone, its record sets and the account's health checks.
func load(ctx context.Context, client *route53.Client) (*snapshot, error) {
	snap := &snapshot{checks: map[string]*types.HealthCheckConfig{}}
	zones := route53.NewListHostedZonesPaginator(client, &route53.ListHostedZonesInput{})
	for zones.HasMorePages() {
		page, err := zones.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list hosted zones: %w", err)
		}
		for _, hz := range page.HostedZones {
			z, err := loadZone(ctx, client, hz)
			if err != nil {
				return nil, err
			}
			snap.zones = append(snap.zones, z)
		}
	}
	slices.SortStableFunc(snap.zones, func(a, b *zone) int { return len(b.name) - len(a.name) })
	checks := route53.NewListHealthChecksPaginator(client, &route53.ListHealthChecksInput{})
	for checks.HasMorePages() {
		page, err := checks.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list health checks: %w", err)
		}
		for _, hc := range page.HealthChecks {
			snap.checks[aws.ToString(hc.Id)] = hc.HealthCheckConfig
		}
	}
	return snap, nil
}

func loadZone(ctx context.Context, client *route53.Client, hz types.HostedZone) (*zone, error) {
	z := &zone{id: strings.TrimPrefix(aws.ToString(hz.Id), "/hostedzone/"), name: fqdn(aws.ToString(hz.Name)), sets: map[string][]*rrset{}}
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: hz.Id, MaxItems: aws.Int32(300)}
	seen := map[string]bool{}
	for {
		out, err := client.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list record sets of zone %s: %w", z.name, err)
		}
		fresh := 0
		for _, rs := range out.ResourceRecordSets {
			id := aws.ToString(rs.Name) + "|" + string(rs.Type) + "|" + aws.ToString(rs.SetIdentifier)
			if seen[id] {
				continue // the emulator restarts a page at a name and type, not an identifier
			}
			seen[id], fresh = true, fresh+1
			set, err := newRRSet(rs)
			if err != nil {
				return nil, fmt.Errorf("zone %s: %w", z.name, err)
			}
			z.sets[set.name] = append(z.sets[set.name], set)
			if set.qtype == mdns.TypeSOA && set.name == z.name && len(set.rrs) > 0 {
				z.soa = set.rrs[0]
			}
		}
		if !out.IsTruncated || fresh == 0 {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	if z.soa == nil { // a zone always has one on AWS; keep NXDOMAIN answers well-formed anyway
		z.soa = &mdns.SOA{Hdr: mdns.RR_Header{Name: z.name, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: 900},
			Ns: "ns." + z.name, Mbox: "hostmaster." + z.name, Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 86400}
	}
	for _, sets := range z.sets { // a stable order for the policies that fall back to one
		slices.SortStableFunc(sets, func(a, b *rrset) int { return strings.Compare(a.setID, b.setID) })
	}
	return z, nil
}

func newRRSet(rs types.ResourceRecordSet) (*rrset, error) {
	set := &rrset{
		name:          fqdn(unescape(aws.ToString(rs.Name))),
		typ:           string(rs.Type),
		ttl:           uint32(aws.ToInt64(rs.TTL)), //nolint:gosec // a prefix length, port or TTL within the type's range
		alias:         rs.AliasTarget,
		setID:         aws.ToString(rs.SetIdentifier),
		region:        string(rs.Region),
		failover:      rs.Failover,
		weight:        rs.Weight,
		multi:         aws.ToBool(rs.MultiValueAnswer),
		healthCheckID: aws.ToString(rs.HealthCheckId),
	}
	qtype, ok := mdns.StringToType[set.typ]
	if !ok {
		return nil, fmt.Errorf("record %s: unknown type %q", set.name, set.typ)
	}
	set.qtype = qtype
	for _, v := range rs.ResourceRecords {
		value := motoValue(aws.ToString(v.Value))
		set.values = append(set.values, value)
		rr, err := mdns.NewRR(set.name + " " + strconv.FormatUint(uint64(set.ttl), 10) + " IN " + set.typ + " " + value)
		if err != nil {
			return nil, fmt.Errorf("record %s %s value %q: %w", set.name, set.typ, value, err)
		}
		set.rrs = append(set.rrs, rr)
	}
	return set, nil
}

// motoValue undoes a quirk of moto, which reports the SOA record it creates with a zone as
// the Python repr of a dict: {'Value': 'ns-2048.awsdns-64.com. hostmaster... 86400'}.
func motoValue(v string) string {
	if inner, ok := strings.CutPrefix(v, "{'Value': '"); ok {
		if inner, ok := strings.CutSuffix(inner, "'}"); ok {
			return inner
		}
	}
	return v
}

// fqdn is the lower-case, fully qualified form names are compared in.
func fqdn(name string) string { return mdns.Fqdn(strings.ToLower(strings.TrimSpace(name))) }

// unescape turns Route 53's octal escapes (\052 for the wildcard '*') into characters.
func unescape(name string) string {
	if !strings.Contains(name, `\`) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+3 < len(name) {
			if n, err := strconv.ParseUint(name[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}
