// Package load drives a deployed stack with virtual users, as many people using the platform
// at once would: each signs in, uploads a mix of sizes (multipart included), follows their
// media to ready, watches renditions through the CDN, reads the feed, likes and comments.
// Every request is counted by route and status with its latency, and every upload S3
// acknowledged is followed to ready or failed; one that reaches neither is lost. The result
// is a Scorecard, which `make load` prints and writes as JSON.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
)

// Bounds of a run: the generator talks only to a local stack, so it must never become a
// flood by mistake.
const (
	MaxUsers    = 200
	MaxDuration = 30 * time.Minute
)

// Options are a run's size and what it talks to.
type Options struct {
	Users    int           // virtual users at once, 1 to MaxUsers
	Duration time.Duration // how long users act; then uploads still in flight are followed
	// Drain bounds how long uploads acknowledged before the end are followed afterwards.
	Drain time.Duration
	// Clips are the files users upload, in turn (a multipart-sized one among them).
	Clips []string
	// UploadEvery is how often a user uploads at most; 0: on every turn.
	UploadEvery time.Duration
	// SignIn returns an API client acting as the i-th user, whose HTTP clients it may wrap.
	SignIn func(ctx context.Context, i int) (*mediaclient.Client, error)
	// FeedURL is where the feed is read (the API through the CDN where it has one).
	FeedURL string
	// FleetSize, when set, is sampled every second: the API fleet's instances in service.
	FleetSize func(ctx context.Context) (int, error)
	// Progress, when set, is called every few seconds with the scorecard so far.
	Progress func(Scorecard)
	// Faults are injected one after another while users act, evenly spaced over Duration
	// and at least FaultGrace apart; users act until the last one's grace is over.
	Faults []Fault
}

// Fault is a failure injected during a run.
type Fault struct {
	Name string
	// Inject starts the failure and returns once the stack is back to normal by the fault's
	// own measure (an instance replaced, the database accepting connections again); the
	// time between is the fault's window.
	Inject func(ctx context.Context) error
}

// FaultGrace is how long after a fault's window its effects may still be seen: requests
// sent during it may answer later, and a load balancer's health checks, a database pool's
// reconnects and the SDK's backoff take their seconds.
const FaultGrace = 10 * time.Second

// Scorecard is what a run measured. Its JSON form is a contract other tools read:
// uploads.{attempted,ready,failed,lost}, requests.{total,errors_5xx}, time_to_ready_s.{p50,p99}.
type Scorecard struct {
	Users       int                   `json:"users"`
	DurationS   float64               `json:"duration_s"`
	Requests    Requests              `json:"requests"`
	Routes      map[string]RouteStats `json:"routes"`
	Uploads     Uploads               `json:"uploads"`
	TimeToReady Percentiles           `json:"time_to_ready_s"`
	CDN         CDNStats              `json:"cdn"`
	Fleet       []FleetSample         `json:"fleet"`
	// Faults are the injected failures, with their windows and the 5xx answered in each.
	Faults []FaultWindow `json:"faults"`
	// LostMedia names the uploads that never reached ready or failed.
	LostMedia []string `json:"lost_media"`
	// ReadyMedia names the uploads that became ready, for checks of what the stack did
	// with each (its events, say).
	ReadyMedia []string `json:"-"`
}

// FaultWindow is when a fault was on, from its injection to the stack's recovery, in
// seconds from the run's start.
type FaultWindow struct {
	Name   string  `json:"name"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"` // 0 while it lasts
	// Errors5xx were answered within the window or FaultGrace after it.
	Errors5xx int `json:"errors_5xx"`
	// Error says why the fault could not be injected or the stack did not recover.
	Error string `json:"error,omitempty"`
}

type Requests struct {
	Total     int `json:"total"`
	Errors5xx int `json:"errors_5xx"`
	// Errors5xxOutsideFaults were answered outside every fault's window and grace: the
	// stack's own, which a run must not have.
	Errors5xxOutsideFaults int `json:"errors_5xx_outside_faults"`
	// Failed are requests that got no answer at all (connection refused or reset, timeout).
	Failed int `json:"failed"`
}

