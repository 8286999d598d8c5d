package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Lost derivatives made again. Derivatives live on reduced-redundancy storage; when some are
// lost, the media's derivatives are made again from its original under the same keys while
// it stays ready, in the feed, with its URLs. The re-derivation holds the media's claim as a
// transcode does, so every transition of a transcode (chunks, assembly, release, routing to
// the worker fleet) applies to it; MarkReady records the derivatives again and MarkNotified
// ends it without an event: the ready event went out once.
//
//	ready ──ClaimRederive──► ready, rederiving ──MarkReady──► ready ──MarkNotified
//	                               │ ▲
//	                       Release └─┘ (a transient error); EndRederive: given up, still ready

// inFlight selects the rows a transcode or a re-derivation is working on.
const inFlight = `(status = 'processing' OR rederiving)`

// ErrNotReady: the media is not ready (still transcoding, or failed); it has no derivatives
// to make again.
var ErrNotReady = errors.New("media is not ready")

// ClaimRederive claims a ready media for making its derivatives again. As Claim: ErrBusy
// while someone holds the claim (a re-derivation in flight, or the ready event still owed),
// ErrDeleted, ErrNotFound; and ErrNotReady. A re-derivation in chunks whose chunks are
// recorded is claimed for ActionDispatch.
func (s *Store) ClaimRederive(ctx context.Context, id string, lease time.Duration) (Claim, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Claim{}, ErrNotFound
	}
	c := Claim{Rederive: true}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			status     Status
			leaseLeft  float64
			notified   bool
			deleted    bool
			rederiving bool
			chunks     int
		)
		err := tx.QueryRow(ctx, `SELECT status, greatest(coalesce(extract(epoch FROM lease_until - now()) * 1000, 0), 0)::float8,
				notified_at IS NOT NULL, deleted_at IS NOT NULL, rederiving, chunks
			FROM media WHERE id = $1 FOR UPDATE`, id).Scan(&status, &leaseLeft, &notified, &deleted, &rederiving, &chunks)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case deleted:
			return ErrDeleted
		case status != StatusReady:
			return ErrNotReady
		case leaseLeft > 0:
			return &BusyError{LeaseLeft: time.Duration(leaseLeft * float64(time.Millisecond))}
		case !notified:
			// The ready event is owed: its upload's redelivery sends it first.
			return &BusyError{LeaseLeft: 30 * time.Second}
		case rederiving && chunks > 0:
			c.Action = ActionDispatch
		default:
			c.Action = ActionTranscode
		}
		if c.Action != ActionTranscode {
			return grant(ctx, tx, &c, id, lease, "")
		}
		// Attempts count the re-derivation's own claims.
		return grant(ctx, tx, &c, id, lease, `, attempts = CASE WHEN rederiving THEN attempts + 1 ELSE 1 END, rederiving = true`)
	})
	if err != nil {
		if errors.Is(err, ErrBusy) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrDeleted) || errors.Is(err, ErrNotReady) {
			return Claim{}, err
		}
		return Claim{}, fmt.Errorf("claim re-derivation: %w", err)
	}
	return c, nil
}

// EndRederive gives up making a media's derivatives again: it stays ready with what it has,
// and the reconciler leaves it for RetryGivenUpAfter rather than trying again every run.
func (s *Store) EndRederive(ctx context.Context, c Claim) error {
	return s.conditional(ctx, "end re-derivation", `UPDATE media SET rederiving = false, chunks = 0, claim_token = NULL,
		lease_until = NULL, checked_at = now() + $3 * interval '1 millisecond', updated_at = now()
		WHERE id = $1 AND claim_token = $2 AND rederiving`, c.Media.ID, c.Token, RetryGivenUpAfter.Milliseconds())
}

// RetryGivenUpAfter is how long the reconciler leaves a media whose re-derivation gave up.
const RetryGivenUpAfter = 24 * time.Hour

// AbandonedAfter is how long a re-derivation may go without a claim or a change (between its
// chunks' jobs) before the reconciler takes it for abandoned: its jobs went to the
// dead-letter queue, or were lost.
const AbandonedAfter = 15 * time.Minute

// DueForCheck returns up to limit ready media of region, least recently checked first:
// those no re-derivation is working on, and those whose re-derivation was abandoned (see
// AbandonedAfter); regionless adds the media recorded before rows named their region (the
// home region's).
func (s *Store) DueForCheck(ctx context.Context, region string, regionless bool, limit int) ([]Media, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM media
		WHERE status = 'ready' AND `+live+` AND notified_at IS NOT NULL AND (region = $1 OR (region = '' AND $2))
			AND (checked_at IS NULL OR checked_at <= now())
			AND (NOT rederiving OR (coalesce(lease_until, '-infinity') < now() AND updated_at < now() - $4 * interval '1 millisecond'))
		ORDER BY checked_at NULLS FIRST, id LIMIT $3`, region, regionless, limit, AbandonedAfter.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("media due for a check: %w", err)
	}
	media, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Media, error) { return scanMedia(r) })
	if err != nil {
		return nil, fmt.Errorf("media due for a check: %w", err)
	}
	return media, nil
}

// MarkChecked records that the media's derivatives were checked.
func (s *Store) MarkChecked(ctx context.Context, ids []string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE media SET checked_at = now() WHERE id = ANY($1::uuid[])`, ids); err != nil {
		return fmt.Errorf("mark checked: %w", err)
	}
	return nil
}
