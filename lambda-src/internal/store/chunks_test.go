package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunked records a media with three chunks, as the upload's job does, and returns it.
func chunked(t *testing.T, s *Store) Media {
	t.Helper()
	ctx := context.Background()
	m := newMedia("alice")
	require.NoError(t, s.Create(ctx, m))
	c, err := s.Claim(ctx, claimRequest(m), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.StartChunks(ctx, c, []Span{{0, 0, 4, false}, {1, 4, 8, false}, {2, 8, 10, true}}))
	return m
}

// TestTheLastChunkAssemblesOnce completes the last two chunks at the same moment, many
// times: exactly one completer gets the media's claim for the assembly.
func TestTheLastChunkAssemblesOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for range 10 {
		m := chunked(t, s)
		first, err := s.ClaimChunk(ctx, m.ID, 0, time.Minute)
		require.NoError(t, err)
		a, err := s.CompleteChunk(ctx, first, map[string]int{"chunk": 0}, time.Minute)
		require.NoError(t, err)
		require.Nil(t, a, "chunks are pending")

		var claims []ChunkClaim
		for _, i := range []int{1, 2} {
			cc, err := s.ClaimChunk(ctx, m.ID, i, time.Minute)
			require.NoError(t, err)
			claims = append(claims, cc)
		}
		var wg sync.WaitGroup
		got := make([]*Claim, 2)
		for i, cc := range claims {
			wg.Go(func() {
				var err error
				got[i], err = s.CompleteChunk(ctx, cc, map[string]int{"chunk": cc.Span.Index}, time.Minute)
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		assert.True(t, (got[0] == nil) != (got[1] == nil), "one completer assembles")
		parts, err := s.ChunkParts(ctx, m.ID)
		require.NoError(t, err)
		assert.Len(t, parts, 3)
	}
}

func TestChunkClaims(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	t.Run("busy while held, free once its lease ends", func(t *testing.T) {
		m := chunked(t, s)
		_, err := s.ClaimChunk(ctx, m.ID, 1, 300*time.Millisecond)
		require.NoError(t, err)
		_, err = s.ClaimChunk(ctx, m.ID, 1, time.Minute)
		var busy *BusyError
		require.ErrorAs(t, err, &busy)
		time.Sleep(400 * time.Millisecond)
		again, err := s.ClaimChunk(ctx, m.ID, 1, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 2, again.Attempt, "a killed attempt counts")
	})

	t.Run("a completed chunk is done", func(t *testing.T) {
		m := chunked(t, s)
		cc, err := s.ClaimChunk(ctx, m.ID, 0, time.Minute)
		require.NoError(t, err)
		_, err = s.CompleteChunk(ctx, cc, "part", time.Minute)
		require.NoError(t, err)
		_, err = s.ClaimChunk(ctx, m.ID, 0, time.Minute)
		assert.ErrorIs(t, err, ErrDone)
	})

	t.Run("a claim of the upload dispatches the recorded chunks", func(t *testing.T) {
		m := chunked(t, s)
		c, err := s.Claim(ctx, claimRequest(m), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, ActionDispatch, c.Action)
		assert.Equal(t, 1, c.Attempt, "no new attempt")
		pending, err := s.PendingChunks(ctx, m.ID)
		require.NoError(t, err)
		assert.Len(t, pending, 3)
	})

	t.Run("deleted media stops its chunks", func(t *testing.T) {
		m := chunked(t, s)
		cc, err := s.ClaimChunk(ctx, m.ID, 0, time.Minute)
		require.NoError(t, err)
		_, _, err = s.Delete(ctx, "alice", m.ID, func(Media) error { return nil })
		require.NoError(t, err)
		assert.ErrorIs(t, s.ExtendChunk(ctx, cc, time.Minute), ErrDeleted)
		_, err = s.CompleteChunk(ctx, cc, "part", time.Minute)
		assert.ErrorIs(t, err, ErrDeleted)
		_, err = s.ClaimChunk(ctx, m.ID, 1, time.Minute)
		assert.ErrorIs(t, err, ErrDeleted)
	})

	t.Run("a chunk that cannot be encoded fails the media once", func(t *testing.T) {
		m := chunked(t, s)
		c, err := s.FailChunked(ctx, m.ID, "chunk 1: cannot transcode the video")
		require.NoError(t, err)
		assert.Equal(t, StatusFailed, c.Media.Status)
		assert.Equal(t, "chunk 1: cannot transcode the video", c.Media.Error)
		require.NoError(t, s.MarkNotified(ctx, c))
		_, err = s.FailChunked(ctx, m.ID, "again")
		assert.True(t, errors.Is(err, ErrClaimLost), "only a media in flight fails: %v", err)
		_, err = s.ClaimChunk(ctx, m.ID, 2, time.Minute)
		assert.ErrorIs(t, err, ErrDone)
	})
}
