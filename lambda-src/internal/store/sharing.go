package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Sharing: what viewers other than the owner may see and do. A viewer is a user id (a
// token's subject) or "" for an anonymous client. Media a viewer may not see is
// ErrNotFound, exactly like media that never existed, so that ids cannot be probed.

// viewable selects the media viewer $2 may see: their own (any status), or another's
// ready public or unlisted media. Tombstones never.
const viewable = `deleted_at IS NULL AND ((owner = $2 AND $2 <> '') OR (status = 'ready' AND visibility IN ('public', 'unlisted')))`

// GetVisible returns the media with id if viewer may see it. It reads the replica, and the
// primary when a signed-in viewer finds nothing there or finds their own media: it may be
// newer than the replica (or changed since), and a writer reads their own writes whatever
// the lag.
func (s *Store) GetVisible(ctx context.Context, viewer, id string) (Media, error) {
	m, err := s.getOne(ctx, s.replica, viewable, id, viewer)
	if s.replica != s.pool && viewer != "" && (errors.Is(err, ErrNotFound) || err == nil && m.Owner == viewer) {
		return s.getOne(ctx, s.pool, viewable, id, viewer)
	}
	return m, err
}

// Changes are the fields of an owner's edit; nil leaves a field as it is.
type Changes struct {
	Title       *string
	Description *string
	Visibility  *Visibility
}

// Update applies an owner's changes and returns the media. Becoming public puts a ready
// media at the top of the feed; an unready one enters it when it becomes ready.
func (s *Store) Update(ctx context.Context, owner, id string, c Changes) (Media, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Media{}, ErrNotFound
	}
	if c.Visibility != nil && !c.Visibility.Valid() {
		return Media{}, fmt.Errorf("update media: visibility %q is not private, unlisted or public", *c.Visibility)
	}
	var vis *string
	if c.Visibility != nil {
		v := string(*c.Visibility)
		vis = &v
	}
	m, err := scanMedia(s.pool.QueryRow(ctx, `UPDATE media SET
			title = coalesce($3, title),
			description = coalesce($4, description),
			published_at = CASE WHEN $5 = 'public' AND visibility <> 'public' THEN now() ELSE published_at END,
			visibility = coalesce($5, visibility),
			updated_at = now()
		WHERE id = $1 AND owner = $2 AND `+live+` RETURNING `+columns,
		id, owner, c.Title, c.Description, vis))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Media{}, fmt.Errorf("update media: %w", err)
	}
	return m, err
}

// Delete makes the owner's media a tombstone: its likes and comments go, its id, owner and
// keys stay, so that a late delivery of its upload cannot bring it back and so that the
// caller can remove its objects. It returns the media as it was and whether this call
// deleted it (false: it was deleted before, and deleting again only repeats the cleanup).
// check sees the row first, locked and tombstone or not; its error changes nothing and is
// returned as it is.
func (s *Store) Delete(ctx context.Context, owner, id string, check func(Media) error) (Media, bool, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Media{}, false, ErrNotFound
	}
	var (
		m     Media
		first bool
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var deleted bool
		var err error
		m, err = scanMedia(tx.QueryRow(ctx, `SELECT `+columns+`, deleted_at IS NOT NULL FROM media
			WHERE id = $1 AND owner = $2 FOR UPDATE`, id, owner), &deleted)
		if err != nil {
			return err
		}
		if err := check(m); err != nil {
			return &checkError{err}
		}
		if deleted {
			return nil
		}
		first = true
		for _, q := range []string{`DELETE FROM likes WHERE media_id = $1`, `DELETE FROM comments WHERE media_id = $1`,
			`UPDATE media SET deleted_at = now(), updated_at = now(), title = '', description = '', filename = '',
				uploader_email = '', likes = 0, comments = 0, claim_token = NULL, lease_until = NULL WHERE id = $1`} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	var refused *checkError
	if errors.As(err, &refused) {
		return m, false, refused.err
	}
	if errors.Is(err, ErrNotFound) {
		return Media{}, false, err
	}
	if err != nil {
		return Media{}, false, fmt.Errorf("delete media: %w", err)
	}
	return m, first, nil
}

