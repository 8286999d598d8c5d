package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/auth"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/cdn"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/events"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/objects"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// deleteMedia deletes the owner's media for good: its metadata with likes and comments
// (the store keeps a tombstone), every version of its original, every derivative, its
// files in the CDN's caches, and announces it. Deleting again repeats the cleanup, so that
// a DELETE that failed half way is finished by its retry; the event goes out once.
func (s *Server) deleteMedia(w http.ResponseWriter, r *http.Request, claims auth.Claims) {
	id := r.PathValue("id")
	addLogAttrs(r.Context(), slog.String("media_id", id))
	// Only the holding region can remove the files: refused before anything is deleted, a
	// retry of a deletion that stopped half way included.
	m, first, err := s.deps.Store.Delete(r.Context(), claims.Subject, id, func(m store.Media) error { return s.heldBy(m, "delete") })
	var elsewhere *heldElsewhereError
	if errors.As(err, &elsewhere) {
		writeError(w, r, http.StatusConflict, "%s", elsewhere)
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, http.StatusNotFound, "media %s not found", id)
		return
	}
	if err != nil {
		s.internalError(w, r, "delete the media", err)
		return
	}
	if first && s.deps.Events != nil && s.cfg.TopicARN != "" {
		if err := s.announceDeleted(r, m); err != nil {
			// The media is gone either way; subscribers miss this one event.
			s.deps.Logger.ErrorContext(r.Context(), "announce the deletion", "request_id", RequestID(r.Context()), "media_id", id, "error", err)
		}
	}
	// A multipart upload still in progress could complete the original again.
	if err := s.multipartUploads(r, m.OriginalKey, func(uploadID string) error {
		_, err := s.deps.Bucket.AbortMultipartUpload(r.Context(), &s3.AbortMultipartUploadInput{Bucket: &s.cfg.OriginalsBucket, Key: &m.OriginalKey, UploadId: &uploadID})
		return err
	}); err != nil {
		s.internalError(w, r, "abort the original's upload (DELETE again to finish)", err)
		return
	}
	originals, err := objects.PurgeKey(r.Context(), s.deps.Bucket, s.cfg.OriginalsBucket, m.OriginalKey)
	if err != nil {
		s.internalError(w, r, "remove the original (DELETE again to finish)", err)
		return
	}
	derivatives, err := objects.Purge(r.Context(), s.deps.Bucket, s.cfg.DerivativesBucket, m.ID+"/", nil)
	if err != nil {
		s.internalError(w, r, "remove the derivatives (DELETE again to finish)", err)
		return
	}
	addLogAttrs(r.Context(), slog.Int("original_versions", originals), slog.Int("derivatives", derivatives))
	if s.deps.CDN != nil && s.cfg.CDNDistributionID != "" {
		// One per deletion request: a retried DELETE invalidates again.
		if err := cdn.InvalidateMedia(r.Context(), s.deps.CDN, s.cfg.CDNDistributionID, m.ID, RequestID(r.Context())); err != nil {
			s.internalError(w, r, "invalidate the media's CDN files (DELETE again to finish)", err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) announceDeleted(r *http.Request, m store.Media) error {
	return events.Publish(r.Context(), s.deps.Events, s.cfg.TopicARN, events.MediaEvent{MediaID: m.ID, Owner: m.Owner, Status: events.StatusDeleted})
}
