// Package edge is the local cloud's CloudFront data plane: a caching HTTP edge per
// distribution, configured only from what the CloudFront API reports about it.
//
// An edge routes a request by the distribution's cache behaviours (path patterns in order,
// the default last), refuses what CloudFront refuses (methods a behaviour does not allow,
// countries outside a geo whitelist, requests without a valid signed URL or cookie where the
// behaviour trusts a key group), and serves GET/HEAD from an LRU cache bounded by bytes in
// memory and on disk, filled from the S3 origin with SigV4-signed requests as the origin
// access control makes them. Cached objects live for the behaviour's TTLs applied to the
// origin's Cache-Control; responses carry CloudFront's X-Cache, Age, Via and X-Amz-Cf-Id.
//
// The origin's bucket policy admits only the CloudFront service principal for this
// distribution (aws:SourceArn). The edge names the distribution in two signed headers,
// X-Amz-Source-Arn and X-Amz-Source-Account, and signs with Options.OriginCredentials: an
// emulator that maps those credentials to the service principal can judge the policy as S3
// does. Until it does, its policy evaluator skips statements with a service principal, so
// any credentials of the account reach the objects; deny statements still apply.
package edge

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/names"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Options configure an edge; the zero value is usable.
type Options struct {
	// Addr is the listen address; a free loopback port when empty.
	Addr string
	// TLSConfig, when set, makes the edge serve HTTPS (a certificate for the distribution's
	// domain); plain HTTP otherwise.
	TLSConfig *tls.Config
	// EnforceViewerProtocol applies the behaviours' viewer protocol policy to plain HTTP
	// requests (redirect or refuse). Off by default: locally viewers reach the edge over plain
	// HTTP through a proxy, standing in for CloudFront's HTTPS.
	EnforceViewerProtocol bool

	// OriginCredentials sign origin requests; the configuration's credentials when nil.
	OriginCredentials aws.CredentialsProvider
	// CustomOriginClient reaches custom origins (load balancers) by their domain names;
	// http.DefaultClient when nil.
	CustomOriginClient aws.HTTPClient
	// OriginEndpoint is where S3 origins are fetched from, path-style (the emulator); the
	// configuration's base endpoint when empty, and the origin's own host name without one.
	OriginEndpoint string

	// MemoryBytes bounds the bodies cached in memory (64 MiB when 0); DiskBytes those
	// spilled to CacheDir (1 GiB when 0). Objects above MemoryObjectBytes (4 MiB when 0) are
	// spilled; objects that fit neither are served but not cached.
	MemoryBytes       int64
	DiskBytes         int64
	MemoryObjectBytes int64
	// CacheDir holds spilled objects; a temp dir removed at Stop when empty.
	CacheDir string

	// Now is the clock for TTLs, Age and signed URL expiry; time.Now when nil.
	Now func() time.Time
	// ClientCountry returns a request's ISO country code for geo restriction; "" (unknown)
	// is served, as CloudFront serves viewers it cannot locate. Nil serves everyone.
	ClientCountry func(*http.Request) string
	// RefreshInterval re-reads the distribution (and applies new invalidations) this often;
	// only on Refresh when 0.
	RefreshInterval time.Duration
	// Logf, when set, receives one line per failed origin request or refresh.
	Logf func(format string, args ...any)
}

// Stats counts what an edge did and holds.
type Stats struct {
	CacheStats
	Hits, RefreshHits, Misses, Errors, OriginRequests int64
}