// checkError carries a caller's check out of a transaction unwrapped.
type checkError struct{ err error }

func (e *checkError) Error() string { return e.err.Error() }

// ClaimUnrecorded records region, its CDN base URL and key pair on the media recorded before
// rows said where they are held: the catalogue's only region held them all. The home region
// calls it at start, so that the regions joining later serve them from the right CDN.
func (s *Store) ClaimUnrecorded(ctx context.Context, region, cdnBaseURL, keyPairID string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE media SET region = $1, cdn_base_url = $2, cdn_key_pair_id = $3 WHERE region = ''`,
		region, cdnBaseURL, keyPairID)
	if err != nil {
		return 0, fmt.Errorf("record the region of earlier media: %w", err)
	}
	return tag.RowsAffected(), nil
}

// FeedItem is a media of the public feed with what the viewer did to it.
type FeedItem struct {
	Media
	LikedByMe bool
}

// Feed returns public ready media, most recently published first, limit at a time; pass
// the returned cursor for the next page (empty after the last one). New media go to the
// top, so pages neither skip nor repeat items while media are published meanwhile.
func (s *Store) Feed(ctx context.Context, viewer, after string, limit int) ([]FeedItem, string, error) {
	limit = pageLimit(limit)
	query := `SELECT ` + columns + `, ($1 <> '' AND EXISTS (SELECT 1 FROM likes l WHERE l.media_id = media.id AND l.user_id = $1))
		FROM media WHERE visibility = 'public' AND status = 'ready' AND deleted_at IS NULL AND published_at IS NOT NULL`
	args := []any{viewer}
	if after != "" {
		c, err := decodeCursor(after)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (published_at, id) < ($2, $3)`
		args = append(args, c.At, c.ID)
	}
	query += ` ORDER BY published_at DESC, id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.replica.Query(ctx, query, args...) // a new media appears within the lag
	if err != nil {
		return nil, "", fmt.Errorf("read the feed: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedItem, error) {
		var it FeedItem
		var err error
		it.Media, err = scanMedia(r, &it.LikedByMe)
		return it, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("read the feed: %w", err)
	}
	items, next := page(items, limit, func(it FeedItem) (time.Time, string) { return *it.PublishedAt, it.ID })
	return items, next, nil
}

// Like records viewer's like of a media they may see; liking twice is one like.
func (s *Store) Like(ctx context.Context, viewer, id string) error {
	return s.onViewable(ctx, "like", viewer, id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO likes (media_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, viewer)
		if err == nil && tag.RowsAffected() == 1 {
			_, err = tx.Exec(ctx, `UPDATE media SET likes = likes + 1 WHERE id = $1`, id)
		}
		return err
	})
}

// Unlike removes viewer's like; removing an absent like does nothing.
func (s *Store) Unlike(ctx context.Context, viewer, id string) error {
	return s.onViewable(ctx, "unlike", viewer, id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM likes WHERE media_id = $1 AND user_id = $2`, id, viewer)
		if err == nil && tag.RowsAffected() == 1 {
			_, err = tx.Exec(ctx, `UPDATE media SET likes = likes - 1 WHERE id = $1`, id)
		}
		return err
	})
}

