package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
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
	PosterURL   *string             `json:"poster_url"`
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
	resp.Renditions, resp.HLSURL, resp.PosterURL, resp.CDNCookies = s.delivery(m)
	return resp
}

// delivery is where a media's derivatives are on the CDN, signed when the stack signs: its
// renditions, HLS master playlist, poster and the cookies for everything under its prefix.
func (s *Server) delivery(m store.Media) (renditions []RenditionResponse, hls, poster *string, cookies map[string]string) {
	expires := s.deps.Now().Add(s.cfg.CDNURLTTL)
	renditions = make([]RenditionResponse, 0, len(m.Renditions))
	for _, rd := range m.Renditions {
		if u := s.cdnURL(rd.Key, expires); u != nil {
			renditions = append(renditions, RenditionResponse{Height: rd.Height, Width: rd.Width, URL: *u, Bytes: rd.Bytes})
		}
	}
	hls, poster = s.cdnURL(m.HLSKey, expires), s.cdnURL(m.PosterKey, expires)
	if m.HLSKey != "" || m.PosterKey != "" || len(m.Renditions) > 0 {
		cookies = s.cdnCookies(m.ID, expires)
	}
	return renditions, hls, poster, cookies
}

// cdnCookies are the signed cookies for everything under the media's prefix; nil when the
// stack does not sign or they cannot be signed.
func (s *Server) cdnCookies(mediaID string, expires time.Time) map[string]string {
	if s.deps.Signer == nil {
		return nil
	}
	cookies, err := s.deps.Signer.Cookies(s.cfg.CDNBaseURL+"/"+pathEscape(mediaID)+"/*", expires)
	if err != nil {
		s.deps.Logger.Error("sign CDN cookies", "media_id", mediaID, "error", err)
		return nil
	}
	return cookies
}

// cdnURL is the CDN URL of a derivative key, signed when the stack trusts a key group; nil
// when there is no key (not transcoded yet) or it cannot be signed.
func (s *Server) cdnURL(key string, expires time.Time) *string {
	if key == "" {
		return nil
	}
	u := s.cfg.CDNBaseURL + "/" + escapeKey(key)
	if s.deps.Signer != nil {
		signed, err := s.deps.Signer.Sign(u, expires)
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