// Edge is one running distribution edge.
type Edge struct {
	id       string
	region   string // for origins whose domain names none
	opts     Options
	cf       *cloudfront.Client
	origin   *originClient
	cache    *store
	dist     atomic.Pointer[distribution]
	ln       net.Listener
	srv      *http.Server
	scheme   string
	via      string
	cacheDir string
	rmDir    func() error

	mu          sync.Mutex
	inflight    map[string]*call
	invalidated map[string]bool // invalidation ids already applied

	hits, refreshHits, misses, errs, originRequests atomic.Int64

	stop     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// call is one origin fetch that concurrent misses of the same key wait for.
type call struct {
	done chan struct{}
	ent  *entry
}

// Start reads the distribution through the CloudFront API of cfg and serves it.
func Start(ctx context.Context, cfg aws.Config, distributionID string, opts Options) (_ *Edge, err error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.MemoryBytes == 0 {
		opts.MemoryBytes = 64 << 20
	}
	if opts.DiskBytes == 0 {
		opts.DiskBytes = 1 << 30
	}
	if opts.MemoryObjectBytes == 0 {
		opts.MemoryObjectBytes = 4 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OriginCredentials == nil {
		opts.OriginCredentials = cfg.Credentials
	}
	if opts.OriginCredentials == nil {
		return nil, errors.New("edge: no credentials to sign origin requests with")
	}
	if opts.OriginEndpoint == "" {
		opts.OriginEndpoint = aws.ToString(cfg.BaseEndpoint)
	}
	e := &Edge{
		id:          distributionID,
		region:      cfg.Region,
		opts:        opts,
		cf:          cloudfront.NewFromConfig(cfg),
		cache:       newStore(opts.MemoryBytes, opts.DiskBytes),
		inflight:    map[string]*call{},
		invalidated: map[string]bool{},
		stop:        make(chan struct{}),
		scheme:      "http",
	}
	e.origin = &originClient{
		http:   cfg.HTTPClient,
		creds:  opts.OriginCredentials,
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
	}
	if e.origin.http == nil {
		e.origin.http = http.DefaultClient
	}
	if e.origin.custom = opts.CustomOriginClient; e.origin.custom == nil {
		e.origin.custom = http.DefaultClient
	}
	if opts.OriginEndpoint != "" {
		if e.origin.endpoint, err = url.Parse(opts.OriginEndpoint); err != nil {
			return nil, fmt.Errorf("edge: origin endpoint: %w", err)
		}
	}
	via := make([]byte, 16)
	rand.Read(via)
	e.via = "1.1 " + hex.EncodeToString(via) + ".cloudfront.net (CloudFront)"

	d, err := loadDistribution(ctx, e.cf, distributionID, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	e.dist.Store(d)
	// Invalidations made before the edge started concern nothing it has cached.
	if err := e.applyInvalidations(ctx, false); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}

	e.cacheDir = opts.CacheDir
	e.rmDir = func() error { return nil }
	if e.cacheDir == "" {
		if e.cacheDir, e.rmDir, err = procs.MkdirTemp("mediastack-edge-*"); err != nil {
			return nil, fmt.Errorf("edge: cache dir: %w", err)
		}
	}
	defer func() {
		if err != nil {
			_ = e.rmDir()
		}
	}()
	if e.ln, err = net.Listen("tcp", opts.Addr); err != nil {
		return nil, fmt.Errorf("edge: listen: %w", err)
	}
	if opts.TLSConfig != nil {
		e.ln = tls.NewListener(e.ln, opts.TLSConfig)
		e.scheme = "https"
	}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 30 * time.Second}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.srv.Serve(e.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logf("edge %s: serve: %v", distributionID, err)
		}
	}()
	if opts.RefreshInterval > 0 {
		e.wg.Add(1)
		go e.refreshLoop(opts.RefreshInterval) //nolint:gosec // the loop lives as long as the server, which Close ends
	}
	return e, nil
}

// ID is the distribution's id.
func (e *Edge) ID() string { return e.id }

// Addr is the edge's host:port.
func (e *Edge) Addr() string { return e.ln.Addr().String() }

// URL is the edge's base URL, e.g. http://127.0.0.1:41234.
func (e *Edge) URL() string { return e.scheme + "://" + e.Addr() }

// Domain is the distribution's domain name (dxxxx.cloudfront.net).
func (e *Edge) Domain() string { return e.dist.Load().domain }

// Hosts are the names viewers reach the edge by: the domain, then the aliases.
func (e *Edge) Hosts() []string {
	d := e.dist.Load()
	return append([]string{d.domain}, d.aliases...)
}

// OriginRegion is the region of the distribution's first S3 origin (its media), "" without one.
func (e *Edge) OriginRegion() string {
	d := e.dist.Load()
	ids := slices.Sorted(maps.Keys(d.origins))
	for _, id := range ids {
		if o := d.origins[id]; o.bucket != "" {
			return o.region
		}
	}
	return ""
}

// HasCustomOrigin reports whether the distribution has an origin other than S3 (the API).
func (e *Edge) HasCustomOrigin() bool {
	for _, o := range e.dist.Load().origins {
		if o.custom != nil {
			return true
		}
	}
	return false
}

