package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/fleet"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/functions"
)

// FleetSize counts the instances in service (healthy in every target group) of the local
// fleet's groups whose name contains group, for Options.FleetSize; nil without a fleet.
func FleetSize(f *fleet.Fleet, group string) func(context.Context) (int, error) {
	if f == nil {
		return nil
	}
	return func(context.Context) (int, error) {
		n := 0
		for name, g := range f.Groups() {
			if !strings.Contains(name, group) {
				continue
			}
			for _, inst := range g.Instances {
				if allHealthy([]fleet.Instance{inst}) {
					n++
				}
			}
		}
		return n, nil
	}
}

// LocalStack is what the local faults act on: the local cloud of a deployment, its
// emulator, the region of its API fleet and database, and its transcoder function.
type LocalStack struct {
	Cloud              *localcloud.Cloud
	Emulator           *emulator.Emulator
	Region             string
	TranscoderFunction string
}

// Local faults, by the names `make load -faults` takes.
const (
	FaultKillAPI       = "kill-api"       // an upload API instance killed
	FaultRestartDB     = "restart-db"     // the primary database rebooted
	FaultS3SlowDown    = "s3-slowdown"    // S3 answering 503 SlowDown to a share of requests
	FaultSQSDuplicates = "sqs-duplicates" // SQS delivering every message twice
	FaultKillSandbox   = "kill-sandbox"   // a transcoder sandbox killed mid-job
	FaultFillStorage   = "fill-storage"   // a transcoder sandbox's ephemeral storage full mid-job
)

// LocalFaultNames are every local fault, in the order a run injects them: the sandbox
// faults first, while the first uploads are being transcoded and with time for SQS to
// redeliver a killed job and for the worker fleet to take a job that met a full storage.
var LocalFaultNames = []string{FaultKillSandbox, FaultFillStorage, FaultKillAPI, FaultRestartDB, FaultS3SlowDown, FaultSQSDuplicates}

// How long the timed faults last, and the bound on waiting for a recovery.
const (
	dbDowntime      = 5 * time.Second
	s3SlowDownShare = 0.05
	timedFaultFor   = 10 * time.Second
	recoveryBound   = 2 * time.Minute
)

// Faults returns the named faults, or an error naming the unknown ones.
func (s LocalStack) Faults(names []string) ([]Fault, error) {
	byName := map[string]func(context.Context) error{
		FaultKillAPI:       s.killAPIInstance,
		FaultRestartDB:     s.restartDatabase,
		FaultS3SlowDown:    s.slowDownS3,
		FaultSQSDuplicates: s.duplicateDeliveries,
		FaultKillSandbox:   s.killTranscoderSandbox,
		FaultFillStorage:   s.fillTranscoderStorage,
	}
	var faults []Fault
	for _, name := range names {
		inject, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("unknown fault %q: the faults are %s", name, strings.Join(LocalFaultNames, ", "))
		}
		faults = append(faults, Fault{Name: name, Inject: inject})
	}
	return faults, nil
}

// killAPIInstance kills one upload API instance's process, as a crashed host would end it,
// once another is in service, and waits until its group runs its desired capacity again,
// healthy, without it.
func (s LocalStack) killAPIInstance(ctx context.Context) error {
	f, ok := s.Cloud.Fleet(s.Region)
	if !ok {
		return fmt.Errorf("no fleet in %s", s.Region)
	}
	ctx, cancel := context.WithTimeout(ctx, recoveryBound)
	defer cancel()
	// Another instance must take the traffic: killing a group's only one is an outage.
	var name string
	var g fleet.Group
	if err := poll(ctx, func() bool {
		var ok bool
		name, g, ok = apiGroup(f)
		return ok && len(g.Instances) >= 2 && allHealthy(g.Instances)
	}); err != nil {
		return fmt.Errorf("an upload API instance is killed only beside another one in service; the group runs %d (raise its minimum to 2): %w", len(g.Instances), err)
	}
	victim := g.Instances[0]
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", victim.ID, err)
	}
	if err := poll(ctx, func() bool {
		g := f.Groups()[name]
		replaced := len(g.Instances) == g.DesiredCapacity && !slices.ContainsFunc(g.Instances, func(i fleet.Instance) bool { return i.ID == victim.ID })
		return replaced && allHealthy(g.Instances)
	}); err != nil {
		return fmt.Errorf("%s was not replaced by a healthy instance: %w", victim.ID, err)
	}
	return nil
}

func apiGroup(f *fleet.Fleet) (string, fleet.Group, bool) {
	for name, g := range f.Groups() {
		if strings.Contains(name, "upload-api") {
			return name, g, true
		}
	}
	return "", fleet.Group{}, false
}

func allHealthy(instances []fleet.Instance) bool {
	for _, inst := range instances {
		if len(inst.Health) == 0 {
			return false
		}
		for _, state := range inst.Health {
			if state != elbtypes.TargetHealthStateEnumHealthy {
				return false
			}
		}
	}
	return true
}

