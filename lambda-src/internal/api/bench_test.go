package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud/edge"
)

// The benchmarks measure whole HTTP requests against a real server: token verification,
// PostgreSQL (the real store) and presigning included. Run them with
//
//	go test ./lambda-src/internal/api -run '^$' -bench . -benchtime 3s
//
// and read req/s; parallel clients keep both the server and the database busy.

func BenchmarkCreateUpload(b *testing.B) {
	e := newEnv(b)
	body, err := json.Marshal(map[string]any{"filename": "bench.mp4", "content_type": "video/mp4", "size_bytes": 50 << 20, "title": "bench"})
	require.NoError(b, err)
	benchRequests(b, e, func(token string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, e.server.URL+"/v1/uploads", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return req
	}, http.StatusCreated)
}

func BenchmarkGetMedia(b *testing.B) {
	e := newEnv(b)
	owner := uuid.NewString()
	id := e.createUpload(owner, "bench.mp4", 1<<20).MediaID
	token := e.issuer.IDToken(b, owner)
	benchRequests(b, e, func(string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, e.server.URL+"/v1/media/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}, http.StatusOK)
}

// benchRequests sends requests in parallel, b.N in all, each answered want; observe, when
// given, learns each request's latency.
func benchRequests(b *testing.B, e *env, newRequest func(token string) *http.Request, want int, observe ...func(time.Duration)) {
	token := e.issuer.IDToken(b, uuid.NewString())
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			started := time.Now()
			resp, err := client.Do(newRequest(token))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			for _, o := range observe {
				o(time.Since(started))
			}
			if resp.StatusCode != want {
				b.Errorf("status %d, want %d", resp.StatusCode, want)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkFeed reads the first page of the public feed from a database holding 100,000
// media (four in five public, with likes and comments), as an anonymous client and as a
// signed-in one (liked_by_me); it reports req/s and the 99th percentile latency.
//
//	go test ./lambda-src/internal/api -run '^$' -bench Feed -benchtime 2000x
func BenchmarkFeed(b *testing.B) {
	e := newEnv(b)
	viewer := uuid.NewString()
	seedFeed(b, e, 100_000, viewer)
	for _, tc := range []struct {
		name  string
		token string
	}{{"anonymous", ""}, {"signed-in", e.issuer.IDToken(b, viewer)}} {
		b.Run(tc.name, func(b *testing.B) {
			var mu sync.Mutex
			var latencies []time.Duration
			benchRequests(b, e, func(string) *http.Request {
				req, _ := http.NewRequest(http.MethodGet, e.server.URL+"/v1/feed?limit=20", nil)
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				return req
			}, http.StatusOK, func(d time.Duration) {
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			})
			slices.Sort(latencies)
			if len(latencies) > 0 {
				b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// seedFeed fills e's database with n ready media, most recent first, four in five public,
// likes and comments on the newest, some of them viewer's.
func seedFeed(b *testing.B, e *env, n int, viewer string) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", e.database.User, e.database.Password, e.database.Host, e.database.Port, e.database.Name))
	require.NoError(b, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		INSERT INTO media (id, owner, title, description, original_key, status, visibility, published_at, created_at,
			duration_s, width, height, renditions, hls_key, poster_key, is_transcoded)
		SELECT id, 'owner' || (i % 1000), 'clip ' || i, 'what was filmed', 'uploads/o/' || id || '/original', 'ready',
			CASE WHEN i % 5 = 0 THEN 'unlisted' ELSE 'public' END, now() - i * interval '1 second', now() - i * interval '1 second',
			12.5, 1920, 1080, jsonb_build_array(jsonb_build_object('height', 1080, 'width', 1920, 'key', id || '/1080p.mp4', 'bytes', 2000000),
				jsonb_build_object('height', 720, 'width', 1280, 'key', id || '/720p.mp4', 'bytes', 1000000)),
			id || '/hls/master.m3u8', id || '/poster.jpg', true
		FROM (SELECT gen_random_uuid() AS id, i FROM generate_series(1, $1) AS i) AS s`, n)
	require.NoError(b, err)
	for _, q := range []string{
		`INSERT INTO likes (media_id, user_id) SELECT id, 'user' || u FROM (SELECT id FROM media ORDER BY published_at DESC LIMIT 2000) AS m, generate_series(1, 5) AS u`,
		`INSERT INTO likes (media_id, user_id) SELECT id, '` + viewer + `' FROM media ORDER BY published_at DESC LIMIT 10`,
		`INSERT INTO comments (id, media_id, author, text)
			SELECT gen_random_uuid(), id, 'user' || c, 'nice' FROM (SELECT id FROM media ORDER BY published_at DESC LIMIT 2000) AS m, generate_series(1, 2) AS c`,
		`UPDATE media SET likes = l.n FROM (SELECT media_id, count(*) AS n FROM likes GROUP BY media_id) AS l WHERE l.media_id = media.id`,
		`UPDATE media SET comments = c.n FROM (SELECT media_id, count(*) AS n FROM comments GROUP BY media_id) AS c WHERE c.media_id = media.id`,
		`ANALYZE`,
	} {
		_, err = conn.Exec(ctx, q)
		require.NoError(b, err)
	}
}

// BenchmarkFeedThroughTheEdge reads the same hot feed page anonymously through a local
// CloudFront edge whose behaviour for /v1/feed is the cdn module's (the API as a custom
// origin, nothing kept that the API does not mark cacheable). It reports the share of
// requests that reached the API (api-share, in percent), req/s and p99.
//
//	go test ./lambda-src/internal/api -run '^$' -bench Feed -benchtime 2000x
func BenchmarkFeedThroughTheEdge(b *testing.B) {
	e := newEnv(b)
	seedFeed(b, e, 100_000, uuid.NewString())
	var originRequests atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		originRequests.Add(1)
		e.server.Config.Handler.ServeHTTP(w, r)
	}))
	b.Cleanup(origin.Close)
	ed := startEdge(b, origin.Listener.Addr().String())

	var mu sync.Mutex
	var latencies []time.Duration
	requests := originRequests.Load()
	benchRequests(b, e, func(string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, ed.URL()+"/v1/feed?limit=20", nil)
		req.Host = ed.Domain()
		return req
	}, http.StatusOK, func(d time.Duration) {
		mu.Lock()
		latencies = append(latencies, d)
		mu.Unlock()
	})
	b.ReportMetric(100*float64(originRequests.Load()-requests)/float64(b.N), "api-share-%")
	slices.Sort(latencies)
	if len(latencies) > 0 {
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// startEdge serves a distribution whose only origin is the API at apiAddr, reached by a load
// balancer's name, with the cdn module's settings for the API's reads.
func startEdge(b *testing.B, apiAddr string) *edge.Edge {
	ctx := context.Background()
	ns := emulator.Shared(b).NamespaceT(b)
	cfg, err := ns.AWSConfig(ctx)
	require.NoError(b, err)
	const lb = "bench-api-123456789.us-east-1.elb.amazonaws.com"
	methods := &cftypes.AllowedMethods{
		Quantity: aws.Int32(3), Items: []cftypes.Method{cftypes.MethodGet, cftypes.MethodHead, cftypes.MethodOptions},
		CachedMethods: &cftypes.CachedMethods{Quantity: aws.Int32(2), Items: []cftypes.Method{cftypes.MethodGet, cftypes.MethodHead}},
	}
	forwarded := &cftypes.ForwardedValues{
		QueryString: aws.Bool(true),
		Cookies:     &cftypes.CookiePreference{Forward: cftypes.ItemSelectionNone},
		Headers:     &cftypes.Headers{Quantity: aws.Int32(2), Items: []string{"Authorization", "Origin"}},
	}
	dist, err := cloudfront.NewFromConfig(cfg).CreateDistribution(ctx, &cloudfront.CreateDistributionInput{DistributionConfig: &cftypes.DistributionConfig{
		CallerReference: aws.String(ns.ID), Comment: aws.String("feed bench"), Enabled: aws.Bool(true),
		Origins: &cftypes.Origins{Quantity: aws.Int32(1), Items: []cftypes.Origin{{
			Id: aws.String("upload-api"), DomainName: aws.String(lb),
			CustomOriginConfig: &cftypes.CustomOriginConfig{HTTPPort: aws.Int32(80), HTTPSPort: aws.Int32(443), OriginProtocolPolicy: cftypes.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &cftypes.DefaultCacheBehavior{
			TargetOriginId: aws.String("upload-api"), ViewerProtocolPolicy: cftypes.ViewerProtocolPolicyRedirectToHttps,
			AllowedMethods: methods, ForwardedValues: forwarded, MinTTL: aws.Int64(0), DefaultTTL: aws.Int64(0), MaxTTL: aws.Int64(60),
		},
	}})
	require.NoError(b, err)
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, apiAddr)
	}
	transport := &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 64}
	b.Cleanup(transport.CloseIdleConnections)
	ed, err := edge.Start(ctx, cfg, aws.ToString(dist.Distribution.Id), edge.Options{CustomOriginClient: &http.Client{Transport: transport}})
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, ed.Stop()) })
	return ed
}
