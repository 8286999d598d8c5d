package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/api"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth/authtest"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/postgres"
)

// The shared emulator and PostgreSQL server are stopped here; each test takes a namespace
// and a database of its own.
func TestMain(m *testing.M) { os.Exit(postgresRunMain(m)) }

func postgresRunMain(m *testing.M) int {
	code := emulator.RunMain(m)
	pgMu.Lock()
	defer pgMu.Unlock()
	if pgServer != nil {
		_ = pgServer.Stop()
	}
	return code
}

var (
	pgMu     sync.Mutex
	pgServer *postgres.Server
)

func sharedPostgres(t testing.TB) *postgres.Server {
	t.Helper()
	pgMu.Lock()
	defer pgMu.Unlock()
	if pgServer == nil {
		s, err := postgres.Start(context.Background())
		require.NoError(t, err)
		pgServer = s
	}
	return pgServer
}

// env is one API under test: its own bucket, database, issuer and server.
type env struct {
	t        testing.TB
	cfg      api.Config
	store    *store.Store
	s3       *s3.Client
	issuer   *authtest.Issuer
	server   *httptest.Server
	client   *http.Client // trusts the emulator, for presigned URLs
	logs     *syncBuffer
	deps     api.Deps
	database postgres.Database
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB, mutate ...func(*api.Config, *api.Deps)) *env {
	t.Helper()
	ctx := context.Background()
	e := emulator.Shared(t)
	ns := e.NamespaceT(t)
	s3c, err := ns.S3Client(ctx)
	require.NoError(t, err)
	bucket, derivatives := ns.ID+"-originals", ns.ID+"-derivatives"
	for _, b := range []string{bucket, derivatives} {
		_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b})
		require.NoError(t, err)
	}
	_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	require.NoError(t, err, "originals are versioned, as the stack makes them")

	pg := sharedPostgres(t)
	db := pg.DatabaseT(t)
	st := openStore(t, db)

	iss := authtest.NewIssuer(t)
	verifier, err := auth.NewVerifier(auth.Config{Issuer: iss.URL, Audiences: []string{authtest.ClientID}})
	require.NoError(t, err)

	vars := map[string]string{
		"AWS_REGION": ns.Region, "ORIGINALS_BUCKET": bucket, "DERIVATIVES_BUCKET": derivatives,
		"DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db", "DB_HOST": db.Host, "DB_NAME": db.Name,
		"CDN_BASE_URL": "https://d111111abcdef8.cloudfront.net", "JWT_ISSUER": iss.URL, "JWT_AUDIENCE": authtest.ClientID,
		"AWS_ENDPOINT_URL": ns.Endpoint,
	}
	cfg, err := api.LoadConfig(func(k string) string { return vars[k] })
	require.NoError(t, err)
	logs := &syncBuffer{}
	deps := api.Deps{
		Store:     st,
		Bucket:    s3c,
		Presigner: s3.NewPresignClient(s3c),
		Verifier:  verifier,
		Logger:    slog.New(slog.NewJSONHandler(logs, nil)),
	}
	for _, m := range mutate {
		m(&cfg, &deps)
	}
	srv, err := api.New(cfg, deps)
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, cfg: cfg, store: st, s3: s3c, issuer: iss, server: ts, client: e.CA().HTTPClient(), logs: logs, deps: deps, database: db}
}

func openStore(t testing.TB, db postgres.Database) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Host: db.Host, Port: db.Port, Database: db.Name, User: db.User, Password: db.Password, SSLMode: "disable"})
	require.NoError(t, err)
	t.Cleanup(st.Close)
	require.NoError(t, st.Migrate(ctx))
	return st
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

func (r response) Error(t testing.TB) (msg, requestID string) {
	t.Helper()
	var body struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}
	r.JSON(t, &body)
	require.NotEmpty(t, body.Error, "an error body names the problem")
	require.Equal(t, r.Header.Get("X-Request-Id"), body.RequestID, "an error body carries the request id")
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	return body.Error, body.RequestID
}

// do sends a request to the API as subject (no token when subject is empty).
func (e *env) do(method, path, subject string, body any) response {
	e.t.Helper()
	token := ""
	if subject != "" {
		token = e.issuer.IDToken(e.t, subject)
	}
	return e.doToken(method, path, token, body, nil)
}

func (e *env) doToken(method, path, token string, body any, header http.Header) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.server.URL+path, rd)
	require.NoError(e.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	check := checkContract(e.t, req)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	check(r)
	return r
}

var (
	contractOnce   sync.Once
	contractRouter routers.Router
	contractErr    error
)

// checkContract validates req against the OpenAPI document and returns the check of its
// response: every response must be one the document describes; a request the document
// refuses must be refused by the API too (4xx), and one to a route it lacks must be a 404 or
// 405, so that the document cannot drift from the code.
func checkContract(t testing.TB, req *http.Request) func(response) {
	t.Helper()
	contractOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		if err == nil {
			contractRouter, err = gorillamux.NewRouter(doc)
		}
		contractErr = err
	})
	require.NoError(t, contractErr, "the OpenAPI document")
	if req.Method == http.MethodOptions {
		return func(response) {} // CORS preflights: the transport's, not the contract's
	}
	route, params, err := contractRouter.FindRoute(req)
	if err != nil {
		return func(r response) {
			assert.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, r.Status,
				"%s %s is not in the OpenAPI document, so it must not be a route: %v", req.Method, req.URL.Path, err)
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	return func(r response) {
		t.Helper()
		if reqErr != nil {
			assert.True(t, r.Status >= 400 && r.Status < 500, "the document refuses %s %s (%v), so must the API; it answered %d",
				req.Method, req.URL.Path, reqErr, r.Status)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.Status, Header: r.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
		out.SetBodyBytes(r.Body)
		assert.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), "%s %s answered %d outside the document: %s",
			req.Method, req.URL.Path, r.Status, r.Body)
	}
}

// createUpload asks for an upload and returns the answer.
func (e *env) createUpload(subject, filename string, size int64) api.CreateUploadResponse {
	e.t.Helper()
	r := e.do(http.MethodPost, "/v1/uploads", subject, map[string]any{
		"filename": filename, "content_type": "video/mp4", "size_bytes": size, "title": "clip " + filename,
	})
	require.Equal(e.t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var out api.CreateUploadResponse
	r.JSON(e.t, &out)
	return out
}

// put sends body to a presigned URL with the headers the API asked for.
// putResponse is what a PUT answered; its body was read and closed.
type putResponse struct {
	StatusCode int
	Header     http.Header
}

func (e *env) put(url string, headers map[string]string, body []byte) putResponse {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	require.NoError(e.t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.ContentLength = int64(len(body))
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	resp.Body.Close()
	return putResponse{StatusCode: resp.StatusCode, Header: resp.Header}
}

func (e *env) head(key string) *s3.HeadObjectOutput {
	e.t.Helper()
	out, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &e.cfg.OriginalsBucket, Key: aws.String(key)})
	require.NoError(e.t, err, "object %s must exist", key)
	return out
}

func within(t testing.TB, want, got time.Time, d time.Duration) {
	t.Helper()
	require.WithinDuration(t, want, got, d)
}