// RouteStats are one route's requests: by status ("error" when there was no answer) and
// latency percentiles in milliseconds.
type RouteStats struct {
	Count    int            `json:"count"`
	ByStatus map[string]int `json:"by_status"`
	Latency  Percentiles    `json:"latency_ms"`
}

type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

type Uploads struct {
	Attempted int `json:"attempted"` // acknowledged by S3
	Ready     int `json:"ready"`
	Failed    int `json:"failed"`
	Lost      int `json:"lost"`
	Refused   int `json:"refused"` // refused before S3 acknowledged them (quota, 4xx)
}

type CDNStats struct {
	Requests int     `json:"requests"`
	Hits     int     `json:"hits"`
	HitRatio float64 `json:"hit_ratio"`
}

type FleetSample struct {
	AtS       float64 `json:"at_s"`
	Instances int     `json:"instances"`
}

// Validate says what is wrong with the options, if anything.
func (o Options) Validate() error {
	switch {
	case o.Users < 1 || o.Users > MaxUsers:
		return fmt.Errorf("users must be 1 to %d, got %d", MaxUsers, o.Users)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("duration must be above 0 and at most %s, got %s", MaxDuration, o.Duration)
	case len(o.Clips) == 0:
		return errors.New("no clips to upload")
	case o.SignIn == nil:
		return errors.New("no way to sign users in")
	}
	return nil
}

// signInsAtOnce bounds the sign-ins in flight before a run.
const signInsAtOnce = 8

// Run runs the load and returns its scorecard.
func Run(ctx context.Context, o Options) (Scorecard, error) {
	if err := o.Validate(); err != nil {
		return Scorecard{}, err
	}
	if o.Drain == 0 {
		o.Drain = 3 * time.Minute
	}
	r := &run{opts: o, routes: map[string]*route{}, uploads: map[string]*upload{}}
	// The users sign in a few at a time, before the clock starts: a hundred sign-ins one
	// after another took longer than a run's minute on a busy machine.
	clients := make([]*mediaclient.Client, o.Users)
	signIns, sctx := errgroup.WithContext(ctx)
	signIns.SetLimit(signInsAtOnce)
	for i := range clients {
		signIns.Go(func() error {
			c, err := o.SignIn(sctx, i)
			if err != nil {
				return fmt.Errorf("sign in user %d: %w", i, err)
			}
			c.API, c.Storage = r.recorded(c.API), r.recorded(c.Storage)
			clients[i] = c
			return nil
		})
	}
	if err := signIns.Wait(); err != nil {
		return Scorecard{}, err
	}
	for i, c := range clients {
		if c == nil {
			return Scorecard{}, fmt.Errorf("sign in user %d: no client", i)
		}
	}
	r.started = time.Now()
	feed := &mediaclient.Client{BaseURL: o.FeedURL, API: clients[0].API, Storage: clients[0].Storage}

	// Users act for the duration, and on until the last fault's grace is over, so that
	// every fault happens under load.
	actCtx, stopActing := context.WithCancel(ctx)
	defer stopActing()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { r.user(actCtx, ctx, i, c, feed) })
	}
	done := make(chan struct{})
	go r.sample(ctx, done)
	r.injectFaults(ctx)
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(r.started.Add(o.Duration))):
	}
	stopActing()
	wg.Wait()
	r.mu.Lock()
	r.stopActing = time.Now()
	r.mu.Unlock()

	// Uploads acknowledged before the end are followed until they settle, or the drain ends.
	r.followers.Wait()
	r.mu.Lock()
	r.drained = true
	r.mu.Unlock()
	close(done)
	return r.scorecard(), ctx.Err()
}

type run struct {
	opts      Options
	started   time.Time
	followers sync.WaitGroup

	mu         sync.Mutex
	stopActing time.Time
	drained    bool
	routes     map[string]*route
	uploads    map[string]*upload
	ready      []string // ids of the run's ready media
	refused    int
	fleet      []FleetSample
	cdnReqs    int
	cdnHits    int
	faults     []FaultWindow
	errors5xx  []time.Time // when each 5xx was answered
}

