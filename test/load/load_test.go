package load

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
)

// fakeStack answers the API's routes as the stack would, ready on the second look, except
// that an upload whose number ends in 3 never settles (a lost one) and the feed fails once
// with a 503.
type fakeStack struct {
	mu      sync.Mutex
	uploads int
	polls   map[string]int
	feed503 atomic.Bool
	down    atomic.Bool // a fault: every API call answers 503
}

func (f *fakeStack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.down.Load() && strings.HasPrefix(r.URL.Path, "/v1/"):
		http.Error(w, "down", http.StatusServiceUnavailable)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/uploads":
		f.uploads++
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.uploads)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"media_id": id, "upload": map[string]any{
			"type": "single", "method": "PUT", "url": "http://" + r.Host + "/originals/" + id + "?X-Amz-Signature=abc"}})
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/originals/"):
		w.Header().Set("ETag", `"etag"`)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/media/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/media/")
		f.polls[id]++
		status := "processing"
		if f.polls[id] > 1 && !strings.HasSuffix(id, "3") { // ids ending in 3 never settle
			status = "ready"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"media_id": id, "status": status})
	case r.URL.Path == "/v1/feed":
		if f.feed503.CompareAndSwap(false, true) {
			http.Error(w, "slow down", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": []map[string]any{{"media_id": "00000000-0000-4000-8000-000000000001", "status": "ready"}}})
	case strings.HasSuffix(r.URL.Path, "/like"):
		w.WriteHeader(http.StatusNoContent)
	case strings.HasSuffix(r.URL.Path, "/comments"):
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"comment_id":"c1"}`))
	default:
		http.NotFound(w, r)
	}
}

func TestRunCountsEveryUploadAndRequest(t *testing.T) {
	fake := &fakeStack{polls: map[string]int{}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	require.NoError(t, os.WriteFile(clip, []byte("video"), 0o644))

	var progress atomic.Int32
	score, err := Run(context.Background(), Options{
		Users: 3, Duration: 2 * time.Second, Drain: 4 * time.Second, Clips: []string{clip},
		SignIn: func(ctx context.Context, i int) (*mediaclient.Client, error) {
			return &mediaclient.Client{BaseURL: srv.URL, Token: fmt.Sprint("user-", i), API: srv.Client(), Storage: srv.Client()}, nil
		},
		FeedURL:   srv.URL,
		FleetSize: func(context.Context) (int, error) { return 2, nil },
		Progress:  func(Scorecard) { progress.Add(1) },
		Faults: []Fault{{Name: "api-down", Inject: func(ctx context.Context) error {
			fake.down.Store(true)
			defer fake.down.Store(false)
			time.Sleep(300 * time.Millisecond)
			return nil
		}}},
	})
	require.NoError(t, err)

	require.Len(t, score.Faults, 1)
	fault := score.Faults[0]
	assert.Equal(t, "api-down", fault.Name)
	assert.InDelta(t, 1, fault.StartS, 0.5, "the one fault is at half the duration")
	assert.InDelta(t, fault.StartS+0.3, fault.EndS, 0.2, "its window is the injection's")
	assert.Positive(t, fault.Errors5xx, "the 503s of the fault's window are the fault's")
	assert.Empty(t, fault.Error)
	assert.Equal(t, 1, score.Requests.Errors5xxOutsideFaults, "the feed's one 503, before the fault, is the stack's")

	require.Positive(t, score.Uploads.Attempted)
	assert.Equal(t, score.Uploads.Attempted, score.Uploads.Ready+score.Uploads.Failed+score.Uploads.Lost, "every acknowledged upload is accounted for")
	never := 0
	for i := 1; i <= fake.uploads; i++ {
		if i%10 == 3 {
			never++
		}
	}
	assert.Equal(t, never, score.Uploads.Lost, "the uploads that never settle are lost")
	assert.Len(t, score.LostMedia, score.Uploads.Lost)
	assert.Equal(t, 1+fault.Errors5xx, score.Requests.Errors5xx, "the feed's one 503, and the fault's")
	assert.Positive(t, score.Routes["PUT s3 (presigned)"].Count)
	assert.Positive(t, score.Routes["GET /v1/media/{id}"].Count, "ids are folded into the route")
	assert.Positive(t, score.Routes["PUT /v1/media/{id}/like"].Count, "users like")
	assert.Positive(t, score.Routes["POST /v1/media/{id}/comments"].Count, "and comment")
	assert.Positive(t, score.TimeToReady.P50)
	assert.GreaterOrEqual(t, score.TimeToReady.P99, score.TimeToReady.P50)
	assert.NotEmpty(t, score.Fleet)
	assert.Positive(t, progress.Load(), "progress is reported while it runs")

	data, err := json.Marshal(score)
	require.NoError(t, err)
	var contract struct {
		Uploads  struct{ Attempted, Ready, Failed, Lost *int }
		Requests struct {
			Total     *int
			Errors5xx *int `json:"errors_5xx"`
		}
		TimeToReady struct{ P50, P99 *float64 } `json:"time_to_ready_s"`
	}
	require.NoError(t, json.Unmarshal(data, &contract))
	assert.NotNil(t, contract.Uploads.Lost, "uploads.lost")
	assert.NotNil(t, contract.Requests.Total, "requests.total")
	assert.NotNil(t, contract.Requests.Errors5xx, "requests.errors_5xx")
	assert.NotNil(t, contract.TimeToReady.P99, "time_to_ready_s.p99")
}

func TestOptionsAreBounded(t *testing.T) {
	ok := Options{Users: 1, Duration: time.Second, Clips: []string{"clip.mp4"}, SignIn: func(context.Context, int) (*mediaclient.Client, error) { return nil, nil }}
	require.NoError(t, ok.Validate())
	for name, o := range map[string]Options{
		"too many users": {Users: MaxUsers + 1, Duration: time.Second, Clips: ok.Clips, SignIn: ok.SignIn},
		"too long":       {Users: 1, Duration: MaxDuration + time.Second, Clips: ok.Clips, SignIn: ok.SignIn},
		"no clips":       {Users: 1, Duration: time.Second, SignIn: ok.SignIn},
	} {
		assert.Error(t, o.Validate(), name)
	}
}

func TestPercentilesByNearestRank(t *testing.T) {
	var v []float64
	for i := 1; i <= 100; i++ {
		v = append(v, float64(i))
	}
	assert.Equal(t, Percentiles{P50: 50, P95: 95, P99: 99}, percentiles(v))
	assert.Equal(t, Percentiles{}, percentiles(nil))
	assert.Equal(t, Percentiles{P50: 7, P95: 7, P99: 7}, percentiles([]float64{7}))
}
