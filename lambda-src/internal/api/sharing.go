package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// Limits of what owners and viewers write.
const (
	maxDescriptionLen = 5000
	maxCommentLen     = 2000
	maxPatchBody      = 64 << 10
	maxCommentBody    = 16 << 10
)

// ViewResponse is what anyone but the owner sees of a ready public or unlisted media: no
// owner-only field (status details, error, file name, the uploader's email).
type ViewResponse struct {
	MediaID     string              `json:"media_id"`
	Owner       string              `json:"owner"`
	Region      string              `json:"region"` // holding the media and serving its derivatives
	Title       string              `json:"title"`
	Description string              `json:"description"`
	Visibility  store.Visibility    `json:"visibility"`
	DurationS   float64             `json:"duration_s"`
	Width       int                 `json:"width"`
	Height      int                 `json:"height"`
	Renditions  []RenditionResponse `json:"renditions"`
	HLSURL      *string             `json:"hls_url"`
	DASHURL     *string             `json:"dash_url"`
	PosterURL   *string             `json:"poster_url"`
	Thumbnails  *ThumbnailsResponse `json:"thumbnails"`
	CDNCookies  map[string]string   `json:"cdn_cookies"`
	Likes       int                 `json:"likes"`
	Comments    int                 `json:"comments"`
	// LikedByMe is there when the request carried a token.
	LikedByMe   *bool      `json:"liked_by_me,omitempty"`
	PublishedAt *time.Time `json:"published_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

// FeedResponse is a page of the public feed, newest first.
type FeedResponse struct {
	Items      []ViewResponse `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}

// CommentResponse is one comment: comment_id, media_id, author, text, created_at.
type CommentResponse = store.Comment