// ARN is the distribution's ARN in AWS's form, as bucket policies name it.
func (e *Edge) ARN() string { return e.dist.Load().arn }

// Stats returns the edge's counters and cache occupancy.
func (e *Edge) Stats() Stats {
	return Stats{
		CacheStats:     e.cache.stats(),
		Hits:           e.hits.Load(),
		RefreshHits:    e.refreshHits.Load(),
		Misses:         e.misses.Load(),
		Errors:         e.errs.Load(),
		OriginRequests: e.originRequests.Load(),
	}
}

// Refresh re-reads the distribution's configuration, keeping the cache as CloudFront does,
// and drops the objects of invalidations created since the last refresh.
func (e *Edge) Refresh(ctx context.Context) error {
	d, err := loadDistribution(ctx, e.cf, e.id, e.region)
	if err != nil {
		return fmt.Errorf("edge: refresh: %w", err)
	}
	e.dist.Store(d)
	return e.applyInvalidations(ctx, true)
}

// Stop stops serving, waits for requests in flight (up to 5 s) and removes the cache.
func (e *Edge) Stop() error {
	e.stopOnce.Do(func() {
		close(e.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := e.srv.Shutdown(ctx)
		if err != nil {
			err = errors.Join(err, e.srv.Close())
		}
		e.wg.Wait()
		e.cache.clear()
		e.stopErr = errors.Join(err, e.rmDir())
	})
	return e.stopErr
}

func (e *Edge) refreshLoop(every time.Duration) {
	defer e.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			if err := e.Refresh(ctx); err != nil {
				e.logf("%v", err)
			}
			cancel()
		}
	}
}

// applyInvalidations drops cached objects matching the paths of invalidations not yet seen;
// with apply false it only records them.
func (e *Edge) applyInvalidations(ctx context.Context, apply bool) error {
	var marker *string
	for {
		out, err := e.cf.ListInvalidations(ctx, &cloudfront.ListInvalidationsInput{DistributionId: aws.String(e.id), Marker: marker})
		if err != nil {
			return fmt.Errorf("list invalidations: %w", err)
		}
		l := out.InvalidationList
		if l == nil {
			return nil
		}
		for _, s := range l.Items {
			id := aws.ToString(s.Id)
			e.mu.Lock()
			seen := e.invalidated[id]
			e.invalidated[id] = true
			e.mu.Unlock()
			if seen || !apply {
				continue
			}
			inv, err := e.cf.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: aws.String(e.id), Id: aws.String(id)})
			if err != nil {
				return fmt.Errorf("get invalidation %s: %w", id, err)
			}
			if inv.Invalidation == nil || inv.Invalidation.InvalidationBatch == nil || inv.Invalidation.InvalidationBatch.Paths == nil {
				continue
			}
			for _, p := range inv.Invalidation.InvalidationBatch.Paths.Items {
				e.cache.removeMatching(func(key string) bool { return invalidates(p, key) })
			}
		}
		if !aws.ToBool(l.IsTruncated) || l.NextMarker == nil {
			return nil
		}
		marker = l.NextMarker
	}
}

