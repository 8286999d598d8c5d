// Package mediaclient is a client of the upload API's contract (lambda-src/README.md), as an
// application would write one: the demo and the end-to-end suite upload and follow media
// with it, through whatever HTTP client reaches the stack on the target.
package mediaclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Client calls the upload API at BaseURL as the holder of Token.
type Client struct {
	BaseURL string
	Token   string
	// API reaches the upload API (and the CDN); Storage reaches presigned upload URLs.
	API, Storage *http.Client
}

// Upload is the answer to POST /v1/uploads.
type Upload struct {
	MediaID string `json:"media_id"`
	Upload  struct {
		Type      string            `json:"type"`
		Method    string            `json:"method"`
		URL       string            `json:"url"`
		Headers   map[string]string `json:"headers"`
		ExpiresAt time.Time         `json:"expires_at"`

		UploadID    string       `json:"upload_id"`
		PartSize    int64        `json:"part_size"`
		Parts       []UploadPart `json:"parts"`
		CompleteURL string       `json:"complete_url"`
	} `json:"upload"`
}

// UploadPart is one part of a multipart upload: its bytes start at (PartNumber-1)*PartSize.
type UploadPart struct {
	PartNumber int32             `json:"part_number"`
	URL        string            `json:"url"`
	SizeBytes  int64             `json:"size_bytes"`
	Headers    map[string]string `json:"headers"`
}

// Rendition is one rendition of ready media.
type Rendition struct {
	Height int    `json:"height"`
	Width  int    `json:"width"`
	URL    string `json:"url"`
	Bytes  int64  `json:"bytes"`
}

// Thumbnails are a media's scrubbing thumbnails: a WebVTT track naming tiles on sprite sheets.
type Thumbnails struct {
	TrackURL   string   `json:"track_url"`
	SpriteURLs []string `json:"sprite_urls"`
	IntervalS  int      `json:"interval_s"`
	TileWidth  int      `json:"tile_width"`
	TileHeight int      `json:"tile_height"`
}

// Media is the answer to GET /v1/media/{id}.
type Media struct {
	MediaID    string      `json:"media_id"`
	Owner      string      `json:"owner"`
	Region     string      `json:"region"` // holding it: its URLs are that region's CDN
	Title      string      `json:"title"`
	Status     string      `json:"status"`
	Error      *string     `json:"error"`
	DurationS  *float64    `json:"duration_s"`
	Width      *int        `json:"width"`
	Height     *int        `json:"height"`
	Renditions []Rendition `json:"renditions"`
	HLSURL     *string     `json:"hls_url"`
	DASHURL    *string     `json:"dash_url"`
	PosterURL  *string     `json:"poster_url"`
	Thumbnails *Thumbnails `json:"thumbnails"`
	// CDNCookies are CloudFront's signed cookies for the media's files when the CDN
	// requires signatures: an HLS player sends them with every playlist and segment.
	CDNCookies map[string]string `json:"cdn_cookies"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`

	Visibility  string `json:"visibility"`
	Description string `json:"description"`
	Likes       int    `json:"likes"`
	Comments    int    `json:"comments"`
	LikedByMe   *bool  `json:"liked_by_me"` // in the feed, with a token
}

// CookieHeader is CDNCookies as a Cookie request header value, "" when there are none.
func (m Media) CookieHeader() string {
	names := slices.Sorted(maps.Keys(m.CDNCookies))
	pairs := make([]string, len(names))
	for i, name := range names {
		pairs[i] = name + "=" + m.CDNCookies[name]
	}
	return strings.Join(pairs, "; ")
}

// Terminal reports whether the media reached a final status.
func (m Media) Terminal() bool { return m.Status == "ready" || m.Status == "failed" }

// StatusError is a non-2xx answer of the API.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Code, strings.TrimSpace(e.Body))
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, reader)
	if err != nil {
		return err
	}
	if c.Token != "" { // no token: an anonymous client
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.API.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Code: resp.StatusCode, Body: string(data)}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// CreateUpload asks for a presigned upload of the file at path, private unless the
// stack's default says otherwise.
func (c *Client) CreateUpload(ctx context.Context, path, contentType, title string) (Upload, error) {
	return c.CreateSharedUpload(ctx, path, contentType, title, "")
}

// CreateSharedUpload asks for a presigned upload of the file at path with a visibility
// (private, unlisted or public; "" for the stack's default).
func (c *Client) CreateSharedUpload(ctx context.Context, path, contentType, title, visibility string) (Upload, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Upload{}, err
	}
	req := map[string]any{"filename": filepath.Base(path), "content_type": contentType, "size_bytes": info.Size(), "title": title}
	if visibility != "" {
		req["visibility"] = visibility
	}
	var up Upload
	err = c.do(ctx, http.MethodPost, "/v1/uploads", req, &up)
	return up, err
}

