package r53dns

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"
)

// aliasTTL is what Route 53 answers for aliases to load balancers and distributions.
const aliasTTL = 60

// maxChain bounds CNAME and alias chains inside the served zones.
const maxChain = 8

// query is one question being answered.
type query struct {
	ctx    context.Context
	snap   *snapshot
	region string // the client's region, for latency records
}

// ServeDNS answers one message; it implements mdns.Handler.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.Compress = true

	client := addrOf(w.RemoteAddr())
	var ecs *mdns.EDNS0_SUBNET
	opt := req.IsEdns0()
	if opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*mdns.EDNS0_SUBNET); ok {
				ecs = e
			}
		}
	}
	if ecs != nil {
		if a, ok := netip.AddrFromSlice(ecs.Address); ok {
			client = a
		}
	}
	region, bits := s.regionOf(client)

	if len(req.Question) != 1 || req.Opcode != mdns.OpcodeQuery {
		m.Rcode = mdns.RcodeNotImplemented
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		q := &query{ctx: ctx, snap: s.snap.Load(), region: region}
		m.Rcode, m.Answer, m.Ns = s.resolve(q, req.Question[0].Name, req.Question[0].Qtype, 0)
		cancel()
		if m.Rcode == mdns.RcodeRefused {
			m.Authoritative = false
		}
	}

	size := mdns.MinMsgSize
	if opt != nil {
		m.SetEdns0(max(opt.UDPSize(), mdns.MinMsgSize), false)
		if ecs != nil { // echo the subnet with the scope the answer is valid for (RFC 7871)
			reply := *ecs
			reply.SourceScope = uint8(min(bits, int(ecs.SourceNetmask))) //nolint:gosec // a prefix length, port or TTL within the type's range
			m.IsEdns0().Option = append(m.IsEdns0().Option, &reply)
		}
		size = int(opt.UDPSize())
	}
	if w.RemoteAddr().Network() == "tcp" {
		size = mdns.MaxMsgSize
	}
	m.Truncate(size)
	_ = w.WriteMsg(m)
}

// resolve answers name/qtype: rcode, answer and authority sections.
func (s *Server) resolve(q *query, name string, qtype uint16, depth int) (int, []mdns.RR, []mdns.RR) {
	owner := name
	name = fqdn(name)
	z := q.snap.zoneFor(name)
	if z == nil {
		return mdns.RcodeRefused, nil, nil
	}
	sets, ok := z.sets[name]
	if !ok {
		sets = z.wildcard(name)
	}
	if len(sets) == 0 {
		if z.hasBelow(name) { // an empty non-terminal exists, with no data
			return mdns.RcodeSuccess, nil, []mdns.RR{z.soa}
		}
		return mdns.RcodeNameError, nil, []mdns.RR{z.soa}
	}

	var answer []mdns.RR
	for _, t := range typesOf(sets, qtype) {
		for _, set := range s.choose(q, of(sets, t)) {
			answer = append(answer, s.records(q, owner, set, qtype, depth)...)
		}
	}
	if len(answer) > 0 {
		return mdns.RcodeSuccess, answer, nil
	}
	if cnames := of(sets, mdns.TypeCNAME); len(cnames) > 0 && qtype != mdns.TypeCNAME && depth < maxChain {
		for _, set := range s.choose(q, cnames) {
			rrs := s.records(q, owner, set, mdns.TypeCNAME, depth)
			if len(rrs) == 0 {
				continue
			}
			answer = append(answer, rrs...)
			if c, ok := rrs[0].(*mdns.CNAME); ok && q.snap.zoneFor(fqdn(c.Target)) != nil {
				rcode, more, ns := s.resolve(q, c.Target, qtype, depth+1)
				return rcode, append(answer, more...), ns
			}
			return mdns.RcodeSuccess, answer, nil
		}
	}
	return mdns.RcodeSuccess, nil, []mdns.RR{z.soa}
}

// records turns a chosen record set into answer records named owner.
func (s *Server) records(q *query, owner string, set *rrset, qtype uint16, depth int) []mdns.RR {
	if set.alias == nil {
		out := make([]mdns.RR, 0, len(set.rrs))
		for _, rr := range set.rrs {
			rr = mdns.Copy(rr)
			rr.Header().Name = owner
			out = append(out, rr)
		}
		return out
	}
	target := fqdn(*set.alias.DNSName)
	if q.snap.zoneFor(target) != nil { // an alias to another record of the served zones
		if depth >= maxChain {
			return nil
		}
		_, rrs, _ := s.resolve(q, target, set.qtype, depth+1)
		var out []mdns.RR
		for _, rr := range rrs {
			if rr.Header().Rrtype == set.qtype {
				rr = mdns.Copy(rr)
				rr.Header().Name = owner
				out = append(out, rr)
			}
		}
		return out
	}
	ip, ok := s.opts.Names.IP(target)
	if !ok {
		return nil
	}
	hdr := mdns.RR_Header{Name: owner, Rrtype: set.qtype, Class: mdns.ClassINET, Ttl: aliasTTL}
	switch set.qtype {
	case mdns.TypeA:
		if ip.Is4() {
			return []mdns.RR{&mdns.A{Hdr: hdr, A: net.IP(ip.AsSlice())}}
		}
	case mdns.TypeAAAA:
		b := ip.As16() // IPv4-mapped: the loopback IP of the target reached over IPv6 sockets
		return []mdns.RR{&mdns.AAAA{Hdr: hdr, AAAA: net.IP(b[:])}}
	case mdns.TypeCNAME:
		return []mdns.RR{&mdns.CNAME{Hdr: hdr, Target: target}}
	}
	return nil
}

