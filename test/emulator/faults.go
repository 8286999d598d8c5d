package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// S3SlowDown is the emulator's S3 throttling fault: for Remaining, Share of the S3 requests
// that SDKs sign are answered 503 SlowDown (see moto_server.py). Injected counts them.
type S3SlowDown struct {
	Share     float64
	Remaining time.Duration
	Injected  int
}

type faultsState struct {
	S3SlowDown struct {
		Share      float64 `json:"share"`
		RemainingS float64 `json:"remaining_s"`
		Injected   int     `json:"injected"`
	} `json:"s3_slow_down"`
}

// SlowDownS3 answers share (0 to 1) of the SDKs' S3 requests with 503 SlowDown for d, as S3
// does to a prefix over its request rate; the SDKs' retries should absorb it. A call replaces
// the previous one; share 0 ends it.
func (e *Emulator) SlowDownS3(ctx context.Context, share float64, d time.Duration) error {
	body, err := json.Marshal(map[string]any{"s3_slow_down": map[string]float64{"share": share, "seconds": d.Seconds()}})
	if err != nil {
		return err
	}
	_, err = e.faults(ctx, http.MethodPost, body)
	return err
}

// S3SlowDownState reads the S3 throttling fault's settings and how many requests it answered.
func (e *Emulator) S3SlowDownState(ctx context.Context) (S3SlowDown, error) {
	s, err := e.faults(ctx, http.MethodGet, nil)
	if err != nil {
		return S3SlowDown{}, err
	}
	return S3SlowDown{
		Share:     s.S3SlowDown.Share,
		Remaining: time.Duration(s.S3SlowDown.RemainingS * float64(time.Second)),
		Injected:  s.S3SlowDown.Injected,
	}, nil
}

func (e *Emulator) faults(ctx context.Context, method string, body []byte) (faultsState, error) {
	req, err := http.NewRequestWithContext(ctx, method, e.url+"/moto-api/mediastack/faults", bytes.NewReader(body))
	if err != nil {
		return faultsState{}, err
	}
	resp, err := e.ca.HTTPClient().Do(req)
	if err != nil {
		return faultsState{}, fmt.Errorf("emulator faults: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return faultsState{}, fmt.Errorf("emulator faults: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return faultsState{}, fmt.Errorf("emulator faults: %s: %s", resp.Status, data)
	}
	var s faultsState
	if err := json.Unmarshal(data, &s); err != nil {
		return faultsState{}, fmt.Errorf("emulator faults: %w", err)
	}
	return s, nil
}
