// Package r53dns is Route 53's data plane for the local cloud: a DNS server on loopback that
// answers the hosted zones the emulator reports, as Route 53 would.
//
//   - A, AAAA, CNAME, TXT, MX, NS, SOA and the other record types as stored; NS and SOA at
//     zone apexes come from the zone like any record. The server is authoritative: NXDOMAIN
//     (with the zone's SOA) for unknown names in a served zone, REFUSED outside them.
//   - Alias records answer the loopback IP that the names resolver gives their target (an ALB
//     or CloudFront name mapped to a local server), a distinct IP per target so that the
//     answer says which target was chosen; AAAA answers are the IPv4-mapped form of it.
//     Aliases to names in a served zone are resolved inside it. An alias whose target is
//     neither is not answered, as if its target were unhealthy.
//   - Latency records: the record of the client's region, the region found by longest
//     prefix in ClientRegions for the EDNS Client Subnet address when the query has one,
//     else for the client's source address. With no record (or only unhealthy ones) for
//     that region, DefaultRegion's, then the first by set identifier.
//   - Failover (primary while healthy), weighted (random by weight) and multivalue (every
//     healthy value) records too.
//   - Records with a health check, and aliases that evaluate target health, are skipped while
//     Options.Healthy says no; when every record of a choice is unhealthy all count as
//     healthy, as on Route 53.
//
// Zones are read at Start and again on Refresh or every RefreshInterval.
package r53dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
)

// ClientRegion says that clients from Prefix are in Region, for latency records.
type ClientRegion struct {
	Prefix netip.Prefix `json:"prefix"`
	Region string       `json:"region"`
}

// Target is what a health decision is about: a record with a health check, or the target
// of an alias that evaluates target health.
type Target struct {
	Name, Type, SetIdentifier string
	HealthCheckID             string                   // "" when the record has none
	HealthCheck               *types.HealthCheckConfig // the check as the emulator reports it; nil when none
	AliasTarget               string                   // the alias target's DNS name, for target health
}

// Options configure a Server.
type Options struct {
	Route53 *route53.Client // the account whose hosted zones are served
	Names   *names.Resolver // the local addresses of alias targets
	// ClientRegions maps client addresses to regions for latency records; longest prefix wins.
	ClientRegions []ClientRegion
	// DefaultRegion is the region of clients ClientRegions does not place.
	DefaultRegion string
	// Healthy reports whether a target may be answered; nil: everything is healthy.
	Healthy func(ctx context.Context, t Target) bool
	// RefreshInterval re-reads the zones periodically; 0: only on Refresh.
	RefreshInterval time.Duration
	// Logf receives refresh failures; nil: they are dropped (Refresh returns them).
	Logf func(format string, args ...any)
}

// Server is a DNS server on 127.0.0.1, UDP and TCP on the same port.
type Server struct {
	opts    Options
	snap    atomic.Pointer[snapshot]
	regions atomic.Pointer[[]ClientRegion]
	udp     *mdns.Server
	tcp     *mdns.Server
	addr    string
	stop    chan struct{}
	wg      sync.WaitGroup
	refresh sync.Mutex
	closed  sync.Once
}

// Start reads the zones and starts serving them on a free port of 127.0.0.1.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Route53 == nil || opts.Names == nil {
		return nil, errors.New("r53dns: Options.Route53 and Options.Names are required")
	}
	s := &Server{opts: opts, stop: make(chan struct{})}
	s.SetClientRegions(opts.ClientRegions)
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	pc, ln, err := listen()
	if err != nil {
		return nil, err
	}
	s.addr = pc.LocalAddr().String()
	s.udp = &mdns.Server{PacketConn: pc, Handler: s}
	s.tcp = &mdns.Server{Listener: ln, Handler: s}
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.wg.Add(1)
		go func() { defer s.wg.Done(); _ = srv.ActivateAndServe() }()
		<-started
	}
	if opts.RefreshInterval > 0 {
		s.wg.Add(1)
		go s.refreshLoop() //nolint:gosec // the loop lives as long as the server, which Close ends
	}
	return s, nil
}

// listen takes a UDP and a TCP socket on one free port of 127.0.0.1.
func listen() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("r53dns: listen udp: %w", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("r53dns: no port free for both UDP and TCP: %w", lastErr)
}

// Addr is the server's host:port, for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Refresh re-reads the hosted zones, record sets and health checks from the emulator.
func (s *Server) Refresh(ctx context.Context) error {
	s.refresh.Lock()
	defer s.refresh.Unlock()
	snap, err := load(ctx, s.opts.Route53)
	if err != nil {
		return fmt.Errorf("r53dns: %w", err)
	}
	s.snap.Store(snap)
	return nil
}

// SetClientRegions replaces the client-to-region map.
func (s *Server) SetClientRegions(m []ClientRegion) {
	m = slices.Clone(m)
	for i := range m {
		m[i].Prefix = m[i].Prefix.Masked()
	}
	s.regions.Store(&m)
}

// regionOf returns the region of a client address and the prefix length that decided it.
func (s *Server) regionOf(ip netip.Addr) (string, int) {
	if cr, ok := names.LongestPrefix(ip, *s.regions.Load(), func(cr ClientRegion) netip.Prefix { return cr.Prefix }); ok {
		return cr.Region, cr.Prefix.Bits()
	}
	return s.opts.DefaultRegion, 0
}

func (s *Server) refreshLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := s.Refresh(ctx); err != nil && s.opts.Logf != nil {
				s.opts.Logf("%v", err)
			}
			cancel()
		}
	}
}

// Close stops serving and refreshing.
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx))
		s.wg.Wait()
	})
	return err
}

// LatencyNames are the names (without the trailing dot) of the latency records served,
// sorted: the names that send each client to its nearest region.
func (s *Server) LatencyNames() []string {
	var names []string
	for _, z := range s.snap.Load().zones {
		for _, sets := range z.sets {
			for _, set := range sets {
				if set.region != "" {
					names = append(names, strings.TrimSuffix(set.name, "."))
				}
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
