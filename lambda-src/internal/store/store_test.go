package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/postgres"
)

func TestMain(m *testing.M) { os.Exit(postgres.RunMain(m)) }

// openDB opens a fresh database of the shared server, without migrations.
func openDB(t *testing.T) *Store {
	t.Helper()
	db := postgres.Shared(t).DatabaseT(t)
	s, err := Open(context.Background(), Config{Host: db.Host, Port: db.Port, Database: db.Name, User: db.User, Password: db.Password})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func newStore(t *testing.T) *Store {
	t.Helper()
	s := openDB(t)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

func newMedia(owner string) Media {
	id := uuid.NewString()
	return Media{ID: id, Owner: owner, Title: "Holiday", Filename: "beach.mov", ContentType: "video/quicktime",
		OriginalKey: "uploads/" + owner + "/" + id + "/original", SizeBytes: 1234}
}

func TestMigrateIsIdempotentUnderConcurrentStarters(t *testing.T) {
	s := openDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, s.Migrate(ctx), "and again later")

	var applied int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied))
	files, err := fs.Glob(migrations, "migrations/*.sql")
	require.NoError(t, err)
	assert.Equal(t, len(files), applied, "each migration once")
	var cols []string
	rows, err := s.pool.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_name = 'media'`)
	require.NoError(t, err)
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		cols = append(cols, c)
	}
	for _, want := range []string{"original_key", "owner", "title", "uploaded_at", "status", "error", "duration_s",
		"width", "height", "renditions", "is_transcoded", "created_at", "updated_at"} {
		assert.Contains(t, cols, want)
	}
}

func TestCreateAndGet(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := newMedia("alice")
	require.NoError(t, s.Create(ctx, m))
	assert.ErrorIs(t, s.Create(ctx, m), ErrConflict)

	got, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusPendingUpload, got.Status)
	assert.Equal(t, m.Title, got.Title)
	assert.Equal(t, m.OriginalKey, got.OriginalKey)
	assert.Equal(t, int64(1234), got.SizeBytes)
	assert.False(t, got.IsTranscoded)
	assert.Empty(t, got.Renditions)
	assert.Nil(t, got.UploadedAt)
	assert.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute)

	mine, err := s.GetForOwner(ctx, "alice", m.ID)
	require.NoError(t, err)
	assert.Equal(t, got, mine)
	_, err = s.GetForOwner(ctx, "mallory", m.ID)
	assert.ErrorIs(t, err, ErrNotFound, "another owner's media looks absent")
	_, err = s.Get(ctx, uuid.NewString())
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Get(ctx, "not-a-uuid")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Error(t, s.Create(ctx, Media{ID: "x", Owner: "alice", OriginalKey: "k"}))
}

func TestListByOwnerPaginatesNewestFirst(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var ids []string
	for range 7 {
		m := newMedia("alice")
		require.NoError(t, s.Create(ctx, m))
		ids = append([]string{m.ID}, ids...) // newest first
	}
	require.NoError(t, s.Create(ctx, newMedia("bob")))

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5, "pagination must end")
		page, next, err := s.ListByOwner(ctx, "alice", cursor, 3)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(page), 3)
		for _, m := range page {
			assert.Equal(t, "alice", m.Owner)
			got = append(got, m.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	assert.Equal(t, ids, got)

	all, next, err := s.ListByOwner(ctx, "alice", "", 0)
	require.NoError(t, err)
	assert.Len(t, all, 7)
	assert.Empty(t, next)
	none, _, err := s.ListByOwner(ctx, "carol", "", 10)
	require.NoError(t, err)
	assert.Empty(t, none)
	_, _, err = s.ListByOwner(ctx, "alice", "garbage", 10)
	assert.ErrorIs(t, err, ErrInvalidCursor)
}

func claimRequest(m Media) ClaimRequest {
	return ClaimRequest{ID: m.ID, Owner: m.Owner, OriginalKey: m.OriginalKey, SizeBytes: 4321}
}

func TestClaimLifecycle(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := newMedia("alice")
	require.NoError(t, s.Create(ctx, m))

	c, err := s.Claim(ctx, claimRequest(m), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, ActionTranscode, c.Action)
	assert.Equal(t, 1, c.Attempt)
	assert.Equal(t, StatusProcessing, c.Media.Status)
	assert.Equal(t, int64(4321), c.Media.SizeBytes, "the uploaded size replaces the announced one")
	assert.NotNil(t, c.Media.UploadedAt)
	assert.Equal(t, "Holiday", c.Media.Title)

	_, err = s.Claim(ctx, claimRequest(m), time.Minute)
	assert.ErrorIs(t, err, ErrBusy, "a duplicate waits for the holder")
	var busy *BusyError
	require.ErrorAs(t, err, &busy)
	assert.InDelta(t, time.Minute.Seconds(), busy.LeaseLeft.Seconds(), 5, "for as long as the holder's lease lasts")
	require.NoError(t, s.Extend(ctx, c, 10*time.Second))
	_, err = s.Claim(ctx, claimRequest(m), time.Minute)
	require.ErrorAs(t, err, &busy)
	assert.InDelta(t, 10, busy.LeaseLeft.Seconds(), 5, "a renewal sets what is left")
	require.NoError(t, s.Extend(ctx, c, time.Minute))

	renditions := []Rendition{{Height: 720, Width: 1280, Key: m.ID + "/720p.mp4", Bytes: 99}}
	ready, err := s.MarkReady(ctx, c, Result{DurationS: 1.5, Width: 1280, Height: 720, Renditions: renditions,
		HLSKey: m.ID + "/hls/master.m3u8", PosterKey: m.ID + "/poster.jpg"})
	require.NoError(t, err)
	assert.Equal(t, StatusReady, ready.Status)
	assert.True(t, ready.IsTranscoded)
	assert.Equal(t, renditions, ready.Renditions)
	assert.InDelta(t, 1.5, ready.DurationS, 1e-9)

	_, err = s.MarkFailed(ctx, c, "late")
	assert.ErrorIs(t, err, ErrClaimLost, "ready is terminal")
	_, err = s.Claim(ctx, claimRequest(m), time.Minute)
	assert.ErrorIs(t, err, ErrBusy, "until the holder sent the event")
	require.NoError(t, s.MarkNotified(ctx, c))
	_, err = s.Claim(ctx, claimRequest(m), time.Minute)
	assert.ErrorIs(t, err, ErrDone)
	assert.ErrorIs(t, s.MarkNotified(ctx, c), ErrClaimLost, "the claim ended")

	got, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, ready.Renditions, got.Renditions)
}

func TestClaimAfterReleaseAndExpiry(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := newMedia("alice")
	require.NoError(t, s.Create(ctx, m))

	c1, err := s.Claim(ctx, claimRequest(m), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Release(ctx, c1, "s3 timeout"))
	got, err := s.Get(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusUploaded, got.Status)
	assert.Equal(t, "s3 timeout", got.Error)

	// A holder that dies leaves a lease that expires.
	c2, err := s.Claim(ctx, claimRequest(m), time.Millisecond)
	require.NoError(t, err)
	assert.Equal(t, 2, c2.Attempt)
	var c3 Claim
	require.Eventually(t, func() bool { c3, err = s.Claim(ctx, claimRequest(m), time.Minute); return err == nil }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 3, c3.Attempt)
	_, err = s.MarkReady(ctx, c2, Result{})
	assert.ErrorIs(t, err, ErrClaimLost, "the old holder lost its claim")
	assert.ErrorIs(t, s.Extend(ctx, c2, time.Minute), ErrClaimLost)

	// A holder that dies after marking failed but before notifying: the event is still owed.
	failed, err := s.MarkFailed(ctx, c3, "not a video")
	require.NoError(t, err)
	assert.Equal(t, StatusFailed, failed.Status)
	assert.Equal(t, "not a video", failed.Error)
	require.NoError(t, s.Extend(ctx, c3, time.Millisecond))
	var c4 Claim
	require.Eventually(t, func() bool { c4, err = s.Claim(ctx, claimRequest(m), time.Minute); return err == nil }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, ActionNotify, c4.Action)
	assert.Equal(t, StatusFailed, c4.Media.Status)
	require.NoError(t, s.MarkNotified(ctx, c4))
	_, err = s.Claim(ctx, claimRequest(m), time.Minute)
	assert.ErrorIs(t, err, ErrDone)
}

func TestConcurrentClaimsGrantOne(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := newMedia("alice") // no row: an original that did not come through the API
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
		busy    int
	)
	for range 8 {
		wg.Go(func() {
			_, err := s.Claim(ctx, claimRequest(m), time.Minute)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				granted++
			case errors.Is(err, ErrBusy):
				busy++
			default:
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, granted)
	assert.Equal(t, 7, busy)
	var rows int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM media WHERE id = $1`, m.ID).Scan(&rows))
	assert.Equal(t, 1, rows)
}

