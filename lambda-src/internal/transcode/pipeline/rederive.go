package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/cdn"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/events"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode"
)

// Lost derivatives are made again. Two paths find them: S3's s3:ReducedRedundancyLostObject
// notification of the derivatives bucket, and the reconciler, which a schedule runs with a
// {"reconcile": {}} message and which checks a page of ready media, least recently checked
// first, for missing derivatives. Either leads to a re-derivation of the media: its
// original transcoded again, under the same keys (so the same URLs), while it stays ready
// and in the feed; then its files are invalidated on the CDN. See store.ClaimRederive.

// RederiveJob is the message of a media whose derivatives are to be made again.
type RederiveJob struct {
	MediaID string `json:"media_id"`
	Reason  string `json:"reason,omitempty"` // what found them missing, for the logs
}

// Reconcile is the schedule's message: check up to Limit media (DefaultReconcileLimit when 0).
type Reconcile struct {
	Limit int `json:"limit,omitempty"`
}

// DefaultReconcileLimit is how many media one reconcile message checks by default.
const DefaultReconcileLimit = 100

// Invalidation is where the files of media made again are invalidated.
type Invalidation struct {
	Client         cdn.Invalidator
	DistributionID string
}

// handleLost handles S3's report of a lost derivative: the media it belongs to is made again
// if it misses anything, which one job does however many of its objects were reported.
func (p *Processor) handleLost(ctx context.Context, u events.Upload) error {
	if u.Bucket != p.Transcoder.DerivativesBucket {
		p.log().Warn("ignoring a lost object of another bucket", "bucket", u.Bucket, "key", u.Key)
		return nil
	}
	id, _, _ := strings.Cut(u.Key, "/")
	return p.rederive(ctx, RederiveJob{MediaID: id, Reason: "S3 lost " + u.Key}, "")
}

// rederive makes a media's derivatives again when some are missing. body is the job's
// message, which may be sent on to the worker fleet; "" when there is none.
func (p *Processor) rederive(ctx context.Context, rj RederiveJob, body string) error {
	log := p.log().With("media_id", rj.MediaID, "cause", rj.Reason)
	m, err := p.Store.Get(ctx, rj.MediaID)
	if errors.Is(err, store.ErrNotFound) {
		log.Info("no media to make again: unknown or deleted")
		return nil
	}
	if err != nil {
		return err
	}
	if m.Status != store.StatusReady {
		// A transcode in flight writes every derivative, and a failed media has none.
		log.Info("no derivatives to make again", "status", m.Status)
		return nil
	}
	if !m.Rederiving { // one in flight is finished whatever the bucket holds
		missing, err := p.missing(ctx, m)
		if err != nil {
			return err
		}
		if missing == "" {
			log.Info("every derivative is there; nothing to make again")
			return p.Store.MarkChecked(ctx, []string{m.ID})
		}
		log = log.With("missing", missing)
	}
	if body == "" {
		b, _ := json.Marshal(jobMessage{RederiveJob: &rj}) // cannot fail: strings only
		body = string(b)
	}
	log = log.With("owner", m.Owner)
	job := transcode.Job{MediaID: m.ID, Key: m.OriginalKey, SizeBytes: m.SizeBytes}
	return p.transcode(ctx, log, job, body, func(lease time.Duration) (store.Claim, error) {
		return p.Store.ClaimRederive(ctx, m.ID, lease)
	})
}

// missing says what of a ready media's derivatives the bucket lacks; "" when nothing.
func (p *Processor) missing(ctx context.Context, m store.Media) (string, error) {
	named := []string{m.HLSKey, m.DASHKey, m.PosterKey}
	for _, r := range m.Renditions {
		named = append(named, r.Key)
	}
	if th := m.Thumbnails; th != nil {
		named = append(named, th.TrackKey)
		named = append(named, th.SpriteKeys...)
	}
	d, err := p.Transcoder.CheckDerivatives(ctx, m.ID, named)
	if err != nil {
		return "", err
	}
	var what []string
	if len(d.Missing) > 0 {
		what = append(what, strings.Join(d.Missing, ", "))
	}
	if d.Count < m.DerivativeCount {
		what = append(what, fmt.Sprintf("%d of %d objects", m.DerivativeCount-d.Count, m.DerivativeCount))
	}
	return strings.Join(what, "; "), nil
}

// reconcile checks the derivatives of the media due for a check and sends a re-derivation
// job for each that misses some. Every media checked is recorded as such: should its job
// fail, a later pass finds it again.
func (p *Processor) reconcile(ctx context.Context, r Reconcile) error {
	log := p.log().With("reconcile", true)
	limit := r.Limit
	if limit <= 0 {
		limit = DefaultReconcileLimit
	}
	home := p.HomeRegion == "" || p.HomeRegion == p.Region
	media, err := p.Store.DueForCheck(ctx, p.Region, home, limit)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		checked []string
		jobs    []jobMessage
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, m := range media {
		g.Go(func() error {
			reason := "the reconciler found its re-derivation abandoned" // its jobs were lost
			if !m.Rederiving {
				missing, err := p.missing(gctx, m)
				if err != nil {
					log.Warn("cannot check a media's derivatives", "media_id", m.ID, "error", err)
					return nil
				}
				reason = ""
				if missing != "" {
					reason = "the reconciler found missing: " + missing
				}
			}
			mu.Lock()
			defer mu.Unlock()
			checked = append(checked, m.ID)
			if reason != "" {
				log.Warn("making a media's derivatives again", "media_id", m.ID, "reason", reason)
				jobs = append(jobs, jobMessage{RederiveJob: &RederiveJob{MediaID: m.ID, Reason: reason}})
			}
			return nil
		})
	}
	_ = g.Wait() // failures to check are logged; those media stay due
	if err := p.sendJobs(ctx, log, "re-derivation jobs", jobs); err != nil {
		return err
	}
	if len(checked) > 0 {
		if err := p.Store.MarkChecked(ctx, checked); err != nil {
			return err
		}
	}
	log.Info("derivatives checked", "media", len(checked), "incomplete", len(jobs))
	return nil
}

// invalidate drops a media's files from the CDN's caches, where errors of its missing files
// may be kept; a failure is logged, as the caches expire on their own.
func (p *Processor) invalidate(ctx context.Context, log *slog.Logger, mediaID string) {
	if p.CDN == nil {
		return
	}
	if err := cdn.InvalidateMedia(ctx, p.CDN.Client, p.CDN.DistributionID, mediaID, strconv.FormatInt(time.Now().UnixNano(), 36)); err != nil {
		log.Error("the media made again stays cached on the CDN", "error", err)
		return
	}
	log.Info("media made again invalidated on the CDN", "path", cdn.MediaPath(mediaID))
}
