// Package api is the upload API: presigned uploads into the originals bucket, media metadata
// with CDN URLs, health checks; every /v1 route behind a Cognito bearer token.
package api

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/cdn"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/events"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/objects"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// MediaStore is what the API needs of the metadata store.
type MediaStore interface {
	Create(ctx context.Context, m store.Media) error
	GetForOwner(ctx context.Context, owner, id string) (store.Media, error)
	ListByOwner(ctx context.Context, owner, cursor string, limit int) ([]store.Media, string, error)
	Ping(ctx context.Context) error

	GetVisible(ctx context.Context, viewer, id string) (store.Media, error)
	Delete(ctx context.Context, owner, id string, check func(store.Media) error) (store.Media, bool, error)
	Update(ctx context.Context, owner, id string, c store.Changes) (store.Media, error)
	Feed(ctx context.Context, viewer, cursor string, limit int) ([]store.FeedItem, string, error)
	Like(ctx context.Context, viewer, id string) error
	Unlike(ctx context.Context, viewer, id string) error
	AddComment(ctx context.Context, author, mediaID, text string) (store.Comment, error)
	Comments(ctx context.Context, viewer, mediaID, cursor string, limit int) ([]store.Comment, string, error)
	DeleteComment(ctx context.Context, caller, mediaID, commentID string) error
	UploadsSince(ctx context.Context, owner string, t time.Time) (int, time.Time, error)
	CommentsSince(ctx context.Context, author string, t time.Time) (int, time.Time, error)
}

// Bucket is what the API needs of the S3 client.
type Bucket interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	objects.Client // deleting media: every version of the original, every derivative
}

// Invalidator drops a deleted media's files from the edge caches.
type Invalidator = cdn.Invalidator

// Presigner is what the API needs of s3.PresignClient.
type Presigner interface {
	PresignPutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
	PresignUploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// TokenVerifier checks bearer tokens; *auth.Verifier is one.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Claims, error)
}

// URLSigner signs CDN URLs and makes CDN cookies; *cdnsign.Signer is one.
type URLSigner interface {
	Sign(rawURL string, expires time.Time) (string, error)
	Cookies(resource string, expires time.Time) (map[string]string, error)
}

// Deps are the server's collaborators; Signer is nil when CDN URLs are not signed.
type Deps struct {
	Store     MediaStore
	Bucket    Bucket
	Presigner Presigner
	Verifier  TokenVerifier
	Signer    URLSigner
	CDN       Invalidator      // nil: no distribution to invalidate
	Events    events.Publisher // nil: no media events
	Logger    *slog.Logger
	Now       func() time.Time // time.Now when nil
}

// Server serves the API.
type Server struct {
	cfg     Config
	deps    Deps
	handler http.Handler
}

// New returns a Server.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Store == nil || deps.Bucket == nil || deps.Presigner == nil || deps.Verifier == nil {
		return nil, errors.New("api: store, bucket, presigner and verifier are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{cfg: cfg, deps: deps}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /v1/openapi.json", s.openAPI)
	mux.HandleFunc("POST /v1/uploads", s.authed(s.createUpload))
	mux.HandleFunc("POST /v1/uploads/{id}/complete", s.authed(s.completeUpload))
	mux.HandleFunc("GET /v1/media", s.authed(s.listMedia))
	mux.HandleFunc("GET /v1/media/{id}", s.viewer(s.getMedia))
	mux.HandleFunc("PATCH /v1/media/{id}", s.authed(s.updateMedia))
	mux.HandleFunc("DELETE /v1/media/{id}", s.authed(s.deleteMedia))
	mux.HandleFunc("GET /v1/feed", s.viewer(s.feed))
	mux.HandleFunc("PUT /v1/media/{id}/like", s.authed(s.like))
	mux.HandleFunc("DELETE /v1/media/{id}/like", s.authed(s.unlike))
	mux.HandleFunc("POST /v1/media/{id}/comments", s.authed(s.addComment))
	mux.HandleFunc("GET /v1/media/{id}/comments", s.viewer(s.listComments))
	mux.HandleFunc("DELETE /v1/media/{id}/comments/{comment_id}", s.authed(s.deleteComment))
	s.handler = s.requestID(s.logRequests(s.recoverPanics(s.cors(jsonFallbacks(mux)))))
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// HTTPServer wraps the handler in an http.Server with the API's timeouts.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Addr:              s.cfg.ListenAddr,
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		// Longer than the ALB's 60 s idle timeout: the load balancer must be the side that
		// closes idle connections, or it forwards requests onto closed ones and answers 502.
		IdleTimeout:    75 * time.Second,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       slog.NewLogLogger(s.deps.Logger.Handler(), slog.LevelWarn),
	}
}

// ---- errors and JSON

type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id"`
}

func writeError(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	writeJSON(w, status, errorBody{Error: fmt.Sprintf(format, args...), RequestID: RequestID(r.Context())})
}

// ---- middleware

type ctxKey int

const (
	requestIDKey ctxKey = iota
	claimsKey
	logAttrsKey
)

// RequestID is the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// A caller's request id is kept only when it cannot forge log lines or headers.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *statusRecorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *statusRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

