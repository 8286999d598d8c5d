package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/cdnsign"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// MediaResponse is a media item as the API shows it. Fields that are not known yet (before
// the transcoder ran) are null rather than zero, so that a client can tell the difference.
//
// CDNCookies are CloudFront's signed cookies (name to value) for every derivative of the
// media, when the stack signs: an HLS player requests the variant playlists and segments
// without the master URL's query string, so only cookies get those through.
type MediaResponse struct {
	MediaID     string              `json:"media_id"`
	Owner       string              `json:"owner"`
	Region      string              `json:"region"` // holding the media and serving its derivatives
	Title       string              `json:"title"`
	Filename    string              `json:"filename"`
	ContentType string              `json:"content_type"`
	SizeBytes   int64               `json:"size_bytes"`
	Status      store.Status        `json:"status"`
	Error       *string             `json:"error"`
	DurationS   *float64            `json:"duration_s"`
	Width       *int                `json:"width"`
	Height      *int                `json:"height"`
	Renditions  []RenditionResponse `json:"renditions"`
	HLSURL      *string             `json:"hls_url"`
	DASHURL     *string             `json:"dash_url"`
	PosterURL   *string             `json:"poster_url"`
	Thumbnails  *ThumbnailsResponse `json:"thumbnails"`
	CDNCookies  map[string]string   `json:"cdn_cookies"`
	UploadedAt  *time.Time          `json:"uploaded_at"`
	CreatedAt   time.Time           `json:"created_at"`
	UpdatedAt   time.Time           `json:"updated_at"`
	Visibility  store.Visibility    `json:"visibility"`
	Description string              `json:"description"`
	Likes       int                 `json:"likes"`
	Comments    int                 `json:"comments"`
	// The owner's alone: where outcome emails go (from the token at upload; "" when it had
	// none), and when the media last entered the feed.
	UploaderEmail string     `json:"uploader_email"`
	PublishedAt   *time.Time `json:"published_at"`
}

// ThumbnailsResponse are the scrubbing thumbnails: a WebVTT track whose cues name a tile
// (sprite sheet and "#xywh=" rectangle, relative to the track) for every IntervalS seconds.
type ThumbnailsResponse struct {
	TrackURL   string   `json:"track_url"`
	SpriteURLs []string `json:"sprite_urls"`
	IntervalS  int      `json:"interval_s"`
	TileWidth  int      `json:"tile_width"`
	TileHeight int      `json:"tile_height"`
}

// RenditionResponse is one MP4 of the ladder.
type RenditionResponse struct {
	Height int    `json:"height"`
	Width  int    `json:"width"`
	URL    string `json:"url"`
	Bytes  int64  `json:"bytes"`
}

// MediaListResponse is a page of the caller's media, newest first.
type MediaListResponse struct {
	Items      []MediaResponse `json:"items"`
	NextCursor *string         `json:"next_cursor"`
}

// getMedia answers the owner with everything, anyone else with the viewer view of a ready
// public or unlisted media. Media a caller may not see answers exactly like none at all,
// so that ids cannot be probed.
func (s *Server) getMedia(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	id := r.PathValue("id")
	addLogAttrs(r.Context(), slog.String("media_id", id))
	m, err := s.deps.Store.GetVisible(r.Context(), claims.Subject, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
		return
	}
	if err != nil {
		s.internalError(w, r, "read the media", err)
		return
	}
	if claims.Subject != "" && m.Owner == claims.Subject {
		writeJSON(w, http.StatusOK, s.mediaResponse(m))
		return
	}
	s.writeShared(w, r, http.StatusOK, s.viewResponse(m, nil))
}

