package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
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

func benchRequests(b *testing.B, e *env, newRequest func(token string) *http.Request, want int) {
	token := e.issuer.IDToken(b, uuid.NewString())
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	b.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Do(newRequest(token))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Errorf("status %d, want %d", resp.StatusCode, want)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
