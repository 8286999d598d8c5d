// Package store keeps media metadata in PostgreSQL: embedded schema migrations, the media
// table, the upload API's reads and writes and the transcoder's status transitions.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Status is where a media item is in its life.
type Status string

const (
	StatusPendingUpload Status = "pending_upload" // the API issued an upload URL
	StatusUploaded      Status = "uploaded"       // the original is in the bucket, not yet claimed
	StatusProcessing    Status = "processing"     // a transcoder holds the claim
	StatusReady         Status = "ready"          // derivatives are published; terminal
	StatusFailed        Status = "failed"         // the original cannot be transcoded; terminal
)

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return s == StatusReady || s == StatusFailed }

// Visibility says who may see a media besides its owner.
type Visibility string

const (
	VisibilityPrivate  Visibility = "private"  // the owner alone
	VisibilityUnlisted Visibility = "unlisted" // anyone who has its id or URL
	VisibilityPublic   Visibility = "public"   // anyone, and listed in the public feed
)

// Valid reports whether v is one of the three visibilities.
func (v Visibility) Valid() bool {
	return v == VisibilityPrivate || v == VisibilityUnlisted || v == VisibilityPublic
}

// Rendition is one MP4 of the ladder; Key is its object key in the derivatives bucket.
type Rendition struct {
	Height int    `json:"height"`
	Width  int    `json:"width"`
	Key    string `json:"key"`
	Bytes  int64  `json:"bytes"`
}

// Thumbnails are the scrubbing thumbnails: a WebVTT track whose cues point at tiles of
// IntervalS seconds each on the sprite sheets, in time order.
type Thumbnails struct {
	TrackKey   string   `json:"track_key"`
	SpriteKeys []string `json:"sprite_keys"`
	IntervalS  int      `json:"interval_s"`
	TileWidth  int      `json:"tile_width"`
	TileHeight int      `json:"tile_height"`
}

// Media is a row of the media table. Keys are object keys: OriginalKey in the originals
// bucket, the others in the derivatives bucket.
type Media struct {
	ID           string      `json:"id"`
	Owner        string      `json:"owner"`
	Title        string      `json:"title"`
	Filename     string      `json:"filename"`
	ContentType  string      `json:"content_type"`
	OriginalKey  string      `json:"original_key"`
	SizeBytes    int64       `json:"size_bytes"`
	Status       Status      `json:"status"`
	Error        string      `json:"error,omitempty"`
	DurationS    float64     `json:"duration_s"`
	Width        int         `json:"width"`
	Height       int         `json:"height"`
	Renditions   []Rendition `json:"renditions"`
	HLSKey       string      `json:"hls_key,omitempty"`
	DASHKey      string      `json:"dash_key,omitempty"`
	Chunks       int         `json:"-"` // of the transcode in flight; 0: one pass
	PosterKey    string      `json:"poster_key,omitempty"`
	Thumbnails   *Thumbnails `json:"thumbnails,omitempty"`
	IsTranscoded bool        `json:"is_transcoded"`
	UploadedAt   *time.Time  `json:"uploaded_at,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`

	Visibility    Visibility `json:"visibility"`
	Description   string     `json:"description"`
	UploaderEmail string     `json:"uploader_email,omitempty"`
	PublishedAt   *time.Time `json:"published_at,omitempty"` // when it last entered the public feed
	Likes         int        `json:"likes"`
	Comments      int        `json:"comments"`

	// Where the media is held: the region whose API received it, and that region's CDN
	// (base URL and, when it signs, the key pair its distribution trusts). Empty on media of
	// a stack from before regions were recorded.
	Region       string `json:"region,omitempty"`
	CDNBaseURL   string `json:"cdn_base_url,omitempty"`
	CDNKeyPairID string `json:"cdn_key_pair_id,omitempty"`

	// Rederiving: its derivatives are being made again (it stays ready meanwhile).
	Rederiving bool `json:"-"`
	// DerivativeCount is how many objects its transcode published; 0 when not recorded.
	DerivativeCount int `json:"-"`
}

var (
	// ErrNotFound: no such media, or it belongs to someone else.
	ErrNotFound = errors.New("media not found")
	// ErrConflict: Create with an id or original key that exists.
	ErrConflict = errors.New("media already exists")
	// ErrInvalidCursor: ListByOwner got a cursor it did not issue.
	ErrInvalidCursor = errors.New("invalid cursor")
)