// Feed is a page of GET /v1/feed.
type Feed struct {
	Items      []Media `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Feed reads the first page of the public feed.
func (c *Client) Feed(ctx context.Context) (Feed, error) {
	var f Feed
	err := c.do(ctx, http.MethodGet, "/v1/feed", nil, &f)
	return f, err
}

// Update edits the caller's media: PATCH /v1/media/{id} with the given fields.
func (c *Client) Update(ctx context.Context, id string, fields map[string]any) (Media, error) {
	var m Media
	err := c.do(ctx, http.MethodPatch, "/v1/media/"+id, fields, &m)
	return m, err
}

// Delete deletes the caller's media.
func (c *Client) Delete(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/media/"+id, nil, nil)
}

// Like likes a media (PUT /v1/media/{id}/like).
func (c *Client) Like(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPut, "/v1/media/"+id+"/like", nil, nil)
}

// Comment is one comment on a media.
type Comment struct {
	ID        string    `json:"comment_id"`
	MediaID   string    `json:"media_id"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

// Comment comments on a media.
func (c *Client) Comment(ctx context.Context, id, text string) (Comment, error) {
	var cm Comment
	err := c.do(ctx, http.MethodPost, "/v1/media/"+id+"/comments", map[string]any{"text": text}, &cm)
	return cm, err
}

// Comments reads the first page of a media's comments, oldest first.
func (c *Client) Comments(ctx context.Context, id string) ([]Comment, error) {
	var page struct {
		Items []Comment `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/media/"+id+"/comments", nil, &page)
	return page.Items, err
}

// DeleteComment deletes a comment on a media.
func (c *Client) DeleteComment(ctx context.Context, id, commentID string) error {
	return c.do(ctx, http.MethodDelete, "/v1/media/"+id+"/comments/"+commentID, nil, nil)
}

// PutFile sends the file at path as the upload says: one PUT to a single presigned URL,
// or each part to its URL and then the completion call with the parts' ETags.
func (c *Client) PutFile(ctx context.Context, up Upload, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	switch up.Upload.Type {
	case "single":
		_, err := c.put(ctx, up.Upload.Method, up.Upload.URL, up.Upload.Headers, f, info.Size())
		return err
	case "multipart":
		type completedPart struct {
			PartNumber int32  `json:"part_number"`
			ETag       string `json:"etag"`
		}
		var parts []completedPart
		for _, p := range up.Upload.Parts {
			offset := int64(p.PartNumber-1) * up.Upload.PartSize
			etag, err := c.put(ctx, up.Upload.Method, p.URL, p.Headers, io.NewSectionReader(f, offset, p.SizeBytes), p.SizeBytes)
			if err != nil {
				return fmt.Errorf("part %d: %w", p.PartNumber, err)
			}
			parts = append(parts, completedPart{PartNumber: p.PartNumber, ETag: etag})
		}
		var done Media
		return c.do(ctx, http.MethodPost, up.Upload.CompleteURL, map[string]any{"upload_id": up.Upload.UploadID, "parts": parts}, &done)
	}
	return fmt.Errorf("upload type %q is neither single nor multipart", up.Upload.Type)
}

// put sends size bytes of body to a presigned URL with the headers it was signed with and
// returns the ETag S3 answered.
func (c *Client) put(ctx context.Context, method, url string, headers map[string]string, body io.Reader, size int64) (string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Storage.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", &StatusError{Code: resp.StatusCode, Body: string(body)}
	}
	return resp.Header.Get("ETag"), nil
}

// Media reads GET /v1/media/{id}.
func (c *Client) Media(ctx context.Context, id string) (Media, error) {
	var m Media
	err := c.do(ctx, http.MethodGet, "/v1/media/"+id, nil, &m)
	return m, err
}

// Follow polls the media every interval until it is ready or failed, calling onChange with
// each status it sees for the first time.
func (c *Client) Follow(ctx context.Context, id string, interval time.Duration, onChange func(Media)) (Media, error) {
	last := ""
	for {
		m, err := c.Media(ctx, id)
		if err != nil {
			return m, err
		}
		if m.Status != last {
			last = m.Status
			if onChange != nil {
				onChange(m)
			}
		}
		if m.Terminal() {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return m, fmt.Errorf("media %s still %s: %w", id, m.Status, ctx.Err())
		case <-time.After(interval):
		}
	}
}
