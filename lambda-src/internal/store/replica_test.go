package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/postgres"
)

// TestReadsThatMayLagGoToTheReplica runs against a primary and a hot standby of it whose
// replay is paused: a replica lagging as long as the test needs.
func TestReadsThatMayLagGoToTheReplica(t *testing.T) {
	ctx := context.Background()
	primary := postgres.StartT(t)
	db := primary.DatabaseT(t)
	cfg := Config{Host: db.Host, Port: db.Port, Database: db.Name, User: db.User, Password: db.Password}
	writer, err := Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(writer.Close)
	require.NoError(t, writer.Migrate(ctx))
	standby, err := primary.StartStandby(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, standby.Stop()) })
	cfg.ReplicaHost, cfg.ReplicaPort = standby.Host, standby.Port
	s, err := Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	require.NoError(t, s.Ping(ctx), "both answer")

	require.NoError(t, standby.PauseReplay(ctx, true))
	m := shared(t, s, "alice", VisibilityPublic, true)

	own, err := s.GetForOwner(ctx, "alice", m.ID)
	require.NoError(t, err, "the writer reads their own write at once, whatever the lag")
	assert.Equal(t, StatusReady, own.Status)
	_, err = s.GetVisible(ctx, "alice", m.ID)
	require.NoError(t, err, "also as a viewer of their own media")
	_, err = s.GetVisible(ctx, "", m.ID)
	assert.ErrorIs(t, err, ErrNotFound, "anyone else reads the replica, which has not replayed it yet")
	feed, _, err := s.Feed(ctx, "", "", 10)
	require.NoError(t, err)
	assert.Empty(t, feed, "the feed is read from the replica")

	require.NoError(t, standby.PauseReplay(ctx, false))
	require.Eventually(t, func() bool {
		feed, _, err := s.Feed(ctx, "", "", 10)
		return err == nil && len(feed) == 1
	}, 10*time.Second, 20*time.Millisecond, "it appears once the replica catches up")
	_, err = s.GetVisible(ctx, "", m.ID)
	assert.NoError(t, err)

	require.NoError(t, standby.PauseReplay(ctx, true))
	title := "Renamed"
	_, err = s.Update(ctx, "alice", m.ID, Changes{Title: &title})
	require.NoError(t, err)
	seen, err := s.GetVisible(ctx, "alice", m.ID)
	require.NoError(t, err)
	assert.Equal(t, "Renamed", seen.Title, "the owner sees their edit at once, though the replica still has the old title")
	require.NoError(t, standby.PauseReplay(ctx, false))

	require.NoError(t, s.Like(ctx, "bob", m.ID), "writes go to the primary even with a replica")
	require.NoError(t, standby.Stop())
	assert.ErrorContains(t, s.Ping(ctx), "read replica", "readiness names the replica when it is gone")
}
