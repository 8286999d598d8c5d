package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The transcoder's transitions. S3 and SQS deliver at least once, so the same upload can
// reach several transcoders, even at the same moment. A transcoder first claims the row: the
// claim is a random token with a lease, granted by one transaction that locks the row, so
// exactly one caller holds it at a time. Every later transition is conditional on the token,
// and the status event is owed (notified_at NULL) until the holder records it as sent.
//
//	pending_upload/uploaded ──Claim──► processing ──MarkReady──► ready  ──MarkNotified
//	                 ▲                     │      ──MarkFailed──► failed ──MarkNotified
//	                 └──────Release────────┘
//
// A claim of a processing row is granted again once its lease expired (the holder died), of
// a terminal row whose event is still owed (the holder died before sending it). Everything
// else is ErrBusy (someone holds a live lease: retry later) or ErrDone (nothing left to do).

var (
	// ErrBusy: another transcoder holds a live claim; retry once it can have ended (the
	// error is a *BusyError that says when).
	ErrBusy = errors.New("media is being processed by another worker")
	// ErrDone: the media reached a terminal status and its event was sent.
	ErrDone = errors.New("media already processed")
	// ErrOwnerMismatch: the object key names another owner than the row; never retry.
	ErrOwnerMismatch = errors.New("object key owner does not match the media's owner")
	// ErrClaimLost: the claim expired and someone else took the row over.
	ErrClaimLost = errors.New("claim lost")
	// ErrDeleted: the owner deleted the media; drop the job and what it wrote.
	ErrDeleted = errors.New("media was deleted")
)

// BusyError is the ErrBusy of a claim held by someone else, with the time left on its
// lease: the earliest moment a retry can be granted the claim.
type BusyError struct {
	LeaseLeft time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s (its claim ends in %s)", ErrBusy, e.LeaseLeft.Round(time.Second))
}

// Is makes errors.Is(err, ErrBusy) hold.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// Action is what a claim entitles its holder to do.
type Action int

const (
	ActionTranscode Action = iota + 1 // transcode, then MarkReady or MarkFailed
	ActionNotify                      // only send the owed event of Media.Status, then MarkNotified
	ActionDispatch                    // send the jobs of the chunks still pending, then Release (see StartChunks)
)

// ClaimRequest identifies an uploaded original.
type ClaimRequest struct {
	ID          string
	Owner       string
	OriginalKey string
	SizeBytes   int64 // from the upload notification; 0 keeps what the row has
}

// Claim is a granted claim.
type Claim struct {
	Token   string
	Action  Action
	Attempt int // how many transcode claims the row has had, this one included
	Media   Media
	// Rederive: the claim makes a ready media's derivatives again (see ClaimRederive); it
	// publishes no event.
	Rederive bool
}

