package api

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// Body limits: a create request is a few short strings; a completion lists up to 10,000
// parts of about 70 bytes each.
const (
	maxCreateBody   = 16 << 10
	maxCompleteBody = 1 << 20
	maxTitleLen     = 200
	maxFilenameLen  = 255
)

var ownerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}$`)

// OriginalKey is the object key of a media item's original: the owner's prefix and the
// media id, never anything the client chose.
func OriginalKey(owner, mediaID string) string {
	return "uploads/" + owner + "/" + mediaID + "/original"
}

type createUploadRequest struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Visibility  string `json:"visibility"` // the configured default when empty
}

// UploadInstructions tell the client how to send the original. Single: one PUT of the whole
// file to URL with Headers. Multipart: a PUT of each part to its URL (the part's ETag
// response header is kept), then POST CompleteURL with the ETags.
type UploadInstructions struct {
	Type      string            `json:"type"` // "single" or "multipart"
	Method    string            `json:"method"`
	URL       string            `json:"url,omitempty"`
	Headers   map[string]string `json:"headers"`
	ExpiresAt time.Time         `json:"expires_at"`

	UploadID    string       `json:"upload_id,omitempty"`
	PartSize    int64        `json:"part_size,omitempty"`
	Parts       []UploadPart `json:"parts,omitempty"`
	CompleteURL string       `json:"complete_url,omitempty"`
}

// UploadPart is one part of a multipart upload.
type UploadPart struct {
	PartNumber int32             `json:"part_number"`
	URL        string            `json:"url"`
	SizeBytes  int64             `json:"size_bytes"`
	Headers    map[string]string `json:"headers"`
}

// CreateUploadResponse is the answer to POST /v1/uploads.
type CreateUploadResponse struct {
	MediaID string             `json:"media_id"`
	Upload  UploadInstructions `json:"upload"`
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	if !ownerPattern.MatchString(claims.Subject) {
		// The subject becomes part of an object key; Cognito's are UUIDs.
		writeError(w, r, http.StatusForbidden, "token subject cannot name an upload prefix")
		return
	}
	var req createUploadRequest
	if !readJSON(w, r, maxCreateBody, &req) {
		return
	}
	contentType, status, msg := s.checkUpload(&req)
	if status != 0 {
		writeError(w, r, status, "%s", msg)
		return
	}
	if !s.withinLimit(w, r, "uploads", s.cfg.UploadsPerDay, 24*time.Hour, func(since time.Time) (int, time.Time, error) {
		return s.deps.Store.UploadsSince(r.Context(), claims.Subject, since)
	}) {
		return
	}

	m := store.Media{
		ID:          uuid.NewString(),
		Owner:       claims.Subject,
		Title:       req.Title,
		Filename:    req.Filename,
		ContentType: contentType,
		SizeBytes:   req.SizeBytes,
		Status:      store.StatusPendingUpload,
		Description: req.Description,
		Visibility:  store.Visibility(req.Visibility),
		// Told when the media is ready or failed, when the stack sends email.
		UploaderEmail: claims.Email,
		// Held here: the original lands in this region's bucket, its derivatives are served
		// by this region's distribution, whichever region the catalogue is read from.
		Region:       s.cfg.Region,
		CDNBaseURL:   s.cfg.CDNBaseURL,
		CDNKeyPairID: s.cfg.CDNKeyPairID,
	}
	m.OriginalKey = OriginalKey(m.Owner, m.ID)
	addLogAttrs(r.Context(), slog.String("media_id", m.ID), slog.Int64("size_bytes", m.SizeBytes))
	expires := s.deps.Now().Add(s.cfg.UploadURLTTL).UTC().Truncate(time.Second)

	var upload UploadInstructions
	var err error
	if req.SizeBytes > s.cfg.MultipartThreshold {
		upload, err = s.multipartUpload(r, m, expires)
	} else {
		upload, err = s.singleUpload(r, m, expires)
	}
	if err != nil {
		s.internalError(w, r, "prepare the upload", err)
		return
	}
	// The row is written after S3 agreed, so that no pending row exists without a way to
	// upload; an upload URL without a row is harmless (the transcoder finds no media).
	if err := s.deps.Store.Create(r.Context(), m); err != nil {
		s.internalError(w, r, "record the media", err)
		return
	}
	w.Header().Set("Location", "/v1/media/"+m.ID)
	writeJSON(w, http.StatusCreated, CreateUploadResponse{MediaID: m.ID, Upload: upload})
}

// checkUpload validates and normalises req; status is 0 when it is acceptable.
func (s *Server) checkUpload(req *createUploadRequest) (contentType string, status int, msg string) {
	// Browsers send paths on some platforms; only the base name is kept, and only as metadata.
	req.Filename = strings.TrimSpace(path.Base(strings.ReplaceAll(req.Filename, `\`, "/")))
	req.Title = strings.TrimSpace(req.Title)
	switch {
	case req.Filename == "" || req.Filename == "." || req.Filename == "/":
		return "", http.StatusBadRequest, "filename is required"
	case !utf8.ValidString(req.Filename) || len(req.Filename) > maxFilenameLen || strings.IndexFunc(req.Filename, unicode.IsControl) >= 0:
		return "", http.StatusBadRequest, fmt.Sprintf("filename must be valid UTF-8 of at most %d bytes without control characters", maxFilenameLen)
	case !utf8.ValidString(req.Title) || utf8.RuneCountInString(req.Title) > maxTitleLen || strings.IndexFunc(req.Title, unicode.IsControl) >= 0:
		return "", http.StatusBadRequest, fmt.Sprintf("title must be at most %d characters without control characters", maxTitleLen)
	case req.SizeBytes <= 0:
		return "", http.StatusBadRequest, "size_bytes must be a positive number of bytes"
	case req.SizeBytes > s.cfg.MaxUploadBytes:
		return "", http.StatusRequestEntityTooLarge, fmt.Sprintf("size_bytes %d exceeds the limit of %d bytes", req.SizeBytes, s.cfg.MaxUploadBytes)
	}
	if req.Title == "" {
		req.Title = strings.TrimSuffix(req.Filename, path.Ext(req.Filename))
	}
	if msg := checkText("description", req.Description, 0, maxDescriptionLen, true); msg != "" {
		return "", http.StatusBadRequest, msg
	}
	if req.Visibility == "" {
		req.Visibility = string(s.cfg.DefaultVisibility)
	}
	if _, msg := parseVisibility(req.Visibility); msg != "" {
		return "", http.StatusBadRequest, msg
	}
	mt, _, err := mime.ParseMediaType(req.ContentType)
	if err != nil || !slices.Contains(s.cfg.AllowedContentTypes, mt) {
		return "", http.StatusBadRequest, fmt.Sprintf("content_type %q is not accepted; allowed: %s", req.ContentType, strings.Join(s.cfg.AllowedContentTypes, ", "))
	}
	return mt, 0, ""
}

func (s *Server) singleUpload(r *http.Request, m store.Media, expires time.Time) (UploadInstructions, error) {
	// Content-Type and Content-Length are signed, so S3 refuses a body of another size or
	// type than the one that passed the limits.
	req, err := s.deps.Presigner.PresignPutObject(r.Context(), &s3.PutObjectInput{
		Bucket:        &s.cfg.OriginalsBucket,
		Key:           &m.OriginalKey,
		ContentType:   &m.ContentType,
		ContentLength: &m.SizeBytes,
	}, s3.WithPresignExpires(s.cfg.UploadURLTTL))
	if err != nil {
		return UploadInstructions{}, fmt.Errorf("presign PUT: %w", err)
	}
	return UploadInstructions{
		Type:      "single",
		Method:    req.Method,
		URL:       req.URL,
		Headers:   clientHeaders(req.SignedHeader),
		ExpiresAt: expires,
	}, nil
}

func (s *Server) multipartUpload(r *http.Request, m store.Media, expires time.Time) (UploadInstructions, error) {
	created, err := s.deps.Bucket.CreateMultipartUpload(r.Context(), &s3.CreateMultipartUploadInput{
		Bucket:      &s.cfg.OriginalsBucket,
		Key:         &m.OriginalKey,
		ContentType: &m.ContentType,
	})
	if err != nil {
		return UploadInstructions{}, fmt.Errorf("create multipart upload: %w", err)
	}
	up := UploadInstructions{
		Type:        "multipart",
		Method:      http.MethodPut,
		Headers:     map[string]string{},
		ExpiresAt:   expires,
		UploadID:    aws.ToString(created.UploadId),
		PartSize:    s.cfg.PartSize,
		CompleteURL: "/v1/uploads/" + m.ID + "/complete",
	}
	for n, offset := int32(1), int64(0); offset < m.SizeBytes; n, offset = n+1, offset+s.cfg.PartSize {
		size := min(s.cfg.PartSize, m.SizeBytes-offset)
		req, err := s.deps.Presigner.PresignUploadPart(r.Context(), &s3.UploadPartInput{
			Bucket:        &s.cfg.OriginalsBucket,
			Key:           &m.OriginalKey,
			UploadId:      created.UploadId,
			PartNumber:    aws.Int32(n),
			ContentLength: aws.Int64(size),
		}, s3.WithPresignExpires(s.cfg.UploadURLTTL))
		if err != nil {
			return UploadInstructions{}, fmt.Errorf("presign part %d: %w", n, err)
		}
		up.Parts = append(up.Parts, UploadPart{PartNumber: n, URL: req.URL, SizeBytes: size, Headers: clientHeaders(req.SignedHeader)})
	}
	return up, nil
}

// clientHeaders are the signed headers the client must send; Host is set by any HTTP client
// from the URL.
func clientHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for name, values := range h {
		if strings.EqualFold(name, "Host") || len(values) == 0 {
			continue
		}
		out[http.CanonicalHeaderKey(name)] = strings.Join(values, ",")
	}
	return out
}

type completeUploadRequest struct {
	UploadID string `json:"upload_id"`
	Parts    []struct {
		PartNumber int32  `json:"part_number"`
		ETag       string `json:"etag"`
	} `json:"parts"`
}

func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	id := r.PathValue("id")
	addLogAttrs(r.Context(), slog.String("media_id", id))
	var req completeUploadRequest
	if !readJSON(w, r, maxCompleteBody, &req) {
		return
	}
	m, err := s.deps.Store.GetForOwner(r.Context(), claims.Subject, id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
		return
	}
	if err != nil {
		s.internalError(w, r, "read the media", err)
		return
	}
	if m.Status != store.StatusPendingUpload {
		writeError(w, r, http.StatusConflict, "media %s is %s: its upload is already complete", id, m.Status)
		return
	}
	if s.heldElsewhere(w, r, m, "complete the upload of") {
		return
	}
	if req.UploadID == "" {
		writeError(w, r, http.StatusBadRequest, "upload_id is required")
		return
	}
	if len(req.Parts) == 0 || len(req.Parts) > maxParts {
		writeError(w, r, http.StatusBadRequest, "parts must list from 1 to %d parts", maxParts)
		return
	}
	parts := make([]s3types.CompletedPart, 0, len(req.Parts))
	for i, p := range req.Parts {
		if p.PartNumber < 1 || p.PartNumber > maxParts || (i > 0 && p.PartNumber <= req.Parts[i-1].PartNumber) {
			writeError(w, r, http.StatusBadRequest, "parts must be in ascending part_number order, each from 1 to %d", maxParts)
			return
		}
		if strings.Trim(p.ETag, `"`) == "" {
			writeError(w, r, http.StatusBadRequest, "part %d has no etag", p.PartNumber)
			return
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(p.PartNumber), ETag: aws.String(p.ETag)})
	}
	// The upload id must be one S3 holds for this media's key, which comes from the row the
	// caller owns: so no one completes an upload of someone else's media. Checked here, not
	// left to CompleteMultipartUpload, because not every S3 (the emulator) ties ids to keys.
	found, err := s.hasMultipartUpload(r, m.OriginalKey, req.UploadID)
	if err != nil {
		s.internalError(w, r, "look up the multipart upload", err)
		return
	}
	if !found {
		writeError(w, r, http.StatusNotFound, "no multipart upload %q in progress for media %s", req.UploadID, id)
		return
	}
	_, err = s.deps.Bucket.CompleteMultipartUpload(r.Context(), &s3.CompleteMultipartUploadInput{
		Bucket:          &s.cfg.OriginalsBucket,
		Key:             &m.OriginalKey,
		UploadId:        &req.UploadID,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode() {
			case "NoSuchUpload":
				writeError(w, r, http.StatusNotFound, "no multipart upload %q in progress for media %s", req.UploadID, id)
				return
			case "InvalidPart", "InvalidPartOrder", "EntityTooSmall":
				writeError(w, r, http.StatusBadRequest, "S3 refused the parts: %s", apiErr.ErrorMessage())
				return
			}
		}
		s.internalError(w, r, "complete the multipart upload", err)
		return
	}
	writeJSON(w, http.StatusOK, s.mediaResponse(m))
}

// hasMultipartUpload reports whether uploadID is an upload in progress of exactly key.
func (s *Server) hasMultipartUpload(r *http.Request, key, uploadID string) (bool, error) {
	err := s.multipartUploads(r, key, func(id string) error {
		if id == uploadID {
			return errFound // no need to list further
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	return false, err
}

// errFound stops a listing once what it looked for is found.
var errFound = errors.New("found")

// multipartUploads calls fn with the id of each upload in progress of exactly key.
func (s *Server) multipartUploads(r *http.Request, key string, fn func(uploadID string) error) error {
	in := &s3.ListMultipartUploadsInput{Bucket: &s.cfg.OriginalsBucket, Prefix: &key}
	for {
		out, err := s.deps.Bucket.ListMultipartUploads(r.Context(), in)
		if err != nil {
			return err
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) == key {
				if err := fn(aws.ToString(u.UploadId)); err != nil {
					return err
				}
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