// invalidates is CloudFront's invalidation path match: exact, or a prefix ending in "*";
// query strings of the cached object do not matter.
func invalidates(pattern, key string) bool {
	path := key
	if i := strings.IndexAny(key, "?\n"); i >= 0 {
		path = key[:i]
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return path == pattern
}

func (e *Edge) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// ServeHTTP serves one viewer request as the distribution's edge.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := e.dist.Load()
	h := w.Header()
	h.Set("Via", e.via)
	h.Set("X-Amz-Cf-Pop", "LCL50-C1")
	h.Set("X-Amz-Cf-Id", requestID())

	if !d.enabled {
		e.errorPage(w, r, http.StatusForbidden, "Bad request. The distribution is disabled.")
		return
	}
	if e.geoBlocked(d, r) {
		e.errorPage(w, r, http.StatusForbidden, "The Amazon CloudFront distribution is configured to block access from your country.")
		return
	}
	escapedPath := r.URL.EscapedPath()
	signedPath := escapedPath
	if escapedPath == "/" && d.rootObject != "" {
		escapedPath = "/" + strings.TrimPrefix(d.rootObject, "/")
	}
	path, err := url.PathUnescape(escapedPath)
	if err != nil {
		e.errorPage(w, r, http.StatusBadRequest, "Bad request.")
		return
	}
	b := d.behaviourFor(path)
	w = withResponseHeaders(w, b.headers)
	w, flush := withCompression(w, r, b)
	defer flush()
	if !b.allowed[r.Method] {
		e.errorPage(w, r, http.StatusForbidden, "This distribution is not configured to allow the HTTP request method that was used for this request. The distribution supports only cachable requests.")
		return
	}
	if e.opts.EnforceViewerProtocol && !viewerHTTPS(r) {
		switch b.viewerProtocol {
		case cftypes.ViewerProtocolPolicyRedirectToHttps:
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently) //nolint:gosec // redirects to the same host, as CloudFront's redirect-to-https does
			return
		case cftypes.ViewerProtocolPolicyHttpsOnly:
			e.errorPage(w, r, http.StatusForbidden, "Bad request.")
			return
		}
	}
	query := withoutSigningParams(r.URL.RawQuery)
	if b.trustedKeys != nil {
		resources := signedResources(r, d, signedPath, query)
		if den := verifySigned(signingValues(r), b.trustedKeys, d.keys, resources, clientIP(r), e.opts.Now()); den != nil {
			e.denied(w, r, den)
			return
		}
	}
	o, ok := d.origins[b.originID]
	if !ok {
		e.errorPage(w, r, http.StatusBadGateway, "CloudFront wasn't able to resolve the origin domain name.")
		return
	}
	originQuery := ""
	if b.forwardQuery {
		originQuery = query
	}
	key := cacheKey(b, path, originQuery, r.Header)

	if !b.cached[r.Method] || r.Method != http.MethodGet && r.Method != http.MethodHead {
		e.passThrough(w, r, d, b, o, escapedPath, originQuery, "Miss from cloudfront")
		return
	}
	now := e.opts.Now()
	ent := e.cache.get(key)
	if ent != nil && e.cache.fresh(ent, now) && e.serveEntry(w, r, ent, "Hit from cloudfront") {
		e.hits.Add(1)
		return
	}
	if r.Method == http.MethodHead { // a HEAD miss is answered by the origin, not cached
		e.passThrough(w, r, d, b, o, escapedPath, originQuery, "Miss from cloudfront")
		return
	}
	e.fill(w, r, d, b, o, key, escapedPath, originQuery, ent)
}

// fill answers a GET miss (or an expired entry) from the origin, collapsing concurrent
// misses of the same key into one origin request as CloudFront does.
func (e *Edge) fill(w http.ResponseWriter, r *http.Request, d *distribution, b *behaviour, o origin, key, escapedPath, query string, stale *entry) {
	e.mu.Lock()
	if c, ok := e.inflight[key]; ok {
		e.mu.Unlock()
		select {
		case <-c.done:
		case <-r.Context().Done():
			return
		}
		if c.ent != nil && e.serveEntry(w, r, c.ent, "Hit from cloudfront") {
			e.hits.Add(1)
			return
		}
		e.fetch(w, r, d, b, o, key, escapedPath, query, nil)
		return
	}
	c := &call{done: make(chan struct{})}
	e.inflight[key] = c
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.inflight, key)
		e.mu.Unlock()
		close(c.done)
	}()
	c.ent = e.fetch(w, r, d, b, o, key, escapedPath, query, stale)
}

