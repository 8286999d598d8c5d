package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shared creates a media of owner with visibility and, when ready, runs it through the
// transcoder's transitions to ready.
func shared(t *testing.T, s *Store, owner string, vis Visibility, ready bool) Media {
	t.Helper()
	ctx := context.Background()
	m := newMedia(owner)
	m.Visibility = vis
	require.NoError(t, s.Create(ctx, m))
	if !ready {
		return m
	}
	c, err := s.Claim(ctx, claimRequest(m), time.Minute)
	require.NoError(t, err)
	got, err := s.MarkReady(ctx, c, Result{DurationS: 2, Width: 854, Height: 480, HLSKey: m.ID + "/hls/master.m3u8"})
	require.NoError(t, err)
	require.NoError(t, s.MarkNotified(ctx, c))
	return got
}

func TestExistingMediaBecomePrivate(t *testing.T) {
	s := openDB(t)
	ctx := context.Background()
	first, err := migrations.ReadFile("migrations/0001_media.sql")
	require.NoError(t, err)
	_, err = s.pool.Exec(ctx, string(first))
	require.NoError(t, err)
	_, err = s.pool.Exec(ctx, `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO schema_migrations (version) VALUES ('0001_media')`)
	require.NoError(t, err)
	id := uuid.NewString()
	_, err = s.pool.Exec(ctx, `INSERT INTO media (id, owner, title, original_key, status) VALUES ($1, 'alice', 'Old', $2, 'ready')`,
		id, "uploads/alice/"+id+"/original")
	require.NoError(t, err)

	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx), "idempotent")
	m, err := s.GetForOwner(ctx, "alice", id)
	require.NoError(t, err)
	assert.Equal(t, VisibilityPrivate, m.Visibility, "media from before sharing stay private")
	assert.Equal(t, "Old", m.Title)
	assert.Zero(t, m.Likes)
	_, err = s.GetVisible(ctx, "bob", id)
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestVisibilityDecidesWhoSees(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	public := shared(t, s, "alice", VisibilityPublic, true)
	unlisted := shared(t, s, "alice", VisibilityUnlisted, true)
	private := shared(t, s, "alice", VisibilityPrivate, true)
	unready := shared(t, s, "alice", VisibilityPublic, false)

	for _, tc := range []struct {
		media  Media
		viewer string
		sees   bool
	}{
		{public, "bob", true}, {public, "", true},
		{unlisted, "bob", true}, {unlisted, "", true},
		{private, "bob", false}, {private, "", false}, {private, "alice", true},
		{unready, "bob", false}, {unready, "alice", true},
	} {
		t.Run(fmt.Sprintf("%s %s by %q", tc.media.Visibility, tc.media.Status, tc.viewer), func(t *testing.T) {
			got, err := s.GetVisible(ctx, tc.viewer, tc.media.ID)
			if tc.sees {
				require.NoError(t, err)
				assert.Equal(t, tc.media.ID, got.ID)
			} else {
				assert.ErrorIs(t, err, ErrNotFound)
			}
		})
	}
	_, err := s.GetVisible(ctx, "bob", "not-a-uuid")
	assert.ErrorIs(t, err, ErrNotFound)
	bad := newMedia("alice")
	bad.Visibility = "friends"
	assert.ErrorContains(t, s.Create(ctx, bad), `visibility "friends"`)
}

func TestUpdateByTheOwner(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := shared(t, s, "alice", VisibilityPrivate, true)
	assert.Nil(t, m.PublishedAt, "a private media is not in the feed")

	title, desc, public := "Sunset", "Filmed from the pier.", VisibilityPublic
	got, err := s.Update(ctx, "alice", m.ID, Changes{Title: &title, Description: &desc, Visibility: &public})
	require.NoError(t, err)
	assert.Equal(t, "Sunset", got.Title)
	assert.Equal(t, desc, got.Description)
	assert.Equal(t, VisibilityPublic, got.Visibility)
	require.NotNil(t, got.PublishedAt, "becoming public enters the feed")
	again, err := s.Update(ctx, "alice", m.ID, Changes{Visibility: &public})
	require.NoError(t, err)
	assert.Equal(t, got.PublishedAt, again.PublishedAt, "staying public keeps its place")
	assert.Equal(t, "Sunset", again.Title, "nil changes nothing")

	_, err = s.Update(ctx, "bob", m.ID, Changes{Title: &title})
	assert.ErrorIs(t, err, ErrNotFound, "only the owner edits")
	wrong := Visibility("everyone")
	_, err = s.Update(ctx, "alice", m.ID, Changes{Visibility: &wrong})
	assert.ErrorContains(t, err, `visibility "everyone"`)
}