func (rec *statusRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// logAttrs collects what handlers learn (the caller, the media) for the access log line.
type logAttrs struct{ attrs []slog.Attr }

func addLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey).(*logAttrs); ok {
		la.attrs = append(la.attrs, attrs...)
	}
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		la := &logAttrs{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), logAttrsKey, la)))
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		attrs := append([]slog.Attr{
			slog.String("request_id", RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		}, la.attrs...)
		s.deps.Logger.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.deps.Logger.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, r, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// jsonFallbacks answers the mux's own 404 and 405 in JSON like every other error.
func jsonFallbacks(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &headerProbe{header: http.Header{}}
		mux.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		switch probe.status {
		case http.StatusMethodNotAllowed:
			writeError(w, r, probe.status, "method %s is not allowed on %s", r.Method, r.URL.Path)
		default:
			writeError(w, r, http.StatusNotFound, "no such route: %s %s", r.Method, r.URL.Path)
		}
	})
}

// headerProbe captures the status and headers of the mux's fallback without its text body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

// viewer runs h for anyone: with the claims of a valid bearer token, or with empty claims
// when the request carries none. A token that is sent but invalid is a 401 still, so that a
// client with an expired token learns it instead of seeing less.
func (s *Server) viewer(h func(http.ResponseWriter, *http.Request, auth.Claims)) http.HandlerFunc {
	authed := s.authed(h)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			h(w, r, auth.Claims{})
			return
		}
		authed(w, r)
	}
}

// cors lets the configured browser origins call the API. Tokens travel in the
// Authorization header, never in cookies, so no credentials are allowed and the origin is
// always named, never *. A preflight is answered here; an origin not on the list gets no
// CORS headers, so the browser keeps the answer from it.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.cfg.CORSAllowedOrigins) > 0 {
			// Always, so that a shared cache never hands a copy without CORS headers to a browser.
			w.Header().Add("Vary", "Origin")
		}
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		allowed := slices.Contains(s.cfg.CORSAllowedOrigins, strings.ToLower(origin))
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if !allowed {
				writeError(w, r, http.StatusForbidden, "origin %s may not call this API from a browser", origin)
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", "Location, Retry-After, X-Request-Id")
		}
		next.ServeHTTP(w, r)
	})
}

// authed runs h with the verified claims of the request's bearer token, or answers 401.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, auth.Claims)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, err := auth.BearerToken(r.Header)
		var claims auth.Claims
		if err == nil {
			claims, err = s.deps.Verifier.Verify(r.Context(), token)
		}
		if err != nil {
			var unavailable *auth.UnavailableError
			if errors.As(err, &unavailable) {
				s.deps.Logger.ErrorContext(r.Context(), "token keys unavailable", "request_id", RequestID(r.Context()), "error", err)
				w.Header().Set("Retry-After", "5")
				writeError(w, r, http.StatusServiceUnavailable, "cannot verify tokens right now: the issuer's signing keys are unavailable")
				return
			}
			reason := "invalid bearer token"
			var authErr *auth.Error
			if errors.As(err, &authErr) {
				reason = authErr.Reason
			}
			challenge := `Bearer realm="mediastack"`
			if !errors.Is(err, auth.ErrNoToken) {
				challenge += `, error="invalid_token", error_description="` + strings.ReplaceAll(reason, `"`, `'`) + `"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			addLogAttrs(r.Context(), slog.String("auth_error", err.Error()))
			writeError(w, r, http.StatusUnauthorized, "%s", reason)
			return
		}
		addLogAttrs(r.Context(), slog.String("owner", claims.Subject))
		h(w, r.WithContext(context.WithValue(r.Context(), claimsKey, claims)), claims)
	}
}

// OpenAPI is the API's contract (OpenAPI 3.1), served at /v1/openapi.json; the API's tests
// validate every request they send and every response they get against it.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(OpenAPI)
}

// ---- health

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyzTimeout bounds each dependency check, well inside an ALB health check's timeout.
const readyzTimeout = 3 * time.Second

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, 2)
	go func() { results <- result{"database", s.deps.Store.Ping(ctx)} }()
	go func() {
		_, err := s.deps.Bucket.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.cfg.OriginalsBucket})
		results <- result{"originals_bucket", err}
	}()
	checks := map[string]string{}
	ready := true
	for range 2 {
		res := <-results
		checks[res.name] = "ok"
		if res.err != nil {
			// The endpoint is public through the ALB: the details (hosts, users) go to the log.
			ready = false
			checks[res.name] = "unavailable"
			s.deps.Logger.WarnContext(r.Context(), "not ready", "request_id", RequestID(r.Context()), "check", res.name, "error", res.err)
		}
	}
	status, code := "ready", http.StatusOK
	if !ready {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}

// ---- helpers

// internalError answers a failure of the API's own dependencies: 503 with Retry-After when
// one is unavailable for now (the database restarting, S3 still throttling after the SDK's
// retries), which a client should retry; 500 otherwise. The details go to the log only.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if dependencyUnavailable(err) {
		s.deps.Logger.WarnContext(r.Context(), what, "request_id", RequestID(r.Context()), "error", err, "unavailable", true)
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
		writeError(w, r, http.StatusServiceUnavailable, "could not %s: the service is briefly unavailable, retry in a few seconds", what)
		return
	}
	s.deps.Logger.ErrorContext(r.Context(), what, "request_id", RequestID(r.Context()), "error", err)
	writeError(w, r, http.StatusInternalServerError, "internal error: could not %s", what)
}

// unavailableRetryAfter is the Retry-After of a 503, in seconds: about a database restart's
// or a throttling burst's length.
const unavailableRetryAfter = 3

// dependencyUnavailable reports whether err is the database's or an AWS service's "not now":
// a connection refused or dropped, or a 503 (S3's SlowDown) or throttle left after retries.
func dependencyUnavailable(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusServiceUnavailable {
		return true
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return true
	}
	return store.Unavailable(err)
}