type route struct {
	byStatus  map[string]int
	latencies []float64
}

type upload struct {
	acked, settled time.Time
	status         string // "" while in flight, then ready or failed
}

// user acts until ctx ends; followers of its uploads run on followCtx's time.
func (r *run) user(ctx, followCtx context.Context, i int, c *mediaclient.Client, feed *mediaclient.Client) {
	rng := rand.New(rand.NewPCG(uint64(i), uint64(r.started.UnixNano()))) //nolint:gosec // spreading load and think time, not a secret
	var lastUpload time.Time
	for n, uploads := 0, 0; ctx.Err() == nil; n++ {
		if time.Since(lastUpload) >= r.opts.UploadEvery {
			lastUpload = time.Now()
			clip := r.opts.Clips[(i+uploads)%len(r.opts.Clips)]
			uploads++
			if up, err := c.CreateSharedUpload(ctx, clip, "video/mp4", fmt.Sprintf("load %d/%d", i, n), "public"); err != nil {
				r.refusedUpload(ctx, err)
			} else if err := c.PutFile(ctx, up, clip); err != nil {
				r.refusedUpload(ctx, err)
			} else {
				r.acked(up.MediaID)
				r.followers.Go(func() { r.follow(followCtx, c, up.MediaID) })
			}
		}
		// Like and comment on what the feed shows, or (while the edge still serves a feed from
		// before the first uploads were ready) on media of the run that is ready.
		page, err := feed.Feed(ctx)
		if err == nil && len(page.Items) > 0 {
			m := page.Items[rng.IntN(len(page.Items))]
			r.watch(ctx, c, m)
			r.react(ctx, c, m.MediaID)
		} else if id, ok := r.someReady(rng); ok {
			r.react(ctx, c, id)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(200+rng.IntN(600)) * time.Millisecond): // think time
		}
	}
}

func (r *run) react(ctx context.Context, c *mediaclient.Client, id string) {
	_ = c.Like(ctx, id) // failures are counted by the recorder
	_, _ = c.Comment(ctx, id, "seen under load")
}

// someReady picks a media of the run that is ready.
func (r *run) someReady(rng *rand.Rand) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ready) == 0 {
		return "", false
	}
	return r.ready[rng.IntN(len(r.ready))], true
}

// following reports whether uploads are still followed: until Drain after the users stop.
func (r *run) following() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopActing.IsZero() || time.Since(r.stopActing) < r.opts.Drain
}