// Claim claims the media for lease. A row that the upload API did not create (an original
// put into the bucket directly) is created as uploaded, so that every original ends in a
// row with a status.
func (s *Store) Claim(ctx context.Context, req ClaimRequest, lease time.Duration) (Claim, error) {
	if _, err := uuid.Parse(req.ID); err != nil {
		return Claim{}, fmt.Errorf("claim: media id %q is not a UUID", req.ID)
	}
	var c Claim
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO media (id, owner, original_key, size_bytes, status, uploaded_at)
			VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT DO NOTHING`,
			req.ID, req.Owner, req.OriginalKey, req.SizeBytes, StatusUploaded); err != nil {
			return err
		}
		var (
			owner     string
			status    Status
			leaseLeft float64 // milliseconds, 0 when no lease is live
			notified  bool
			deleted   bool
			chunks    int
		)
		// FOR UPDATE: concurrent claimers queue here and see each other's outcome.
		err := tx.QueryRow(ctx, `SELECT owner, status,
				greatest(coalesce(extract(epoch FROM lease_until - now()) * 1000, 0), 0)::float8, notified_at IS NOT NULL,
				deleted_at IS NOT NULL, chunks
			FROM media WHERE id = $1 FOR UPDATE`, req.ID).Scan(&owner, &status, &leaseLeft, &notified, &deleted, &chunks)
		if errors.Is(err, pgx.ErrNoRows) {
			// The original key is taken by another id: not an upload of this contract.
			return ErrOwnerMismatch
		}
		if err != nil {
			return err
		}
		if owner != req.Owner {
			return ErrOwnerMismatch
		}
		switch {
		case deleted:
			return ErrDeleted
		case status.Terminal() && notified:
			return ErrDone
		case leaseLeft > 0:
			return &BusyError{LeaseLeft: time.Duration(leaseLeft * float64(time.Millisecond))}
		case status.Terminal():
			c.Action = ActionNotify
		case chunks > 0:
			c.Action = ActionDispatch
		default:
			c.Action = ActionTranscode
		}
		if c.Action != ActionTranscode {
			return grant(ctx, tx, &c, req.ID, lease, "")
		}
		return grant(ctx, tx, &c, req.ID, lease, `, status = 'processing', attempts = attempts + 1, error = '',
			uploaded_at = coalesce(uploaded_at, now()), size_bytes = CASE WHEN $4 > 0 THEN $4 ELSE size_bytes END`, req.SizeBytes)
	})
	if err != nil {
		if errors.Is(err, ErrBusy) || errors.Is(err, ErrDone) || errors.Is(err, ErrOwnerMismatch) || errors.Is(err, ErrDeleted) {
			return Claim{}, err
		}
		return Claim{}, fmt.Errorf("claim media: %w", err)
	}
	return c, nil
}

// grant gives the row with id, which tx has locked, a new claim for lease: c's token, media
// and attempts. set adds assignments, whose parameters (args) are numbered from $4.
func grant(ctx context.Context, tx pgx.Tx, c *Claim, id string, lease time.Duration, set string, args ...any) error {
	c.Token = uuid.NewString()
	var err error
	c.Media, err = scanMedia(tx.QueryRow(ctx, `UPDATE media SET claim_token = $2, lease_until = now() + $3 * interval '1 millisecond',
		updated_at = now()`+set+` WHERE id = $1 RETURNING `+columns+`, attempts`,
		append([]any{id, c.Token, lease.Milliseconds()}, args...)...), &c.Attempt)
	return err
}

// Extend renews the claim's lease while its holder works.
func (s *Store) Extend(ctx context.Context, c Claim, lease time.Duration) error {
	return s.conditional(ctx, "extend claim", `UPDATE media SET lease_until = now() + $3 * interval '1 millisecond'
		WHERE id = $1 AND claim_token = $2`, c.Media.ID, c.Token, lease.Milliseconds())
}

// Result is what a transcode produced.
type Result struct {
	DurationS  float64
	Width      int // of the displayed picture, rotation applied
	Height     int
	Renditions []Rendition
	HLSKey     string
	DASHKey    string
	PosterKey  string
	Thumbnails *Thumbnails // nil when none were made
	// DerivativeCount is how many objects were published, which the reconciler counts.
	DerivativeCount int
}

// MarkReady records the derivatives and makes the media ready (a public one enters the
// feed). The claim stays held until MarkNotified, so that no one else sends the ready event
// meanwhile. ErrDeleted: the owner deleted the media while it was transcoded.
func (s *Store) MarkReady(ctx context.Context, c Claim, r Result) (Media, error) {
	if r.Renditions == nil {
		r.Renditions = []Rendition{}
	}
	// Made again, the media keeps its place in the feed.
	return s.transition(ctx, "mark ready", `UPDATE media SET status = 'ready', error = '', is_transcoded = true, chunks = 0,
		duration_s = $3, width = $4, height = $5, renditions = $6, hls_key = $7, poster_key = $8, thumbnails = $9, dash_key = $10,
		derivative_count = $11, checked_at = now(), updated_at = now(),
		published_at = CASE WHEN visibility = 'public' AND NOT rederiving THEN now() ELSE published_at END
		WHERE id = $1 AND claim_token = $2 AND `+inFlight+` AND `+live+` RETURNING `+columns,
		c.Media.ID, c.Token, r.DurationS, r.Width, r.Height, r.Renditions, r.HLSKey, r.PosterKey, r.Thumbnails, r.DASHKey, r.DerivativeCount)
}

// MarkFailed makes the media failed for good, with a reason for its owner.
func (s *Store) MarkFailed(ctx context.Context, c Claim, reason string) (Media, error) {
	return s.transition(ctx, "mark failed", `UPDATE media SET status = 'failed', error = $3, is_transcoded = false, chunks = 0, updated_at = now()
		WHERE id = $1 AND claim_token = $2 AND status = 'processing' AND `+live+` RETURNING `+columns,
		c.Media.ID, c.Token, reason)
}

// MarkNotified records that the terminal status's event was sent and ends the claim (a
// re-derivation's too, which sends none).
func (s *Store) MarkNotified(ctx context.Context, c Claim) error {
	return s.conditional(ctx, "mark notified", `UPDATE media SET notified_at = coalesce(notified_at, now()), claim_token = NULL,
		lease_until = NULL, rederiving = false WHERE id = $1 AND claim_token = $2 AND status IN ('ready', 'failed')`, c.Media.ID, c.Token)
}

// Release gives a transcode claim back after a transient error, so that the next delivery
// claims it at once; reason is kept in the error column meanwhile (a media made again stays
// ready, without one).
func (s *Store) Release(ctx context.Context, c Claim, reason string) error {
	return s.conditional(ctx, "release claim", `UPDATE media SET status = CASE WHEN rederiving THEN status ELSE 'uploaded' END,
		error = CASE WHEN rederiving THEN error ELSE $3 END, claim_token = NULL, lease_until = NULL, updated_at = now()
		WHERE id = $1 AND claim_token = $2 AND `+inFlight, c.Media.ID, c.Token, reason)
}

// Forward gives a transcode claim back for another transcoder (the worker fleet) to take:
// as Release, without counting the attempt against the media.
func (s *Store) Forward(ctx context.Context, c Claim) error {
	return s.conditional(ctx, "forward claim", `UPDATE media SET status = CASE WHEN rederiving THEN status ELSE 'uploaded' END,
		attempts = greatest(attempts - 1, 0), claim_token = NULL, lease_until = NULL, updated_at = now()
		WHERE id = $1 AND claim_token = $2 AND `+inFlight, c.Media.ID, c.Token)
}

// transition runs a conditional UPDATE of the row args[0] names and returns it; no row is
// lostOrDeleted.
func (s *Store) transition(ctx context.Context, what, query string, args ...any) (Media, error) {
	m, err := scanMedia(s.pool.QueryRow(ctx, query, args...))
	if errors.Is(err, ErrNotFound) {
		return Media{}, s.lostOrDeleted(ctx, what, args[0])
	}
	if err != nil {
		return Media{}, fmt.Errorf("%s: %w", what, err)
	}
	return m, nil
}

// conditional runs a conditional UPDATE of the row args[0] names; no row is lostOrDeleted.
func (s *Store) conditional(ctx context.Context, what, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if tag.RowsAffected() == 0 {
		return s.lostOrDeleted(ctx, what, args[0])
	}
	return nil
}

// lostOrDeleted says why a claim's update found no row: ErrDeleted when the owner deleted
// the media meanwhile (its holder drops the job and removes what it wrote), ErrClaimLost
// otherwise.
func (s *Store) lostOrDeleted(ctx context.Context, what string, id any) error {
	var deleted bool
	if err := s.pool.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM media WHERE id = $1`, id).Scan(&deleted); err == nil && deleted {
		return fmt.Errorf("%s: %w", what, ErrDeleted)
	}
	return fmt.Errorf("%s: %w", what, ErrClaimLost)
}