// answerable reports whether a record set can be answered at all: an alias needs a target
// that is served locally.
func (s *Server) answerable(q *query, set *rrset) bool {
	if set.alias == nil {
		return true
	}
	target := fqdn(*set.alias.DNSName)
	return q.snap.zoneFor(target) != nil || s.opts.Names.Mapped(target)
}

func (s *Server) healthy(q *query, set *rrset) bool {
	if s.opts.Healthy == nil {
		return true
	}
	t := Target{Name: set.name, Type: set.typ, SetIdentifier: set.setID}
	if set.healthCheckID != "" {
		t.HealthCheckID, t.HealthCheck = set.healthCheckID, q.snap.checks[set.healthCheckID]
		if !s.opts.Healthy(q.ctx, t) {
			return false
		}
	}
	if set.alias != nil && set.alias.EvaluateTargetHealth {
		t.HealthCheckID, t.HealthCheck = "", nil
		t.AliasTarget = strings.TrimSuffix(fqdn(*set.alias.DNSName), ".")
		if !s.opts.Healthy(q.ctx, t) {
			return false
		}
	}
	return true
}

// choose applies the routing policy of the record sets of one name and type.
func (s *Server) choose(q *query, sets []*rrset) []*rrset {
	var candidates, healthy []*rrset
	for _, set := range sets {
		if s.answerable(q, set) {
			candidates = append(candidates, set)
		}
	}
	for _, set := range candidates {
		if s.healthy(q, set) {
			healthy = append(healthy, set)
		}
	}
	if len(healthy) == 0 {
		healthy = candidates // Route 53 answers as if all were healthy
	}
	if len(healthy) == 0 {
		return nil
	}
	first := healthy[0]
	switch {
	case first.setID == "":
		return healthy[:1]
	case first.region != "":
		for _, region := range []string{q.region, s.opts.DefaultRegion} {
			for _, set := range healthy {
				if region != "" && set.region == region {
					return []*rrset{set}
				}
			}
		}
		return healthy[:1]
	case first.failover != "":
		for _, set := range healthy {
			if set.failover == types.ResourceRecordSetFailoverPrimary {
				return []*rrset{set}
			}
		}
		return healthy[:1]
	case first.weight != nil:
		var total int64
		for _, set := range healthy {
			total += *set.weight
		}
		if total <= 0 {
			return healthy[rand.IntN(len(healthy)):][:1] //nolint:gosec // spreading load and think time, not a secret
		}
		n := rand.Int64N(total) //nolint:gosec // spreading load and think time, not a secret
		for _, set := range healthy {
			if n -= *set.weight; n < 0 {
				return []*rrset{set}
			}
		}
	case first.multi:
		return healthy[:min(len(healthy), 8)]
	}
	return healthy[:1]
}

// wildcard returns the record sets of the wildcard at name's closest encloser, the longest
// ancestor that exists (RFC 4592): a closer existing name hides wildcards above it.
func (z *zone) wildcard(name string) []*rrset {
	labels := mdns.SplitDomainName(name)
	for i := 1; i < len(labels); i++ {
		parent := mdns.Fqdn(strings.Join(labels[i:], "."))
		if !mdns.IsSubDomain(z.name, parent) {
			break
		}
		if _, ok := z.sets[parent]; ok || z.hasBelow(parent) {
			return z.sets["*."+parent]
		}
	}
	return nil
}

// hasBelow reports whether some record lives below name.
func (z *zone) hasBelow(name string) bool {
	for n := range z.sets {
		if n != name && mdns.IsSubDomain(name, n) {
			return true
		}
	}
	return false
}

// typesOf lists the record types of sets that answer qtype (every type for ANY).
func typesOf(sets []*rrset, qtype uint16) []uint16 {
	if qtype != mdns.TypeANY {
		return []uint16{qtype}
	}
	var ts []uint16
	for _, set := range sets {
		if !slices.Contains(ts, set.qtype) {
			ts = append(ts, set.qtype)
		}
	}
	return ts
}

func of(sets []*rrset, qtype uint16) []*rrset {
	var out []*rrset
	for _, set := range sets {
		if set.qtype == qtype {
			out = append(out, set)
		}
	}
	return out
}

func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}
