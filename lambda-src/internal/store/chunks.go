package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Chunked transcodes. The holder of a media's transcode claim who finds the video long
// records its chunks (StartChunks), which ends the claim: the media stays processing while
// each chunk is claimed, encoded and completed on its own, with a lease like a media claim's.
// Completing the last chunk grants a claim of the media to its completer, who assembles and
// marks the media ready as a single pass would, so assembly happens once. A claim of the
// media while chunks are recorded dispatches them again (ActionDispatch): whoever recorded
// them may have died before every job was sent.
//
//	processing ──StartChunks──► chunks recorded ──ClaimChunk/CompleteChunk──► last completed
//	                                                                             │ assemble
//	                                                                             ▼
//	                                                                  MarkReady / MarkFailed

// Span is a chunk's time range, [StartS, EndS).
type Span struct {
	Index  int
	StartS float64
	EndS   float64
	Last   bool
}

// ChunkAction is what a chunk claim entitles its holder to do.
type ChunkAction int

const (
	ChunkEncode   ChunkAction = iota + 1 // encode the span, then CompleteChunk or ReleaseChunk
	ChunkAssemble                        // every chunk is done: assemble with Media's claim
)

// ChunkClaim is a granted claim of a chunk.
type ChunkClaim struct {
	MediaID string
	Action  ChunkAction
	Span    Span
	Token   string // of the chunk (ChunkEncode)
	Attempt int    // how many claims the chunk has had, this one included
	Error   string // why its last attempt failed, if one did
	Media   *Claim // of the media (ChunkAssemble)
}

// StartChunks records the chunks of the media c holds and ends c, so that chunk jobs take
// over. Chunks already recorded for the transcode in flight stay as they are.
func (s *Store) StartChunks(ctx context.Context, c Claim, spans []Span) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var chunks int
		err := tx.QueryRow(ctx, `SELECT chunks FROM media WHERE id = $1 AND claim_token = $2 AND `+inFlight+` AND `+live+` FOR UPDATE`,
			c.Media.ID, c.Token).Scan(&chunks)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.lostOrDeleted(ctx, "start chunks", c.Media.ID)
		}
		if err != nil {
			return fmt.Errorf("start chunks: %w", err)
		}
		if chunks == 0 {
			// Rows of an earlier transcode (one whose derivatives are made again) go.
			if _, err := tx.Exec(ctx, `DELETE FROM media_chunks WHERE media_id = $1`, c.Media.ID); err != nil {
				return fmt.Errorf("start chunks: %w", err)
			}
			for _, sp := range spans {
				if _, err := tx.Exec(ctx, `INSERT INTO media_chunks (media_id, idx, start_s, end_s, last) VALUES ($1, $2, $3, $4, $5)`,
					c.Media.ID, sp.Index, sp.StartS, sp.EndS, sp.Last); err != nil {
					return fmt.Errorf("start chunks: %w", err)
				}
			}
		}
		_, err = tx.Exec(ctx, `UPDATE media SET chunks = (SELECT count(*) FROM media_chunks WHERE media_id = $1),
			claim_token = NULL, lease_until = NULL, updated_at = now() WHERE id = $1`, c.Media.ID)
		if err != nil {
			return fmt.Errorf("start chunks: %w", err)
		}
		return nil
	})
}

// PendingChunks lists the chunks of a media that are not completed yet.
func (s *Store) PendingChunks(ctx context.Context, mediaID string) ([]Span, error) {
	rows, err := s.pool.Query(ctx, `SELECT idx, start_s, end_s, last FROM media_chunks WHERE media_id = $1 AND part IS NULL ORDER BY idx`, mediaID)
	if err != nil {
		return nil, fmt.Errorf("pending chunks: %w", err)
	}
	spans, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Span, error) {
		var sp Span
		return sp, r.Scan(&sp.Index, &sp.StartS, &sp.EndS, &sp.Last)
	})
	if err != nil {
		return nil, fmt.Errorf("pending chunks: %w", err)
	}
	return spans, nil
}