// Config says where the database is and who to log in as.
type Config struct {
	Host     string
	Port     int
	Database string
	User     string
	Password string
	// SSLMode is libpq's sslmode; empty means "prefer": TLS where the server offers it (RDS
	// does), plain where it does not (the local cloud's server).
	SSLMode string
	// ReplicaHost and ReplicaPort name a read replica of the database (same credentials),
	// in this region when the primary is in another: reads that may lag go there (the feed,
	// others' media, comments), every write and the caller's own reads to the primary.
	// Empty: everything goes to the primary.
	ReplicaHost string
	ReplicaPort int
}

// SecretsGetter is the part of the Secrets Manager client ConfigFromSecret needs.
type SecretsGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsClient is a Secrets Manager client of the secret's own region: the database of a
// region with a read replica has its secret in the primary's region, and Secrets Manager
// answers for a secret only in the region that holds it.
func SecretsClient(cfg aws.Config, secretARN string) *secretsmanager.Client {
	if a, err := arn.Parse(secretARN); err == nil && a.Region != "" && a.Region != cfg.Region {
		cfg = cfg.Copy()
		cfg.Region = a.Region
	}
	return secretsmanager.NewFromConfig(cfg)
}

// ConfigFromSecret builds a Config from the RDS-managed secret ({"username","password"})
// and the endpoint, so that no password ever sits in the environment.
func ConfigFromSecret(ctx context.Context, client SecretsGetter, secretARN, host string, port int, database string) (Config, error) {
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &secretARN})
	if err != nil {
		return Config{}, fmt.Errorf("read database secret: %w", err)
	}
	if out.SecretString == nil {
		return Config{}, errors.New("database secret has no string value")
	}
	var s struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(*out.SecretString), &s); err != nil {
		return Config{}, fmt.Errorf("database secret is not JSON: %w", err)
	}
	if s.Username == "" || s.Password == "" {
		return Config{}, errors.New("database secret lacks username or password")
	}
	return Config{Host: host, Port: port, Database: database, User: s.Username, Password: s.Password}, nil
}

// URL is the connection string of c.
func (c Config) URL() string {
	mode := c.SSLMode
	if mode == "" {
		mode = "prefer"
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(c.User, c.Password),
		Host:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		Path:     "/" + c.Database,
		RawQuery: url.Values{"sslmode": {mode}}.Encode(),
	}
	return u.String()
}

// Store is a connection pool to the metadata database, and one to its read replica.
type Store struct {
	pool    *pgxpool.Pool // the primary: writes, and what a caller must read of its own writes
	replica *pgxpool.Pool // reads that may lag; the primary without a replica
}

// Open connects and checks the connections.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, replica: pool}
	if cfg.ReplicaHost != "" {
		rc := cfg
		rc.Host, rc.Port = cfg.ReplicaHost, cfg.ReplicaPort
		if rc.Port == 0 {
			rc.Port = cfg.Port
		}
		if s.replica, err = openPool(ctx, rc); err != nil {
			pool.Close()
			return nil, err
		}
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openPool(ctx context.Context, cfg Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL())
	if err != nil {
		return nil, fmt.Errorf("database config: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.Host, err)
	}
	return pool, nil
}

// Close closes the pools.
func (s *Store) Close() {
	if s.replica != s.pool {
		s.replica.Close()
	}
	s.pool.Close()
}

// Ping checks that the primary answers, and the replica when there is one.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if s.replica != s.pool {
		if err := s.replica.Ping(ctx); err != nil {
			return fmt.Errorf("ping read replica: %w", err)
		}
	}
	return nil
}

const columns = `id::text, owner, title, filename, content_type, original_key, size_bytes, status,
	error, duration_s, width, height, renditions, hls_key, poster_key, is_transcoded,
	uploaded_at, created_at, updated_at, visibility, description, uploader_email, published_at,
	likes, comments, region, cdn_base_url, cdn_key_pair_id, thumbnails, dash_key, chunks,
	rederiving, derivative_count`

// live selects the rows that are not tombstones of deleted media.
const live = `deleted_at IS NULL`

// scanMedia scans the columns, then extra (columns selected after them).
func scanMedia(row pgx.Row, extra ...any) (Media, error) {
	var m Media
	dest := append([]any{&m.ID, &m.Owner, &m.Title, &m.Filename, &m.ContentType, &m.OriginalKey,
		&m.SizeBytes, &m.Status, &m.Error, &m.DurationS, &m.Width, &m.Height, &m.Renditions,
		&m.HLSKey, &m.PosterKey, &m.IsTranscoded, &m.UploadedAt, &m.CreatedAt, &m.UpdatedAt,
		&m.Visibility, &m.Description, &m.UploaderEmail, &m.PublishedAt, &m.Likes, &m.Comments,
		&m.Region, &m.CDNBaseURL, &m.CDNKeyPairID, &m.Thumbnails, &m.DASHKey, &m.Chunks,
		&m.Rederiving, &m.DerivativeCount}, extra...)
	err := row.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return Media{}, ErrNotFound
	}
	return m, err
}