// fetch gets an object from the origin (revalidating stale when it has a validator), caches
// it when it may and serves it; it returns the cached entry, if any.
func (e *Edge) fetch(w http.ResponseWriter, r *http.Request, d *distribution, b *behaviour, o origin, key, escapedPath, query string, stale *entry) *entry {
	cond := http.Header{}
	if stale != nil {
		if etag := stale.header.Get("ETag"); etag != "" {
			cond.Set("If-None-Match", etag)
		} else if lm := stale.header.Get("Last-Modified"); lm != "" {
			cond.Set("If-Modified-Since", lm)
		}
	}
	resp, ok := e.originRoundTrip(w, r, d, b, o, http.MethodGet, escapedPath, query, cond)
	if !ok {
		return nil
	}
	defer resp.Body.Close()
	now := e.opts.Now()

	if resp.StatusCode == http.StatusNotModified && stale != nil {
		hdr := stale.header
		if resp.Header.Get("Cache-Control") != "" || resp.Header.Get("Expires") != "" {
			hdr = resp.Header
		}
		e.cache.refresh(stale, now, now.Add(ttlFor(b, hdr, now)))
		if e.serveEntry(w, r, stale, "RefreshHit from cloudfront") {
			e.refreshHits.Add(1)
			return stale
		}
		return nil
	}
	if stale != nil {
		e.cache.remove(stale)
	}

	ttl, xcache := time.Duration(0), "Miss from cloudfront"
	switch {
	case resp.StatusCode >= 400:
		xcache = "Error from cloudfront"
		ttl = errorTTL(d, b, resp.StatusCode, resp.Header, now)
	case resp.StatusCode == http.StatusOK:
		ttl = ttlFor(b, resp.Header, now)
	}
	size := resp.ContentLength
	if size < 0 && ttl > 0 {
		// Chunked (no Content-Length), as an API's larger answers are: CloudFront caches them
		// too. Read up to what memory holds; a longer body is served, not cached.
		head, err := io.ReadAll(io.LimitReader(resp.Body, e.opts.MemoryObjectBytes+1))
		if err != nil {
			e.logf("edge %s: read %s from origin: %v", d.id, escapedPath, err)
			e.errorPage(w, r, http.StatusBadGateway, "CloudFront wasn't able to read the response from the origin.")
			return nil
		}
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		if int64(len(head)) <= e.opts.MemoryObjectBytes {
			size, resp.ContentLength = int64(len(head)), int64(len(head))
		}
	}
	spill := size > e.opts.MemoryObjectBytes
	if ttl <= 0 || size < 0 || !e.cache.fits(size, spill) {
		if r.Header.Get("Range") != "" && resp.StatusCode == http.StatusOK {
			// Not cacheable, so the range comes from the origin itself.
			resp.Body.Close()
			e.passThrough(w, r, d, b, o, escapedPath, query, xcache)
			return nil
		}
		e.countMiss(xcache)
		writeResponse(w, r, resp, xcache)
		return nil
	}
	ent := &entry{key: key, status: resp.StatusCode, header: storedHeader(resp.Header), size: size, fetched: now, expires: now.Add(ttl)}
	if err := e.readBody(ent, resp.Body, spill); err != nil {
		e.logf("edge %s: read %s from origin: %v", d.id, escapedPath, err)
		e.errorPage(w, r, http.StatusBadGateway, "CloudFront wasn't able to read the response from the origin.")
		return nil
	}
	e.cache.put(ent)
	e.countMiss(xcache)
	if !e.serveEntry(w, r, ent, xcache) {
		e.errorPage(w, r, http.StatusBadGateway, "CloudFront wasn't able to read the cached object.")
		return nil
	}
	return ent
}

// readCloser reads from one reader and closes another (the body it wraps).
type readCloser struct {
	io.Reader
	io.Closer
}

func (e *Edge) countMiss(xcache string) {
	if strings.HasPrefix(xcache, "Error") {
		e.errs.Add(1)
	} else {
		e.misses.Add(1)
	}
}