// ClaimChunk claims chunk index of a media for lease. ErrDone: the chunk is completed (a
// duplicate job) or belongs to no transcode in flight any more; ErrBusy: another job holds
// it (or, once all are done, the media's assembly); ErrDeleted: the owner deleted the media.
func (s *Store) ClaimChunk(ctx context.Context, mediaID string, index int, lease time.Duration) (ChunkClaim, error) {
	if _, err := uuid.Parse(mediaID); err != nil {
		return ChunkClaim{}, fmt.Errorf("claim chunk: media id %q is not a UUID", mediaID)
	}
	cc := ChunkClaim{MediaID: mediaID}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			working      bool
			chunks       int
			deleted      bool
			mediaLeaseMs float64
		)
		// The media row first, as CompleteChunk and Delete lock it: one order, no deadlock.
		err := tx.QueryRow(ctx, `SELECT `+inFlight+`, chunks, deleted_at IS NOT NULL,
				greatest(coalesce(extract(epoch FROM lease_until - now()) * 1000, 0), 0)::float8
			FROM media WHERE id = $1 FOR UPDATE`, mediaID).Scan(&working, &chunks, &deleted, &mediaLeaseMs)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrDone
		case err != nil:
			return err
		case deleted:
			return ErrDeleted
		case !working || chunks == 0:
			return ErrDone
		}
		var (
			done    bool
			leaseMs float64
		)
		err = tx.QueryRow(ctx, `SELECT start_s, end_s, last, part IS NOT NULL,
				greatest(coalesce(extract(epoch FROM lease_until - now()) * 1000, 0), 0)::float8
			FROM media_chunks WHERE media_id = $1 AND idx = $2 FOR UPDATE`, mediaID, index).
			Scan(&cc.Span.StartS, &cc.Span.EndS, &cc.Span.Last, &done, &leaseMs)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrDone
		}
		if err != nil {
			return err
		}
		cc.Span.Index = index
		if done {
			var pending int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM media_chunks WHERE media_id = $1 AND part IS NULL`, mediaID).Scan(&pending); err != nil {
				return err
			}
			if pending > 0 {
				return ErrDone
			}
			// Every chunk is done but the media is not ready: its assembler died.
			if mediaLeaseMs > 0 {
				return &BusyError{LeaseLeft: time.Duration(mediaLeaseMs * float64(time.Millisecond))}
			}
			cc.Action = ChunkAssemble
			cc.Media, err = grantAssembly(ctx, tx, mediaID, lease)
			return err
		}
		if leaseMs > 0 {
			return &BusyError{LeaseLeft: time.Duration(leaseMs * float64(time.Millisecond))}
		}
		cc.Action, cc.Token = ChunkEncode, uuid.NewString()
		return tx.QueryRow(ctx, `UPDATE media_chunks SET claim_token = $3, lease_until = now() + $4 * interval '1 millisecond',
			attempts = attempts + 1 WHERE media_id = $1 AND idx = $2 RETURNING attempts, error`,
			mediaID, index, cc.Token, lease.Milliseconds()).Scan(&cc.Attempt, &cc.Error)
	})
	if err != nil {
		if errors.Is(err, ErrBusy) || errors.Is(err, ErrDone) || errors.Is(err, ErrDeleted) {
			return ChunkClaim{}, err
		}
		return ChunkClaim{}, fmt.Errorf("claim chunk: %w", err)
	}
	return cc, nil
}

// grantAssembly claims the media (whose row tx has locked) for its assembly.
func grantAssembly(ctx context.Context, tx pgx.Tx, mediaID string, lease time.Duration) (*Claim, error) {
	c := Claim{Action: ActionTranscode}
	if err := grant(ctx, tx, &c, mediaID, lease, ""); err != nil {
		return nil, err
	}
	c.Rederive = c.Media.Rederiving
	return &c, nil
}

// ExtendChunk renews a chunk claim's lease while its holder encodes.
func (s *Store) ExtendChunk(ctx context.Context, cc ChunkClaim, lease time.Duration) error {
	return s.conditional(ctx, "extend chunk claim", `UPDATE media_chunks SET lease_until = now() + $3 * interval '1 millisecond'
		WHERE media_id = $1 AND claim_token = $2 AND EXISTS (SELECT 1 FROM media WHERE id = $1 AND `+live+`)`,
		cc.MediaID, cc.Token, lease.Milliseconds())
}

// ReleaseChunk gives a chunk claim back after a transient error, so that the next delivery
// claims it at once; reason is kept meanwhile.
func (s *Store) ReleaseChunk(ctx context.Context, cc ChunkClaim, reason string) error {
	return s.conditional(ctx, "release chunk claim", `UPDATE media_chunks SET claim_token = NULL, lease_until = NULL, error = $3
		WHERE media_id = $1 AND claim_token = $2`, cc.MediaID, cc.Token, reason)
}

// CompleteChunk records what a chunk wrote. The completer of the last chunk gets a claim of
// the media for its assembly; the others get nil.
func (s *Store) CompleteChunk(ctx context.Context, cc ChunkClaim, part any, lease time.Duration) (*Claim, error) {
	data, err := json.Marshal(part)
	if err != nil {
		return nil, fmt.Errorf("complete chunk: %w", err)
	}
	var assembly *Claim
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var deleted bool
		if err := tx.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM media WHERE id = $1 FOR UPDATE`, cc.MediaID).Scan(&deleted); err != nil {
			return err
		}
		if deleted {
			return ErrDeleted
		}
		tag, err := tx.Exec(ctx, `UPDATE media_chunks SET part = $3, claim_token = NULL, lease_until = NULL, error = ''
			WHERE media_id = $1 AND claim_token = $2 AND part IS NULL`, cc.MediaID, cc.Token, data)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrClaimLost
		}
		var pending int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM media_chunks WHERE media_id = $1 AND part IS NULL`, cc.MediaID).Scan(&pending); err != nil {
			return err
		}
		if pending == 0 {
			assembly, err = grantAssembly(ctx, tx, cc.MediaID, lease)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("complete chunk: %w", err)
	}
	return assembly, nil
}

// ChunkParts returns what every completed chunk of a media wrote, in chunk order.
func (s *Store) ChunkParts(ctx context.Context, mediaID string) ([]json.RawMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT part FROM media_chunks WHERE media_id = $1 AND part IS NOT NULL ORDER BY idx`, mediaID)
	if err != nil {
		return nil, fmt.Errorf("chunk parts: %w", err)
	}
	parts, err := pgx.CollectRows(rows, pgx.RowTo[json.RawMessage])
	if err != nil {
		return nil, fmt.Errorf("chunk parts: %w", err)
	}
	return parts, nil
}