func (s *Server) listMedia(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	limit, cursor, ok := pageParams(w, r)
	if !ok {
		return
	}
	items, next, err := s.deps.Store.ListByOwner(r.Context(), claims.Subject, cursor, limit)
	if errors.Is(err, store.ErrInvalidCursor) {
		writeError(w, r, http.StatusBadRequest, "%s", badCursor)
		return
	}
	if err != nil {
		s.internalError(w, r, "list the media", err)
		return
	}
	resp := MediaListResponse{Items: make([]MediaResponse, 0, len(items))}
	for _, m := range items {
		resp.Items = append(resp.Items, s.mediaResponse(m))
	}
	if next != "" {
		resp.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) mediaResponse(m store.Media) MediaResponse {
	resp := MediaResponse{
		MediaID:       m.ID,
		Owner:         m.Owner,
		Region:        s.holdingRegion(m),
		Title:         m.Title,
		Filename:      m.Filename,
		ContentType:   m.ContentType,
		SizeBytes:     m.SizeBytes,
		Status:        m.Status,
		UploadedAt:    m.UploadedAt,
		CreatedAt:     m.CreatedAt,
		UpdatedAt:     m.UpdatedAt,
		Visibility:    m.Visibility,
		Description:   m.Description,
		UploaderEmail: m.UploaderEmail,
		PublishedAt:   m.PublishedAt,
		Likes:         m.Likes,
		Comments:      m.Comments,
	}
	if m.Error != "" {
		resp.Error = &m.Error
	}
	if m.DurationS > 0 {
		resp.DurationS = &m.DurationS
	}
	if m.Width > 0 && m.Height > 0 {
		resp.Width, resp.Height = &m.Width, &m.Height
	}
	d := s.delivery(m)
	resp.Renditions, resp.HLSURL, resp.DASHURL, resp.PosterURL, resp.Thumbnails, resp.CDNCookies = d.Renditions, d.HLS, d.DASH, d.Poster, d.Thumbnails, d.Cookies
	return resp
}

// delivery is where a media's derivatives are on the CDN, signed when the stack signs: its
// renditions, HLS master playlist, poster, scrubbing thumbnails and the cookies for
// everything under its prefix. They are on the CDN of the region that holds the media, which
// may not be this one.
func (s *Server) delivery(m store.Media) (d deliveryURLs) {
	cdn := s.cdnOf(m)
	expires := s.deps.Now().Add(s.cfg.CDNURLTTL)
	d.Renditions = make([]RenditionResponse, 0, len(m.Renditions))
	for _, rd := range m.Renditions {
		if u := cdn.url(s, rd.Key, expires); u != nil {
			d.Renditions = append(d.Renditions, RenditionResponse{Height: rd.Height, Width: rd.Width, URL: *u, Bytes: rd.Bytes})
		}
	}
	d.HLS, d.DASH, d.Poster = cdn.url(s, m.HLSKey, expires), cdn.url(s, m.DASHKey, expires), cdn.url(s, m.PosterKey, expires)
	if th := m.Thumbnails; th != nil {
		if track := cdn.url(s, th.TrackKey, expires); track != nil {
			d.Thumbnails = &ThumbnailsResponse{TrackURL: *track, SpriteURLs: []string{}, IntervalS: th.IntervalS, TileWidth: th.TileWidth, TileHeight: th.TileHeight}
			for _, key := range th.SpriteKeys {
				if u := cdn.url(s, key, expires); u != nil {
					d.Thumbnails.SpriteURLs = append(d.Thumbnails.SpriteURLs, *u)
				}
			}
		}
	}
	if cdn.signer != nil && (m.HLSKey != "" || m.PosterKey != "" || len(m.Renditions) > 0) {
		var err error
		if d.Cookies, err = cdn.signer.Cookies(cdn.baseURL+"/"+pathEscape(m.ID)+"/*", expires); err != nil {
			s.deps.Logger.Error("sign CDN cookies", "media_id", m.ID, "error", err)
			d.Cookies = nil
		}
	}
	return d
}

// deliveryURLs are a media's derivatives on the CDN, as its views show them.
type deliveryURLs struct {
	Renditions []RenditionResponse
	HLS, DASH  *string
	Poster     *string
	Thumbnails *ThumbnailsResponse
	Cookies    map[string]string
}

// holdingRegion is the region that holds m: recorded with it, or the home region for media
// recorded before rows said where they are held (the platform then had the home alone).
func (s *Server) holdingRegion(m store.Media) string {
	if m.Region != "" {
		return m.Region
	}
	return s.cfg.HomeRegion
}

// heldElsewhereError refuses what only the holding region's API can do: its original and
// derivatives are in that region's buckets, which this region's API neither reaches nor may
// change.
type heldElsewhereError struct{ mediaID, region, action string }

func (e *heldElsewhereError) Error() string {
	return fmt.Sprintf("media %s is held in region %s: %s it through that region's API", e.mediaID, e.region, e.action)
}

// heldBy refuses action on m, with a *heldElsewhereError, when another region holds it.
func (s *Server) heldBy(m store.Media, action string) error {
	if region := s.holdingRegion(m); region != s.cfg.Region {
		return &heldElsewhereError{mediaID: m.ID, region: region, action: action}
	}
	return nil
}

// heldElsewhere answers 409 when m is held by another region.
func (s *Server) heldElsewhere(w http.ResponseWriter, r *http.Request, m store.Media, action string) bool {
	if err := s.heldBy(m, action); err != nil {
		writeError(w, r, http.StatusConflict, "%s", err)
		return true
	}
	return false
}

// mediaCDN is the distribution that serves one media: its base URL and, when it requires
// signed requests, a signer for the key pair it trusts.
type mediaCDN struct {
	baseURL string
	signer  URLSigner
}

// cdnOf is the CDN of the region that holds m: recorded with the media, this region's for
// media recorded without one.
func (s *Server) cdnOf(m store.Media) mediaCDN {
	cdn := mediaCDN{baseURL: s.cfg.CDNBaseURL, signer: s.deps.Signer}
	if m.CDNBaseURL == "" {
		return cdn
	}
	cdn.baseURL = strings.TrimSuffix(m.CDNBaseURL, "/")
	// The platform signs with one key pair; each distribution names its public key by an id of
	// its own, which the media's row carries.
	if signer, ok := cdn.signer.(*cdnsign.Signer); ok && m.CDNKeyPairID != "" && m.CDNKeyPairID != s.cfg.CDNKeyPairID {
		cdn.signer = signer.As(m.CDNKeyPairID)
	}
	return cdn
}

// url is the CDN URL of a derivative key, signed when the distribution requires it; nil when
// there is no key (not transcoded yet) or it cannot be signed.
func (c mediaCDN) url(s *Server, key string, expires time.Time) *string {
	if key == "" {
		return nil
	}
	u := c.baseURL + "/" + escapeKey(key)
	if c.signer != nil {
		signed, err := c.signer.Sign(u, expires)
		if err != nil {
			s.deps.Logger.Error("sign CDN URL", "key", key, "error", err)
			return nil
		}
		u = signed
	}
	return &u
}

// escapeKey escapes each segment of an object key for a URL path, keeping the slashes.
func escapeKey(key string) string {
	segments := strings.Split(strings.TrimPrefix(key, "/"), "/")
	for i, seg := range segments {
		segments[i] = pathEscape(seg)
	}
	return strings.Join(segments, "/")
}

func pathEscape(s string) string {
	const unreserved = "-._~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(unreserved, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
	}
	return b.String()
}