// Create inserts m as pending_upload; ID and OriginalKey are the caller's, timestamps the
// database's, Visibility private when empty.
func (s *Store) Create(ctx context.Context, m Media) error {
	if _, err := uuid.Parse(m.ID); err != nil {
		return fmt.Errorf("create media: id %q is not a UUID", m.ID)
	}
	if m.Owner == "" || m.OriginalKey == "" {
		return errors.New("create media: owner and original key are required")
	}
	if m.Visibility == "" {
		m.Visibility = VisibilityPrivate
	}
	if !m.Visibility.Valid() {
		return fmt.Errorf("create media: visibility %q is not private, unlisted or public", m.Visibility)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO media (id, owner, title, filename, content_type, original_key, size_bytes, status,
			visibility, description, uploader_email, region, cdn_base_url, cdn_key_pair_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		m.ID, m.Owner, m.Title, m.Filename, m.ContentType, m.OriginalKey, m.SizeBytes, StatusPendingUpload,
		m.Visibility, m.Description, m.UploaderEmail, m.Region, m.CDNBaseURL, m.CDNKeyPairID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("create media: %w", err)
	}
	return nil
}

// Get returns the media with id, whoever owns it.
func (s *Store) Get(ctx context.Context, id string) (Media, error) {
	return s.getOne(ctx, s.pool, live, id)
}

// getOne reads the media with id (args[0]) from db where the condition holds; an id that is
// not a UUID, or no row, is ErrNotFound.
func (s *Store) getOne(ctx context.Context, db *pgxpool.Pool, where string, args ...any) (Media, error) {
	if _, err := uuid.Parse(args[0].(string)); err != nil {
		return Media{}, ErrNotFound
	}
	m, err := scanMedia(db.QueryRow(ctx, `SELECT `+columns+` FROM media WHERE id = $1 AND `+where, args...))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Media{}, fmt.Errorf("get media: %w", err)
	}
	return m, err
}

// GetForOwner returns the media with id if owner owns it; ErrNotFound otherwise, so that a
// caller cannot tell someone else's media from none.
func (s *Store) GetForOwner(ctx context.Context, owner, id string) (Media, error) {
	return s.getOne(ctx, s.pool, `owner = $2 AND `+live, id, owner)
}

// Page sizes of ListByOwner.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

type cursor struct {
	At time.Time `json:"t"`
	ID string    `json:"id"`
}

// ListByOwner returns owner's media newest first, limit at a time (DefaultPageSize when
// limit <= 0, at most MaxPageSize). Pass the returned cursor to get the next page; it is
// empty after the last one.
func (s *Store) ListByOwner(ctx context.Context, owner, after string, limit int) ([]Media, string, error) {
	limit = pageLimit(limit)
	// The keyset (created_at, id) is unique and indexed, so pages neither skip nor repeat
	// rows when media are added meanwhile.
	query := `SELECT ` + columns + ` FROM media WHERE owner = $1 AND ` + live
	args := []any{owner}
	if after != "" {
		c, err := decodeCursor(after)
		if err != nil {
			return nil, "", err
		}
		query += ` AND (created_at, id) < ($2, $3)`
		args = append(args, c.At, c.ID)
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ` + strconv.Itoa(limit+1)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list media: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Media, error) { return scanMedia(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list media: %w", err)
	}
	items, next := page(items, limit, func(m Media) (time.Time, string) { return m.CreatedAt, m.ID })
	return items, next, nil
}

// page cuts items, read with limit+1, to limit, and returns the cursor of the next page:
// the keyset of its last item, "" when there is no more.
func page[T any](items []T, limit int, keyset func(T) (time.Time, string)) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(keyset(items[limit-1]))
}

// pageLimit is limit within (0, MaxPageSize], DefaultPageSize when not positive.
func pageLimit(limit int) int {
	if limit <= 0 {
		return DefaultPageSize
	}
	return min(limit, MaxPageSize)
}

// A cursor is the keyset of the last item of a page, opaque to clients.
func encodeCursor(at time.Time, id string) string {
	raw, _ := json.Marshal(cursor{At: at, ID: id})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	if _, uerr := uuid.Parse(c.ID); err != nil || uerr != nil {
		return cursor{}, ErrInvalidCursor
	}
	return c, nil
}