// readBody reads exactly ent.size bytes into memory or into a file of the cache dir.
func (e *Edge) readBody(ent *entry, body io.Reader, spill bool) error {
	if !spill {
		buf := make([]byte, ent.size)
		if _, err := io.ReadFull(body, buf); err != nil {
			return err
		}
		ent.body = buf
		return nil
	}
	f, err := os.CreateTemp(e.cacheDir, "object-*")
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(body, ent.size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != ent.size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	ent.file = f.Name()
	return nil
}

// passThrough forwards a request the edge does not cache (HEAD misses, objects too large to
// cache, methods that are not cached) with the viewer's range and validators.
func (e *Edge) passThrough(w http.ResponseWriter, r *http.Request, d *distribution, b *behaviour, o origin, escapedPath, query, xcache string) {
	resp, ok := e.originRoundTrip(w, r, d, b, o, r.Method, escapedPath, query, r.Header)
	if !ok {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		xcache = "Error from cloudfront"
	}
	e.countMiss(xcache)
	writeResponse(w, r, resp, xcache)
}

// originRoundTrip makes an origin request; on failure it answers the viewer with CloudFront's
// 502 and returns false.
func (e *Edge) originRoundTrip(w http.ResponseWriter, r *http.Request, d *distribution, b *behaviour, o origin, method, escapedPath, query string, hdr http.Header) (*http.Response, bool) {
	req, err := e.origin.request(r.Context(), d, b, o, method, escapedPath, query, hdr, r)
	if err == nil {
		var resp *http.Response
		e.originRequests.Add(1)
		if resp, err = e.origin.do(o, req); err == nil {
			return resp, true
		}
	}
	if r.Context().Err() == nil {
		e.logf("edge %s: origin %s %s: %v", d.id, method, escapedPath, err)
		e.errorPage(w, r, http.StatusBadGateway, "CloudFront wasn't able to connect to the origin.")
	}
	return nil, false
}

// serveEntry answers from a cached entry: ranges and conditional requests from the cached
// body. It returns false when a spilled body has meanwhile been evicted.
func (e *Edge) serveEntry(w http.ResponseWriter, r *http.Request, ent *entry, xcache string) bool {
	body, closer, err := ent.open()
	if err != nil {
		e.cache.remove(ent)
		return false
	}
	defer closer.Close()
	h := w.Header()
	for k, v := range ent.header {
		h[k] = v
	}
	if age := int(e.cache.age(ent, e.opts.Now()) / time.Second); age > 0 {
		h.Set("Age", strconv.Itoa(age))
	}
	h.Set("X-Cache", xcache)
	if ent.status == http.StatusOK {
		lm, _ := http.ParseTime(ent.header.Get("Last-Modified"))
		http.ServeContent(w, r, "", lm, body)
		return true
	}
	h.Set("Content-Length", strconv.FormatInt(ent.size, 10))
	w.WriteHeader(ent.status)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, body)
	}
	return true
}

// writeResponse streams an origin response to the viewer.
func writeResponse(w http.ResponseWriter, r *http.Request, resp *http.Response, xcache string) {
	h := w.Header()
	for k, v := range storedHeader(resp.Header) {
		h[k] = v
	}
	if resp.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	h.Set("X-Cache", xcache)
	w.WriteHeader(resp.StatusCode)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, resp.Body)
	}
}

// hopHeaders are not passed on from the origin (RFC 9110 hop-by-hop, and those the edge
// sets itself).
var hopHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Date": true, "Age": true, "Via": true, "Content-Length": true,
}

func storedHeader(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if !hopHeaders[k] {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

// cacheableErrors are the origin statuses CloudFront caches for the error caching TTL.
var cacheableErrors = map[int]bool{400: true, 403: true, 404: true, 405: true, 414: true, 416: true, 500: true, 501: true, 502: true, 503: true, 504: true}

// cacheKey is what a cached object is found by: its path, the query when the behaviour
// forwards it, and the values of the headers it forwards (each is part of the key on
// CloudFront). Header values follow a newline, which no path or query holds.
func cacheKey(b *behaviour, path, query string, h http.Header) string {
	key := path
	if query != "" {
		key += "?" + query
	}
	for _, name := range b.forwardHeaders {
		key += "\n" + name + ":" + strings.Join(h.Values(name), ",")
	}
	return key
}

// cacheControl is a response's Cache-Control directives, lower-case names to values.
func cacheControl(h http.Header) map[string]string {
	cc := map[string]string{}
	for _, v := range h.Values("Cache-Control") {
		for part := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			cc[strings.ToLower(name)] = strings.Trim(val, `"`)
		}
	}
	return cc
}

// maxAge is the lifetime a response states: s-maxage, max-age, else Expires against Date.
func maxAge(cc map[string]string, h http.Header, now time.Time) (time.Duration, bool) {
	for _, d := range []string{"s-maxage", "max-age"} {
		if v, ok := cc[d]; ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return time.Duration(n) * time.Second, true
			}
		}
	}
	if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
		base := now
		if date, err := http.ParseTime(h.Get("Date")); err == nil {
			base = date
		}
		return exp.Sub(base), true
	}
	return 0, false
}

// forbidsCaching reports no-store, no-cache or private.
func forbidsCaching(cc map[string]string) bool {
	for _, d := range []string{"no-store", "no-cache", "private"} {
		if _, ok := cc[d]; ok {
			return true
		}
	}
	return false
}