// restartDatabase reboots the region's primary database.
func (s LocalStack) restartDatabase(ctx context.Context) error {
	for _, inst := range s.Cloud.Databases().Instances() {
		if inst.Region == s.Region && inst.Source == "" {
			return s.Cloud.Databases().Reboot(ctx, inst.Identifier, dbDowntime)
		}
	}
	return fmt.Errorf("no primary database in %s", s.Region)
}

// slowDownS3 has S3 throttle a share of the SDKs' requests for a while.
func (s LocalStack) slowDownS3(ctx context.Context) error {
	if err := s.Emulator.SlowDownS3(ctx, s3SlowDownShare, timedFaultFor); err != nil {
		return err
	}
	return sleepUntil(ctx, time.Now().Add(timedFaultFor))
}

// duplicateDeliveries has SQS deliver every message twice for a while.
func (s LocalStack) duplicateDeliveries(ctx context.Context) error {
	if s.Cloud.DuplicateDeliveries(timedFaultFor) == 0 {
		return errors.New("no SQS event source mapping to duplicate")
	}
	return sleepUntil(ctx, time.Now().Add(timedFaultFor))
}

// killTranscoderSandbox kills the first transcoder sandbox found working on a job; SQS
// redelivers the job after the queue's visibility timeout.
func (s LocalStack) killTranscoderSandbox(ctx context.Context) error {
	anyJob := func([]byte) bool { return true }
	if err := s.onOneTranscoderJob(ctx, anyJob, func(fn *functions.Function, one func([]byte) bool) (int, error) {
		return fn.KillInvocations(one), nil
	}); err != nil {
		return fmt.Errorf("no transcoder sandbox was working on a job: %w", err)
	}
	return nil
}

// fillTranscoderStorage fills the ephemeral storage of the first transcoder sandbox found
// working on an upload's job, as a function's /tmp runs full: the job's next write fails,
// and the transcoder sends it on to the worker fleet. The sandbox's /tmp stays full.
func (s LocalStack) fillTranscoderStorage(ctx context.Context) error {
	// An upload's S3 notification, which the worker fleet can take; a chunk's job is the
	// function's alone.
	upload := func(payload []byte) bool { return bytes.Contains(payload, []byte("ObjectCreated")) }
	if err := s.onOneTranscoderJob(ctx, upload, (*functions.Function).FillEphemeralStorage); err != nil {
		return fmt.Errorf("the storage of a transcoder sandbox working on an upload's job: %w", err)
	}
	return nil
}

// onOneTranscoderJob waits, up to recoveryBound, for a transcoder sandbox working on a job
// that match accepts, and acts on it: act gets the function and a match that accepts only
// the first such job, and returns how many sandboxes it acted on.
func (s LocalStack) onOneTranscoderJob(ctx context.Context, match func(payload []byte) bool, act func(fn *functions.Function, one func(payload []byte) bool) (int, error)) error {
	fn, ok := s.Cloud.Function(s.TranscoderFunction)
	if !ok {
		return fmt.Errorf("no function %s", s.TranscoderFunction)
	}
	ctx, cancel := context.WithTimeout(ctx, recoveryBound)
	defer cancel()
	var actErr error
	if err := poll(ctx, func() bool {
		taken := false
		n, err := act(fn, func(payload []byte) bool {
			if taken || !match(payload) {
				return false
			}
			taken = true
			return true
		})
		actErr = err
		return n > 0 || err != nil
	}); err != nil {
		return err
	}
	return actErr
}

// poll checks done every pollEvery until it holds or ctx ends.
func poll(ctx context.Context, done func() bool) error {
	for !done() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
	return nil
}

// pollEvery is how often the faults look at the stack while they wait for it.
const pollEvery = 100 * time.Millisecond

// APIThroughDNS is how the virtual users reach the API, as people's clients do: by the
// API's latency DNS name (apiName, "" when the stack has none), resolved by the local
// cloud's DNS server, at the scheme and port of apiURL (the load balancer's). It returns
// the base URL and the HTTP client to use, and the transport whose Lookups count the
// queries (nil without a name: the load balancer's URL and the cloud's client).
func APIThroughDNS(cloud *localcloud.Cloud, apiURL, apiName string) (string, *http.Client, *DNSTransport, error) {
	client := cloud.HTTPClient()
	if apiName == "" {
		return apiURL, client, nil, nil
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return "", nil, nil, fmt.Errorf("the API's URL %q: %w", apiURL, err)
	}
	port := u.Port()
	u.Host = apiName
	if port != "" {
		u.Host = net.JoinHostPort(apiName, port)
	}
	dns := ThroughDNS(client.Transport, apiName, cloud.DNSAddr())
	return u.String(), &http.Client{Transport: dns, Timeout: client.Timeout}, dns, nil
}