// CommentListResponse is a page of a media's comments, oldest first.
type CommentListResponse struct {
	Items      []CommentResponse `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

func (s *Server) viewResponse(m store.Media, likedByMe *bool) ViewResponse {
	v := ViewResponse{
		MediaID: m.ID, Owner: m.Owner, Region: s.holdingRegion(m), Title: m.Title, Description: m.Description, Visibility: m.Visibility,
		DurationS: m.DurationS, Width: m.Width, Height: m.Height, Likes: m.Likes, Comments: m.Comments,
		LikedByMe: likedByMe, PublishedAt: m.PublishedAt, CreatedAt: m.CreatedAt,
	}
	d := s.delivery(m)
	v.Renditions, v.HLSURL, v.DASHURL, v.PosterURL, v.Thumbnails, v.CDNCookies = d.Renditions, d.HLS, d.DASH, d.Poster, d.Thumbnails, d.Cookies
	return v
}

// writeShared writes what anyone may read: cacheable by shared caches (the CDN) for
// PublicMaxAge when the request carried no token, never stored when it did (the answer may
// hold what is the token holder's alone, liked_by_me for one).
func (s *Server) writeShared(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Add("Vary", "Authorization")
	if r.Header.Get("Authorization") != "" {
		writeJSON(w, status, v)
		return
	}
	writeJSONCached(w, status, v, fmt.Sprintf("public, max-age=%d", int(s.cfg.PublicMaxAge.Seconds())))
}

// badCursor answers a cursor the store did not issue.
const badCursor = "cursor is not one this API issued: pass next_cursor of the previous page"

// pageParams reads limit and cursor; ok is false when it answered a 400.
func pageParams(w http.ResponseWriter, r *http.Request) (limit int, cursor string, ok bool) {
	q := r.URL.Query()
	limit = store.DefaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPageSize {
			writeError(w, r, http.StatusBadRequest, "limit must be an integer from 1 to %d", store.MaxPageSize)
			return 0, "", false
		}
		limit = n
	}
	return limit, q.Get("cursor"), true
}

func (s *Server) feed(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	limit, cursor, ok := pageParams(w, r)
	if !ok {
		return
	}
	items, next, err := s.deps.Store.Feed(r.Context(), claims.Subject, cursor, limit)
	if errors.Is(err, store.ErrInvalidCursor) {
		writeError(w, r, http.StatusBadRequest, "%s", badCursor)
		return
	}
	if err != nil {
		s.internalError(w, r, "read the feed", err)
		return
	}
	resp := FeedResponse{Items: make([]ViewResponse, 0, len(items))}
	for _, it := range items {
		var liked *bool
		if claims.Subject != "" {
			liked = &it.LikedByMe
		}
		resp.Items = append(resp.Items, s.viewResponse(it.Media, liked))
	}
	if next != "" {
		resp.NextCursor = &next
	}
	s.writeShared(w, r, http.StatusOK, resp)
}

type updateRequest struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Visibility  *string `json:"visibility"`
}

func (s *Server) updateMedia(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	id := r.PathValue("id")
	addLogAttrs(r.Context(), slog.String("media_id", id))
	var req updateRequest
	if !readJSON(w, r, maxPatchBody, &req) {
		return
	}
	var c store.Changes
	if req.Title != nil {
		t := strings.TrimSpace(*req.Title)
		if msg := checkText("title", t, 1, maxTitleLen, false); msg != "" {
			writeError(w, r, http.StatusBadRequest, "%s", msg)
			return
		}
		c.Title = &t
	}
	if req.Description != nil {
		if msg := checkText("description", *req.Description, 0, maxDescriptionLen, true); msg != "" {
			writeError(w, r, http.StatusBadRequest, "%s", msg)
			return
		}
		c.Description = req.Description
	}
	if req.Visibility != nil {
		v, msg := parseVisibility(*req.Visibility)
		if msg != "" {
			writeError(w, r, http.StatusBadRequest, "%s", msg)
			return
		}
		c.Visibility = &v
	}
	if c == (store.Changes{}) {
		writeError(w, r, http.StatusBadRequest, "send at least one of title, description and visibility")
		return
	}
	m, err := s.deps.Store.Update(r.Context(), claims.Subject, id, c)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
		return
	}
	if err != nil {
		s.internalError(w, r, "update the media", err)
		return
	}
	writeJSON(w, http.StatusOK, s.mediaResponse(m))
}

func parseVisibility(v string) (store.Visibility, string) {
	vis := store.Visibility(v)
	if !vis.Valid() {
		return "", fmt.Sprintf("visibility must be private, unlisted or public, got %q", v)
	}
	return vis, ""
}

// checkText returns why text is not acceptable as field, "" when it is: lengths count
// characters; line breaks and tabs are allowed only where multiline.
func checkText(field, text string, minLen, maxLen int, multiline bool) string {
	if !utf8.ValidString(text) {
		return field + " must be valid UTF-8"
	}
	n := utf8.RuneCountInString(text)
	if n < minLen || n > maxLen {
		return fmt.Sprintf("%s must be %d to %d characters, got %d", field, minLen, maxLen, n)
	}
	if strings.IndexFunc(text, func(c rune) bool { return unicode.IsControl(c) && (!multiline || c != '\n' && c != '\t') }) >= 0 {
		if multiline {
			return field + " must not hold control characters other than line breaks and tabs"
		}
		return field + " must not hold control characters"
	}
	return ""
}

func (s *Server) like(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	s.likeOrUnlike(w, r, claims, s.deps.Store.Like)
}

func (s *Server) unlike(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	s.likeOrUnlike(w, r, claims, s.deps.Store.Unlike)
}

func (s *Server) likeOrUnlike(w http.ResponseWriter, r *http.Request, claims auth.Claims, op func(ctx context.Context, viewer, id string) error) {
	id := r.PathValue("id")
	addLogAttrs(r.Context(), slog.String("media_id", id))
	err := op(r.Context(), claims.Subject, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
		return
	}
	if err != nil {
		s.internalError(w, r, "record the like", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type commentRequest struct {
	Text string `json:"text"`
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	id := r.PathValue("id")
	addLogAttrs(r.Context(), slog.String("media_id", id))
	var req commentRequest
	if !readJSON(w, r, maxCommentBody, &req) {
		return
	}
	if msg := checkText("text", req.Text, 1, maxCommentLen, true); msg != "" {
		writeError(w, r, http.StatusBadRequest, "%s", msg)
		return
	}
	if !s.withinLimit(w, r, "comments", s.cfg.CommentsPerMinute, time.Minute, func(since time.Time) (int, time.Time, error) {
		return s.deps.Store.CommentsSince(r.Context(), claims.Subject, since)
	}) {
		return
	}
	c, err := s.deps.Store.AddComment(r.Context(), claims.Subject, id, req.Text)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
		return
	}
	if err != nil {
		s.internalError(w, r, "add the comment", err)
		return
	}
	w.Header().Set("Location", "/v1/media/"+id+"/comments/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	id := r.PathValue("id")
	addLogAttrs(r.Context(), slog.String("media_id", id))
	limit, cursor, ok := pageParams(w, r)
	if !ok {
		return
	}
	items, next, err := s.deps.Store.Comments(r.Context(), claims.Subject, id, cursor, limit)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
		return
	case errors.Is(err, store.ErrInvalidCursor):
		writeError(w, r, http.StatusBadRequest, "%s", badCursor)
		return
	case err != nil:
		s.internalError(w, r, "list the comments", err)
		return
	}
	resp := CommentListResponse{Items: items}
	if resp.Items == nil {
		resp.Items = []CommentResponse{}
	}
	if next != "" {
		resp.NextCursor = &next
	}
	s.writeShared(w, r, http.StatusOK, resp)
}

func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	id, commentID := r.PathValue("id"), r.PathValue("comment_id")
	addLogAttrs(r.Context(), slog.String("media_id", id), slog.String("comment_id", commentID))
	err := s.deps.Store.DeleteComment(r.Context(), claims.Subject, id, commentID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
	case errors.Is(err, store.ErrCommentNotFound):
		writeError(w, r, http.StatusNotFound, "comment %s not found on media %s, or not yours to delete", commentID, id)
	case err != nil:
		s.internalError(w, r, "delete the comment", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// withinLimit answers 429 and returns false when the caller made limit or more of what in
// the last window; count says how many since a time, and the oldest of them. 0 is no limit.
func (s *Server) withinLimit(w http.ResponseWriter, r *http.Request, what string, limit int, window time.Duration,
	count func(since time.Time) (int, time.Time, error)) bool {
	if limit <= 0 {
		return true
	}
	now := s.deps.Now()
	n, oldest, err := count(now.Add(-window))
	if err != nil {
		s.internalError(w, r, "check the "+what+" limit", err)
		return false
	}
	if n < limit {
		return true
	}
	// A place frees when the oldest leaves the window.
	wait := max(1, int(math.Ceil(oldest.Add(window).Sub(now).Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(wait))
	writeError(w, r, http.StatusTooManyRequests, "limit of %d %s per %s reached: try again in %d s", limit, what, windowName(window), wait)
	return false
}

func windowName(d time.Duration) string {
	switch d {
	case time.Minute:
		return "minute"
	case 24 * time.Hour:
		return "day"
	}
	return d.String()
}