func TestFeedIsStableWhileMediaArePublished(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var want []string
	for range 5 {
		want = append([]string{shared(t, s, "alice", VisibilityPublic, true).ID}, want...) // newest first
	}
	shared(t, s, "alice", VisibilityUnlisted, true)
	shared(t, s, "alice", VisibilityPublic, false)
	require.NoError(t, s.Like(ctx, "bob", want[1]))

	var got []string
	var liked []bool
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		page, next, err := s.Feed(ctx, "bob", cursor, 2)
		require.NoError(t, err)
		for _, it := range page {
			got = append(got, it.ID)
			liked = append(liked, it.LikedByMe)
		}
		// Media published while the reader pages go to the top, never inside the pages.
		shared(t, s, "carol", VisibilityPublic, true)
		if next == "" {
			break
		}
		cursor = next
	}
	assert.Equal(t, want, got, "every public ready media once, newest first, none published meanwhile")
	assert.Equal(t, []bool{false, true, false, false, false}, liked)

	top, _, err := s.Feed(ctx, "", "", 1)
	require.NoError(t, err)
	assert.Equal(t, "carol", top[0].Owner, "a fresh read starts with the newest")
	assert.False(t, top[0].LikedByMe, "an anonymous reader liked nothing")
	_, _, err = s.Feed(ctx, "", "bogus", 10)
	assert.ErrorIs(t, err, ErrInvalidCursor)
}