// FailChunked makes a chunked media failed for good (a chunk that cannot be encoded, or
// one that gave up), with a reason for its owner, and returns a claim of the media for
// sending the failed event. A media being made again stays ready, with what it has: the
// claim is then a Rederive one, which sends no event.
func (s *Store) FailChunked(ctx context.Context, mediaID, reason string) (Claim, error) {
	c := Claim{Token: uuid.NewString(), Action: ActionNotify}
	m, err := scanMedia(s.pool.QueryRow(ctx, `UPDATE media SET status = CASE WHEN rederiving THEN status ELSE 'failed' END,
		error = CASE WHEN rederiving THEN error ELSE $3 END, is_transcoded = rederiving, chunks = 0,
		claim_token = $2, lease_until = now() + interval '1 minute', updated_at = now()
		WHERE id = $1 AND `+inFlight+` AND chunks > 0 AND `+live+` RETURNING `+columns+`, attempts`, mediaID, c.Token, reason), &c.Attempt)
	if errors.Is(err, ErrNotFound) {
		return Claim{}, s.lostOrDeleted(ctx, "fail chunked media", mediaID)
	}
	if err != nil {
		return Claim{}, fmt.Errorf("fail chunked media: %w", err)
	}
	c.Media, c.Rederive = m, m.Rederiving
	return c, nil
}

// RestartChunks forgets the chunks of the media c holds (for its assembly), which must all be
// encoded again, and ends c: the media's next claim records them anew. A first transcode
// goes back to uploaded; a re-derivation stays ready.
func (s *Store) RestartChunks(ctx context.Context, c Claim) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE media SET chunks = 0, status = CASE WHEN rederiving THEN status ELSE 'uploaded' END,
			claim_token = NULL, lease_until = NULL, updated_at = now()
			WHERE id = $1 AND claim_token = $2 AND `+inFlight+` AND `+live, c.Media.ID, c.Token)
		if err != nil {
			return fmt.Errorf("restart chunks: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return s.lostOrDeleted(ctx, "restart chunks", c.Media.ID)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM media_chunks WHERE media_id = $1`, c.Media.ID); err != nil {
			return fmt.Errorf("restart chunks: %w", err)
		}
		return nil
	})
}