// onViewable runs fn in a transaction that holds the media's row, if viewer may see it.
// Holding the row serialises the counter updates of concurrent likes and comments.
func (s *Store) onViewable(ctx context.Context, what, viewer, id string, fn func(pgx.Tx) error) error {
	if _, err := uuid.Parse(id); err != nil || viewer == "" {
		return ErrNotFound
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM media WHERE id = $1 AND `+viewable+` FOR UPDATE`, id, viewer).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		return fn(tx)
	})
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCommentNotFound) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return err
}

// Comment is one comment on a media.
type Comment struct {
	ID        string    `json:"comment_id"`
	MediaID   string    `json:"media_id"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// ErrCommentNotFound: no such comment on the media, or the caller may not delete it.
var ErrCommentNotFound = errors.New("comment not found")

// AddComment adds author's comment to a media they may see. The text is the caller's to
// check (length, characters).
func (s *Store) AddComment(ctx context.Context, author, mediaID, text string) (Comment, error) {
	c := Comment{ID: uuid.NewString(), MediaID: mediaID, Author: author, Text: text}
	err := s.onViewable(ctx, "add comment", author, mediaID, func(tx pgx.Tx) error {
		// clock_timestamp, not now(): taken after the row lock, so comments' times follow
		// their commits and a reader paging oldest first never steps past a late one.
		if err := tx.QueryRow(ctx, `INSERT INTO comments (id, media_id, author, text, created_at)
			VALUES ($1, $2, $3, $4, clock_timestamp()) RETURNING created_at`,
			c.ID, mediaID, author, text).Scan(&c.CreatedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE media SET comments = comments + 1 WHERE id = $1`, mediaID)
		return err
	})
	if err != nil {
		return Comment{}, err
	}
	return c, nil
}

// Comments returns a media's comments oldest first, limit at a time, if viewer may see the
// media; pass the returned cursor for the next page.
func (s *Store) Comments(ctx context.Context, viewer, mediaID, after string, limit int) ([]Comment, string, error) {
	if _, err := s.GetVisible(ctx, viewer, mediaID); err != nil {
		return nil, "", err
	}
	limit = pageLimit(limit)
	query := `SELECT id::text, media_id::text, author, text, created_at FROM comments WHERE media_id = $1`
	args := []any{mediaID}
	if after != "" {
		c, err := decodeCursor(after)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (created_at, id) > ($2, $3)`
		args = append(args, c.At, c.ID)
	}
	query += ` ORDER BY created_at, id LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.replica.Query(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list comments: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Comment])
	if err != nil {
		return nil, "", fmt.Errorf("list comments: %w", err)
	}
	items, next := page(items, limit, func(c Comment) (time.Time, string) { return c.CreatedAt, c.ID })
	return items, next, nil
}

// DeleteComment removes a comment, by its author or by the media's owner; anyone else, or
// a comment that is not there, is ErrCommentNotFound (ErrNotFound when the caller may not
// see the media at all).
func (s *Store) DeleteComment(ctx context.Context, caller, mediaID, commentID string) error {
	if _, err := uuid.Parse(commentID); err != nil {
		return ErrCommentNotFound
	}
	return s.onViewable(ctx, "delete comment", caller, mediaID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM comments c USING media m
			WHERE c.id = $1 AND c.media_id = $2 AND m.id = c.media_id AND (c.author = $3 OR m.owner = $3)`,
			commentID, mediaID, caller)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrCommentNotFound
		}
		_, err = tx.Exec(ctx, `UPDATE media SET comments = comments - 1 WHERE id = $1`, mediaID)
		return err
	})
}

// UploadsSince counts the media owner created since t, deleted ones included (deleting
// does not give an upload back), and says when the oldest of them was created.
func (s *Store) UploadsSince(ctx context.Context, owner string, t time.Time) (int, time.Time, error) {
	return s.countSince(ctx, "uploads", `SELECT count(*), coalesce(min(created_at), now()) FROM media WHERE owner = $1 AND created_at >= $2`, owner, t)
}

// CommentsSince counts the comments author wrote since t that still exist, and says when
// the oldest of them was written.
func (s *Store) CommentsSince(ctx context.Context, author string, t time.Time) (int, time.Time, error) {
	return s.countSince(ctx, "comments", `SELECT count(*), coalesce(min(created_at), now()) FROM comments WHERE author = $1 AND created_at >= $2`, author, t)
}

func (s *Store) countSince(ctx context.Context, what, query string, who string, t time.Time) (int, time.Time, error) {
	var (
		n      int
		oldest time.Time
	)
	if err := s.pool.QueryRow(ctx, query, who, t).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("count %s: %w", what, err)
	}
	return n, oldest, nil
}
