package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ready records a public media transcoded and announced, with count derivatives.
func ready(t *testing.T, s *Store, count int) Media {
	t.Helper()
	ctx := context.Background()
	m := newMedia("alice")
	m.Visibility, m.Region = VisibilityPublic, "us-east-1"
	require.NoError(t, s.Create(ctx, m))
	c, err := s.Claim(ctx, claimRequest(m), time.Minute)
	require.NoError(t, err)
	_, err = s.MarkReady(ctx, c, Result{HLSKey: m.ID + "/stream/master.m3u8", DerivativeCount: count})
	require.NoError(t, err)
	require.NoError(t, s.MarkNotified(ctx, c))
	got, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	return got
}

// TestRederiveKeepsTheMediaReady makes a media's derivatives again: it stays ready and keeps
// its place in the feed, one re-derivation holds the claim at a time, and its end leaves
// the media as it was, announced.
func TestRederiveKeepsTheMediaReady(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := ready(t, s, 12)
	assert.Equal(t, 12, m.DerivativeCount)

	c, err := s.ClaimRederive(ctx, m.ID, time.Minute)
	require.NoError(t, err)
	assert.True(t, c.Rederive)
	assert.Equal(t, ActionTranscode, c.Action)
	assert.Equal(t, 1, c.Attempt, "a re-derivation counts its own attempts")
	_, err = s.ClaimRederive(ctx, m.ID, time.Minute)
	assert.ErrorIs(t, err, ErrBusy, "one at a time")
	_, err = s.Claim(ctx, claimRequest(m), time.Minute)
	assert.ErrorIs(t, err, ErrDone, "a late delivery of the upload changes nothing")
	feed, _, err := s.Feed(ctx, "", "", 10)
	require.NoError(t, err)
	require.Len(t, feed, 1, "still in the feed")

	require.NoError(t, s.Release(ctx, c, "transient"))
	got, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusReady, got.Status, "a released re-derivation leaves the media ready")
	assert.Empty(t, got.Error)
	c, err = s.ClaimRederive(ctx, m.ID, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Attempt)

	again, err := s.MarkReady(ctx, c, Result{HLSKey: m.HLSKey, DerivativeCount: 13})
	require.NoError(t, err)
	assert.Equal(t, m.PublishedAt, again.PublishedAt, "it keeps its place in the feed")
	require.NoError(t, s.MarkNotified(ctx, c))
	got, err = s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.False(t, got.Rederiving)
	assert.Equal(t, 13, got.DerivativeCount)

	// Given up: the media stays ready with what it has.
	c, err = s.ClaimRederive(ctx, m.ID, time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.EndRederive(ctx, c))
	got, err = s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusReady, got.Status)
	assert.False(t, got.Rederiving)
}

// TestRederiveInChunks: chunks of a re-derivation run as a transcode's, the media ready;
// a chunk that fails for good ends the re-derivation, not the media.
func TestRederiveInChunks(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := ready(t, s, 12)
	c, err := s.ClaimRederive(ctx, m.ID, time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.StartChunks(ctx, c, []Span{{0, 0, 4, false}, {1, 4, 10, true}}))
	c, err = s.ClaimRederive(ctx, m.ID, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, ActionDispatch, c.Action, "a redelivered job sends the pending chunks again")
	require.NoError(t, s.Extend(ctx, c, 0))

	cc, err := s.ClaimChunk(ctx, m.ID, 0, time.Minute)
	require.NoError(t, err)
	assembly, err := s.CompleteChunk(ctx, cc, map[string]int{"chunk": 0}, time.Minute)
	require.NoError(t, err)
	require.Nil(t, assembly)
	failed, err := s.FailChunked(ctx, m.ID, "chunk 1: cannot be decoded")
	require.NoError(t, err)
	assert.True(t, failed.Rederive, "the claim sends no failed event")
	assert.Equal(t, StatusReady, failed.Media.Status)
	require.NoError(t, s.MarkNotified(ctx, failed))
	got, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusReady, got.Status)
	assert.False(t, got.Rederiving)
	assert.Zero(t, got.Chunks)
	assert.True(t, got.IsTranscoded)
}

// TestDueForCheckWalksTheReadyMedia: least recently checked first, each region its own, none
// being made again.
func TestDueForCheckWalksTheReadyMedia(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a, b := ready(t, s, 1), ready(t, s, 1)
	require.NoError(t, s.MarkChecked(ctx, []string{a.ID}))
	due, err := s.DueForCheck(ctx, "us-east-1", true, 1)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, b.ID, due[0].ID, "the one checked longest ago first")
	due, err = s.DueForCheck(ctx, "eu-west-1", false, 10)
	require.NoError(t, err)
	assert.Empty(t, due, "another region checks its own")

	c, err := s.ClaimRederive(ctx, b.ID, time.Minute)
	require.NoError(t, err)
	due, err = s.DueForCheck(ctx, "us-east-1", true, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, a.ID, due[0].ID, "not the one being made again")

	// Its jobs lost, the re-derivation is taken up again once abandoned.
	require.NoError(t, s.Extend(ctx, c, 0))
	_, err = s.pool.Exec(ctx, `UPDATE media SET updated_at = now() - interval '1 hour' WHERE id = $1`, b.ID)
	require.NoError(t, err)
	due, err = s.DueForCheck(ctx, "us-east-1", true, 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	assert.True(t, due[0].Rederiving, "the abandoned one, checked longest ago")

	// Given up, it waits a day.
	c, err = s.ClaimRederive(ctx, b.ID, time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.EndRederive(ctx, c))
	due, err = s.DueForCheck(ctx, "us-east-1", true, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, a.ID, due[0].ID)
}