func TestConcurrentLikesAreExact(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := shared(t, s, "alice", VisibilityPublic, true)
	var wg sync.WaitGroup
	errs := make([]error, 24)
	for i := range errs {
		user := fmt.Sprintf("user%d", i%20) // four of them like twice at once
		wg.Go(func() { errs[i] = s.Like(ctx, user, m.ID) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, 20, got.Likes, "one like per user")

	require.NoError(t, s.Unlike(ctx, "user3", m.ID))
	require.NoError(t, s.Unlike(ctx, "user3", m.ID), "unliking twice is fine")
	require.NoError(t, s.Unlike(ctx, "nobody", m.ID))
	got, err = s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, 19, got.Likes)

	private := shared(t, s, "alice", VisibilityPrivate, true)
	assert.ErrorIs(t, s.Like(ctx, "bob", private.ID), ErrNotFound, "no likes on what one cannot see")
	assert.ErrorIs(t, s.Like(ctx, "", m.ID), ErrNotFound, "anonymous clients cannot like")
}

func TestComments(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := shared(t, s, "alice", VisibilityUnlisted, true)
	var ids []string
	for i := range 5 {
		c, err := s.AddComment(ctx, "bob", m.ID, fmt.Sprintf("comment %d", i))
		require.NoError(t, err)
		assert.Equal(t, "bob", c.Author)
		assert.Equal(t, m.ID, c.MediaID)
		ids = append(ids, c.ID)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		page, next, err := s.Comments(ctx, "", m.ID, cursor, 2)
		require.NoError(t, err)
		for _, c := range page {
			got = append(got, c.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	assert.Equal(t, ids, got, "oldest first")

	assert.ErrorIs(t, s.DeleteComment(ctx, "mallory", m.ID, ids[0]), ErrCommentNotFound, "not theirs")
	require.NoError(t, s.DeleteComment(ctx, "bob", m.ID, ids[0]), "the author may")
	require.NoError(t, s.DeleteComment(ctx, "alice", m.ID, ids[1]), "the media's owner may")
	assert.ErrorIs(t, s.DeleteComment(ctx, "alice", m.ID, ids[1]), ErrCommentNotFound, "gone")
	assert.ErrorIs(t, s.DeleteComment(ctx, "alice", m.ID, "x"), ErrCommentNotFound)
	got2, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, got2.Comments)

	private := shared(t, s, "alice", VisibilityPrivate, true)
	_, err = s.AddComment(ctx, "bob", private.ID, "hi")
	assert.ErrorIs(t, err, ErrNotFound)
	_, _, err = s.Comments(ctx, "bob", private.ID, "", 10)
	assert.ErrorIs(t, err, ErrNotFound)

	n, oldest, err := s.CommentsSince(ctx, "bob", time.Now().Add(-time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 3, n, "bob's comments that are left")
	assert.WithinDuration(t, time.Now(), oldest, time.Minute)
	n, _, err = s.UploadsSince(ctx, "alice", time.Now().Add(-24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

// anyHolder lets every deletion through.
func anyHolder(Media) error { return nil }

// A deletion's check sees the locked row, a tombstone too, and its refusal changes nothing.
func TestDeleteAsksItsCheckFirst(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := shared(t, s, "alice", VisibilityPublic, true)
	refused := errors.New("held elsewhere")
	var seen []Media
	check := func(m Media) error { seen = append(seen, m); return refused }

	_, first, err := s.Delete(ctx, "alice", m.ID, check)
	require.ErrorIs(t, err, refused)
	assert.False(t, first)
	got, err := s.GetForOwner(ctx, "alice", m.ID)
	require.NoError(t, err, "a refused deletion deletes nothing")
	assert.Equal(t, m.ID, got.ID)

	_, _, err = s.Delete(ctx, "alice", m.ID, anyHolder)
	require.NoError(t, err)
	_, _, err = s.Delete(ctx, "alice", m.ID, check)
	require.ErrorIs(t, err, refused, "the check also decides a repeated deletion")
	require.Len(t, seen, 2)
	assert.Equal(t, m.OriginalKey, seen[1].OriginalKey, "it sees the tombstone's keys")
}

// Media recorded before rows said where they are held are claimed by the home region.
func TestUnrecordedMediaAreClaimedOnce(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	old := shared(t, s, "alice", VisibilityPublic, true)
	require.Empty(t, old.Region)
	n, err := s.ClaimUnrecorded(ctx, "us-east-1", "https://d1.cloudfront.net", "K1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	got, err := s.GetForOwner(ctx, "alice", old.ID)
	require.NoError(t, err)
	assert.Equal(t, [3]string{"us-east-1", "https://d1.cloudfront.net", "K1"}, [3]string{got.Region, got.CDNBaseURL, got.CDNKeyPairID})
	n, err = s.ClaimUnrecorded(ctx, "eu-west-1", "https://d2.cloudfront.net", "")
	require.NoError(t, err)
	assert.Zero(t, n, "recorded media keep their holder")
}

func TestDeleteLeavesATombstone(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := shared(t, s, "alice", VisibilityPublic, true)
	require.NoError(t, s.Like(ctx, "bob", m.ID))
	_, err := s.AddComment(ctx, "bob", m.ID, "nice")
	require.NoError(t, err)

	_, _, err = s.Delete(ctx, "bob", m.ID, anyHolder)
	assert.ErrorIs(t, err, ErrNotFound, "only the owner deletes")
	was, first, err := s.Delete(ctx, "alice", m.ID, anyHolder)
	require.NoError(t, err)
	assert.True(t, first)
	assert.Equal(t, m.OriginalKey, was.OriginalKey, "the keys to clean up")
	_, first, err = s.Delete(ctx, "alice", m.ID, anyHolder)
	require.NoError(t, err, "deleting again is fine")
	assert.False(t, first, "and says it was done before")

	for _, viewer := range []string{"alice", "bob", ""} {
		_, err := s.GetVisible(ctx, viewer, m.ID)
		assert.ErrorIs(t, err, ErrNotFound, viewer)
	}
	_, err = s.GetForOwner(ctx, "alice", m.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	feed, _, err := s.Feed(ctx, "", "", 10)
	require.NoError(t, err)
	assert.Empty(t, feed)
	var likes, comments int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM likes), (SELECT count(*) FROM comments)`).Scan(&likes, &comments))
	assert.Zero(t, likes+comments, "likes and comments go with it")

	_, err = s.Claim(ctx, claimRequest(m), time.Minute)
	assert.ErrorIs(t, err, ErrDeleted, "a late delivery of its upload does not bring it back")

	// A media deleted while it is transcoded: the transcoder learns it when it finishes.
	inFlight := newMedia("alice")
	require.NoError(t, s.Create(ctx, inFlight))
	c, err := s.Claim(ctx, claimRequest(inFlight), time.Minute)
	require.NoError(t, err)
	_, _, err = s.Delete(ctx, "alice", inFlight.ID, anyHolder)
	require.NoError(t, err)
	_, err = s.MarkReady(ctx, c, Result{DurationS: 1})
	assert.ErrorIs(t, err, ErrDeleted)
	_, err = s.MarkFailed(ctx, c, "late")
	assert.ErrorIs(t, err, ErrDeleted)
	assert.ErrorIs(t, s.Extend(ctx, c, time.Minute), ErrDeleted, "a renewal learns it too, so a long job stops at once")
	assert.ErrorIs(t, s.Release(ctx, c, "transient"), ErrDeleted)
}