func TestClaimRejectsAnotherOwnersKey(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	m := newMedia("alice")
	require.NoError(t, s.Create(ctx, m))
	req := claimRequest(m)
	req.Owner = "mallory"
	_, err := s.Claim(ctx, req, time.Minute)
	assert.ErrorIs(t, err, ErrOwnerMismatch)
	_, err = s.Claim(ctx, ClaimRequest{ID: "nope", Owner: "alice", OriginalKey: "k"}, time.Minute)
	assert.Error(t, err)
}

type fakeSecrets struct{ value *string }

func (f fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if aws.ToString(in.SecretId) != "arn:secret" {
		return nil, fmt.Errorf("no secret %s", aws.ToString(in.SecretId))
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: f.value}, nil
}

func TestConfigFromSecret(t *testing.T) {
	ctx := context.Background()
	cfg, err := ConfigFromSecret(ctx, fakeSecrets{aws.String(`{"username":"media","password":"p@ss:/word","engine":"postgres"}`)}, "arn:secret", "db.example", 5432, "media")
	require.NoError(t, err)
	assert.Equal(t, Config{Host: "db.example", Port: 5432, Database: "media", User: "media", Password: "p@ss:/word"}, cfg)
	assert.Contains(t, cfg.URL(), "sslmode=prefer")

	for name, value := range map[string]*string{"not json": aws.String("hunter2"), "no password": aws.String(`{"username":"u"}`), "binary": nil} {
		t.Run(name, func(t *testing.T) {
			_, err := ConfigFromSecret(ctx, fakeSecrets{value}, "arn:secret", "h", 5432, "d")
			assert.Error(t, err)
		})
	}
	_, err = ConfigFromSecret(ctx, fakeSecrets{}, "arn:other", "h", 5432, "d")
	assert.ErrorContains(t, err, "read database secret")
}

func TestOpenFailsWithAWrongPassword(t *testing.T) {
	db := postgres.Shared(t).DatabaseT(t)
	_, err := Open(context.Background(), Config{Host: db.Host, Port: db.Port, Database: db.Name, User: db.User, Password: "wrong"})
	assert.ErrorContains(t, err, "password authentication failed")
}