// follow polls an acknowledged upload until it settles or the drain ends.
func (r *run) follow(ctx context.Context, c *mediaclient.Client, id string) {
	for r.following() && ctx.Err() == nil {
		m, err := c.Media(ctx, id)
		if err == nil && m.Terminal() {
			r.mu.Lock()
			r.uploads[id].status, r.uploads[id].settled = m.Status, time.Now()
			if m.Status == "ready" {
				r.ready = append(r.ready, id)
			}
			r.mu.Unlock()
			if m.Status == "ready" {
				r.watch(ctx, c, m)
			}
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// watch fetches a media's lowest rendition through the CDN, as a player starting would.
func (r *run) watch(ctx context.Context, c *mediaclient.Client, m mediaclient.Media) {
	if len(m.Renditions) == 0 {
		return
	}
	lowest := slices.MinFunc(m.Renditions, func(a, b mediaclient.Rendition) int { return a.Height - b.Height })
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, lowest.URL, nil)
	if err != nil {
		return
	}
	if cookie := m.CookieHeader(); cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.API.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func (r *run) acked(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.uploads[id] = &upload{acked: time.Now()}
}

func (r *run) refusedUpload(ctx context.Context, err error) {
	if ctx.Err() != nil { // the run ended mid-upload: not the stack's refusal
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused++
}

// injectFaults injects the faults one after another, the i-th of n at (i+1)/(n+1) of the
// run's duration, or later: only once the previous one's window and grace are over, so that
// each 5xx belongs to one fault. It returns after the last one's grace.
func (r *run) injectFaults(ctx context.Context) {
	n := len(r.opts.Faults)
	var prevEnd time.Time
	defer func() {
		if !prevEnd.IsZero() {
			_ = sleepUntil(ctx, prevEnd.Add(FaultGrace))
		}
	}()
	for i, f := range r.opts.Faults {
		at := r.started.Add(time.Duration(i+1) * r.opts.Duration / time.Duration(n+1))
		if !prevEnd.IsZero() && prevEnd.Add(FaultGrace).After(at) {
			at = prevEnd.Add(FaultGrace)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(at)):
		}
		r.mu.Lock()
		r.faults = append(r.faults, FaultWindow{Name: f.Name, StartS: time.Since(r.started).Seconds()})
		w := &r.faults[len(r.faults)-1]
		r.mu.Unlock()
		err := f.Inject(ctx)
		prevEnd = time.Now()
		r.mu.Lock()
		w.EndS = prevEnd.Sub(r.started).Seconds()
		if err != nil {
			w.Error = err.Error()
		}
		r.mu.Unlock()
	}
}

// sample records the fleet's size every second and reports progress every five.
func (r *run) sample(ctx context.Context, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if r.opts.FleetSize != nil {
			if size, err := r.opts.FleetSize(ctx); err == nil {
				r.mu.Lock()
				r.fleet = append(r.fleet, FleetSample{AtS: time.Since(r.started).Seconds(), Instances: size})
				r.mu.Unlock()
			}
		}
		if r.opts.Progress != nil && n%5 == 0 {
			r.opts.Progress(r.scorecard())
		}
	}
}

// recorded wraps an HTTP client so that each request is counted by route and status.
func (r *run) recorded(c *http.Client) *http.Client {
	wrapped := *c
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	wrapped.Transport = roundTripper(func(req *http.Request) (*http.Response, error) {
		began := time.Now()
		resp, err := next.RoundTrip(req)
		if err != nil && req.Context().Err() != nil {
			return resp, err // cut short by the run's end, not failed by the stack
		}
		status := "error"
		if err == nil {
			status = strconv.Itoa(resp.StatusCode)
		}
		r.record(routeOf(req), status, time.Since(began), cdnHost(req) != "", resp)
		return resp, err
	})
	return &wrapped
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func (r *run) record(name, status string, took time.Duration, viaCDN bool, resp *http.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rt := r.routes[name]
	if rt == nil {
		rt = &route{byStatus: map[string]int{}}
		r.routes[name] = rt
	}
	rt.byStatus[status]++
	rt.latencies = append(rt.latencies, float64(took.Microseconds())/1000)
	if strings.HasPrefix(status, "5") {
		r.errors5xx = append(r.errors5xx, time.Now())
	}
	if viaCDN && resp != nil {
		r.cdnReqs++
		if strings.HasPrefix(resp.Header.Get("X-Cache"), "Hit") {
			r.cdnHits++
		}
	}
}

// cdnHost is the request's host when it is a CloudFront domain, else "".
func cdnHost(req *http.Request) string {
	if strings.HasSuffix(req.URL.Hostname(), ".cloudfront.net") {
		return req.URL.Host
	}
	return ""
}

var (
	uuidSegment = regexp.MustCompile(`/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	mediaFile   = regexp.MustCompile(`^/\{id\}/.*`)
)

// routeOf names a request's route: the API's path with ids as {id}, a presigned S3 upload,
// or a CDN file.
func routeOf(req *http.Request) string {
	if _, signed := req.URL.Query()["X-Amz-Signature"]; signed && req.Method == http.MethodPut {
		if _, part := req.URL.Query()["partNumber"]; part {
			return "PUT s3 (presigned part)"
		}
		return "PUT s3 (presigned)"
	}
	path := uuidSegment.ReplaceAllString(req.URL.Path, "/{id}")
	host := ""
	if cdnHost(req) != "" {
		host = "cdn "
		if mediaFile.MatchString(path) {
			path = "/{id}/" + fileKind(req.URL)
		}
	}
	return req.Method + " " + host + path
}

// fileKind groups a media file by what it is: rendition, playlist, segment, poster.
func fileKind(u *url.URL) string {
	name := u.Path[strings.LastIndex(u.Path, "/")+1:]
	if i := strings.LastIndex(name, "."); i >= 0 {
		return "*" + name[i:]
	}
	return name
}

// scorecard is the run so far.
func (r *run) scorecard() Scorecard {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.stopActing
	if end.IsZero() {
		end = time.Now()
	}
	s := Scorecard{Users: r.opts.Users, DurationS: end.Sub(r.started).Seconds(), Routes: map[string]RouteStats{},
		Fleet: slices.Clone(r.fleet), Faults: slices.Clone(r.faults), LostMedia: []string{}}
	if s.Faults == nil {
		s.Faults = []FaultWindow{}
	}
	// A 5xx is the latest fault's whose window or grace holds it, else the stack's own.
	for _, at := range r.errors5xx {
		owner := -1
		for i, f := range s.Faults {
			if f.within(at.Sub(r.started).Seconds()) {
				owner = i
			}
		}
		if owner < 0 {
			s.Requests.Errors5xxOutsideFaults++
		} else {
			s.Faults[owner].Errors5xx++
		}
	}
	for name, rt := range r.routes {
		stats := RouteStats{ByStatus: map[string]int{}, Latency: percentiles(rt.latencies)}
		for status, n := range rt.byStatus {
			stats.ByStatus[status] = n
			stats.Count += n
			s.Requests.Total += n
			if strings.HasPrefix(status, "5") {
				s.Requests.Errors5xx += n
			}
			if status == "error" {
				s.Requests.Failed += n
			}
		}
		s.Routes[name] = stats
	}
	var toReady []float64
	for id, u := range r.uploads {
		s.Uploads.Attempted++
		switch u.status {
		case "ready":
			s.Uploads.Ready++
			toReady = append(toReady, u.settled.Sub(u.acked).Seconds())
		case "failed":
			s.Uploads.Failed++
		default:
			if r.drained { // in flight until then; lost once the drain is over
				s.Uploads.Lost++
				s.LostMedia = append(s.LostMedia, id)
			}
		}
	}
	slices.Sort(s.LostMedia)
	s.ReadyMedia = slices.Clone(r.ready)
	s.Uploads.Refused = r.refused
	s.TimeToReady = percentiles(toReady)
	s.CDN = CDNStats{Requests: r.cdnReqs, Hits: r.cdnHits}
	if r.cdnReqs > 0 {
		s.CDN.HitRatio = float64(r.cdnHits) / float64(r.cdnReqs)
	}
	return s
}

// Verdict is nil when the run kept the platform's promise: no acknowledged upload lost, no
// 5xx outside the injected faults' windows, every fault injected and recovered from.
func (s Scorecard) Verdict() error {
	var errs []error
	if s.Uploads.Lost > 0 {
		errs = append(errs, fmt.Errorf("%d acknowledged uploads were lost: %s", s.Uploads.Lost, strings.Join(s.LostMedia, ", ")))
	}
	if n := s.Requests.Errors5xxOutsideFaults; n > 0 {
		errs = append(errs, fmt.Errorf("the stack answered %d requests with 5xx outside the faults' windows", n))
	}
	for _, f := range s.Faults {
		if f.Error != "" {
			errs = append(errs, fmt.Errorf("fault %s: %s", f.Name, f.Error))
		}
	}
	return errors.Join(errs...)
}

func sleepUntil(ctx context.Context, t time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(t)):
		return nil
	}
}

// within reports whether a moment (seconds from the start) falls in the window or its
// grace; a window still open holds everything after its start.
func (f FaultWindow) within(at float64) bool {
	return at >= f.StartS && (f.EndS == 0 || at <= f.EndS+FaultGrace.Seconds())
}

// percentiles by the nearest-rank method.
func percentiles(values []float64) Percentiles {
	if len(values) == 0 {
		return Percentiles{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	at := func(p float64) float64 {
		i := int(p*float64(len(v))+0.999999) - 1
		return v[max(0, min(i, len(v)-1))]
	}
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}