// ttlFor is how long CloudFront keeps an object under a behaviour's legacy TTL settings: the
// origin's s-maxage, max-age or Expires bounded to [min, max]; the default TTL without them;
// the minimum when the origin forbids caching.
func ttlFor(b *behaviour, h http.Header, now time.Time) time.Duration {
	cc := cacheControl(h)
	if forbidsCaching(cc) {
		return b.minTTL
	}
	ttl, found := maxAge(cc, h, now)
	if !found {
		return b.defaultTTL
	}
	return min(max(ttl, b.minTTL), b.maxTTL)
}

// errorTTL is how long CloudFront keeps an error response (AWS: "Control how long CloudFront
// caches errors"): not at all for statuses it never caches, nor for a 404, 414 or 501 whose
// origin says no-store, no-cache or private; the larger of the origin's max-age (at most the
// behaviour's max TTL) and the error caching minimum TTL when it states one; that minimum
// (the distribution's for the status, 10 s by default) otherwise.
func errorTTL(d *distribution, b *behaviour, status int, h http.Header, now time.Time) time.Duration {
	if !cacheableErrors[status] {
		return 0
	}
	minTTL := defaultErrorCachingTTL
	if t, ok := d.errorTTLs[status]; ok {
		minTTL = t
	}
	cc := cacheControl(h)
	if forbidsCaching(cc) && (status == 404 || status == 414 || status == 501) {
		return 0
	}
	if ttl, ok := maxAge(cc, h, now); ok {
		return max(min(ttl, b.maxTTL), minTTL)
	}
	return minTTL
}

func (e *Edge) geoBlocked(d *distribution, r *http.Request) bool {
	if e.opts.ClientCountry == nil || len(d.geoCountries) == 0 {
		return false
	}
	c := strings.ToUpper(e.opts.ClientCountry(r))
	if c == "" {
		return false
	}
	switch d.geoType {
	case cftypes.GeoRestrictionTypeWhitelist:
		return !d.geoCountries[c]
	case cftypes.GeoRestrictionTypeBlacklist:
		return d.geoCountries[c]
	}
	return false
}

// signedResources are the URLs a viewer may have signed for this request: the scheme and the
// host it used are not certain behind a local proxy, so https and http, and the request's
// host, the distribution's domain and its aliases.
func signedResources(r *http.Request, d *distribution, escapedPath, query string) []string {
	suffix := escapedPath
	if query != "" {
		suffix += "?" + query
	}
	hosts := []string{r.Host, d.domain}
	hosts = append(hosts, d.aliases...)
	var out []string
	seen := map[string]bool{}
	for _, scheme := range []string{"https", "http"} {
		for _, h := range hosts {
			if u := scheme + "://" + h + suffix; h != "" && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	return out
}

func viewerHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// clientIP is the viewer's address (names.ClientAddr); nil when it has none.
func clientIP(r *http.Request) net.IP {
	if a, ok := names.ClientAddr(r); ok {
		return a.AsSlice()
	}
	return nil
}

// denied answers a refused signed request with CloudFront's XML error.
func (e *Edge) denied(w http.ResponseWriter, r *http.Request, den *denial) {
	e.errs.Add(1)
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Cache", "Error from cloudfront")
	w.WriteHeader(http.StatusForbidden)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, den.code, den.message) //nolint:gosec // a test server's or the local edge's own answer, read by the harness
	}
}

// errorPage answers with CloudFront's own HTML error page.
func (e *Edge) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	e.errs.Add(1)
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("X-Cache", "Error from cloudfront")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<HTML><HEAD><META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=iso-8859-1">
<TITLE>ERROR: The request could not be satisfied</TITLE>
</HEAD><BODY>
<H1>%d ERROR</H1>
<H2>The request could not be satisfied.</H2>
<HR noshade size="1px">
%s
<BR clear="all">
<HR noshade size="1px">
<PRE>
Generated by cloudfront (CloudFront)
Request ID: %s
</PRE>
</BODY></HTML>
`, status, message, h.Get("X-Amz-Cf-Id"))
}

// requestID is an X-Amz-Cf-Id: 56 characters of URL-safe base64, as CloudFront's are.
func requestID() string {
	b := make([]byte, 42)
	rand.Read(b)
	return base64.URLEncoding.EncodeToString(b)
}
