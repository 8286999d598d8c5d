package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/events"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/notify"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode"
)

// Processor handles messages of the transcode queue.
type Processor struct {
	Store           *store.Store
	Transcoder      *transcode.Transcoder
	SNS             events.Publisher
	SQS             VisibilityChanger // puts messages back early (see RetryAfter); nil leaves them to the queue
	Email           *notify.Email     // tells uploaders of the outcome; nil sends no email
	TopicARN        string
	CDNBaseURL      string
	OriginalsBucket string
	JobQueueURL     string        // the transcode queue, for jobs of its own (chunks, re-derivations)
	Chunking        Chunking      // long videos in chunks; the zero value transcodes every video in one pass
	Worker          Routing       // jobs for the worker fleet; the zero value keeps every job
	Queue           Enqueuer      // sends jobs; required with Chunking and for reconciling
	Region          string        // whose media the reconciler checks
	HomeRegion      string        // the catalogue's; "" or Region: this is the home region
	CDN             *Invalidation // where media made again are invalidated; nil: nowhere
	MaxAttempts     int           // transcode claims (of a media, of a chunk) before giving up; 0: no limit
	Lease           time.Duration // of a claim, renewed while working; DefaultLease when 0
	DeadlineMargin  time.Duration // stop this long before ctx's deadline; DefaultDeadlineMargin when 0
	RetryBackoff    time.Duration // first wait of a message put back; DefaultRetryBackoff when 0
	Log             *slog.Logger
}

// ErrRetry wraps the errors of messages that must come back: the caller leaves the message
// on the queue (a batch item failure) for SQS to redeliver.
var ErrRetry = errors.New("retry later")

// Handle processes one message body. nil means the message is done with and must be
// deleted: processed, a duplicate of processed work, or unprocessable for good (a poison
// message is logged and dropped, never looped). An error wrapping ErrRetry means redeliver.
func (p *Processor) Handle(ctx context.Context, body string) error {
	if job, ok := parseJob(body); ok {
		var err error
		switch {
		case job.ChunkJob != nil:
			err = p.handleChunk(ctx, *job.ChunkJob)
		case job.TranscodeJob != nil:
			err = p.handleUpload(ctx, events.Upload{Bucket: p.OriginalsBucket, Key: job.TranscodeJob.Key, SizeBytes: job.TranscodeJob.SizeBytes}, body)
		case job.RederiveJob != nil:
			err = p.rederive(ctx, *job.RederiveJob, body)
		default:
			err = p.reconcile(ctx, *job.Reconcile)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrRetry, err)
		}
		return nil
	}
	uploads, err := events.ParseS3Notification(body)
	if err != nil {
		p.log().Error("dropping unprocessable message", "error", err)
		return nil
	}
	var errs []error
	alone := ""
	if len(uploads) == 1 {
		alone = body
	}
	for _, u := range uploads {
		if u.Lost {
			err = p.handleLost(ctx, u)
		} else {
			err = p.handleUpload(ctx, u, alone)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrRetry, errors.Join(errs...))
	}
	return nil
}

// lease is how long a claim holds without renewal. Under a deadline (a Lambda invocation) it
// ends shortly after the deadline: the sandbox is gone by then, whether it finished, timed
// out or was killed, so the redelivery after the queue's visibility timeout (a multiple of
// the function's timeout) always finds the claim free instead of waiting out a long lease.
func (p *Processor) lease(ctx context.Context) time.Duration {
	lease := p.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	if deadline, ok := ctx.Deadline(); ok {
		lease = min(lease, time.Until(deadline)+LeaseSlack)
	}
	return lease
}

func (p *Processor) log() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

// handleUpload transcodes one upload. body is the message when it holds this upload alone,
// which may then be sent on to the worker fleet; "" otherwise.
func (p *Processor) handleUpload(ctx context.Context, u events.Upload, body string) error {
	log := p.log().With("bucket", u.Bucket, "key", u.Key)
	if u.Bucket != p.OriginalsBucket {
		log.Warn("ignoring an object of another bucket")
		return nil
	}
	owner, id, err := events.ParseOriginalKey(u.Key)
	if err != nil {
		log.Warn("ignoring an object outside the upload contract", "error", err)
		return nil
	}
	log = log.With("media_id", id, "owner", owner)
	job := transcode.Job{MediaID: id, Key: u.Key, SizeBytes: u.SizeBytes}
	return p.transcode(ctx, log, job, body, func(lease time.Duration) (store.Claim, error) {
		return p.Store.Claim(ctx, store.ClaimRequest{ID: id, Owner: owner, OriginalKey: u.Key, SizeBytes: u.SizeBytes}, lease)
	})
}

// transcode makes a media's derivatives under the claim that claim grants (of an upload,
// or of a re-derivation): in one pass, in chunks, or on the worker fleet. body is the
// message when it holds this job alone, which may then be sent on to the worker fleet.
func (p *Processor) transcode(ctx context.Context, log *slog.Logger, job transcode.Job, body string, claim func(lease time.Duration) (store.Claim, error)) error {
	if body != "" && p.Worker.tooLarge(job.SizeBytes) {
		log.Info("routing to the worker fleet: the original outgrows this function's storage", "size_bytes", job.SizeBytes, "above_bytes", p.Worker.AboveBytes)
		return p.route(ctx, log, body)
	}
	lease := p.lease(ctx)
	c, err := claim(lease)
	if err != nil {
		return p.claimRefused(ctx, log, err, job)
	}
	return p.transcodeClaimed(ctx, log.With("attempt", c.Attempt), c, job, body, lease)
}

func (p *Processor) transcodeClaimed(ctx context.Context, log *slog.Logger, claim store.Claim, job transcode.Job, body string, lease time.Duration) error {
	switch claim.Action {
	case store.ActionNotify:
		log.Info("sending the owed media event", "status", claim.Media.Status)
		return p.notify(ctx, log, claim, claim.Media)
	case store.ActionDispatch:
		return p.dispatch(ctx, log, claim, job)
	}
	if p.MaxAttempts > 0 && claim.Attempt > p.MaxAttempts {
		reason := fmt.Sprintf("gave up after %d attempts", p.MaxAttempts)
		if claim.Media.Error != "" {
			reason += ": " + claim.Media.Error
		}
		return p.fail(ctx, log, claim, reason)
	}

	started := time.Now()
	log.Info("transcoding", "size_bytes", job.SizeBytes, "rederive", claim.Rederive)
	var (
		res     transcode.Result
		spans   []transcode.Span
		tooLong bool
	)
	err := p.underLease(ctx, lease, p.renewMedia(claim), func(ctx context.Context) error {
		orig, err := p.Transcoder.Download(ctx, job)
		if err != nil {
			return err
		}
		defer orig.Close()
		if spans = p.Chunking.spans(orig.Plan); len(spans) > 1 {
			return nil // the chunks' jobs encode it
		}
		if tooLong = body != "" && p.Worker.tooLong(orig.Plan.Probe.DurationS); tooLong {
			return nil // the worker fleet encodes it
		}
		res, err = p.Transcoder.Encode(ctx, job, orig)
		return err
	})
	if err != nil && transcode.IsNoSpace(err) && body != "" && p.Worker.QueueURL != "" {
		// Nothing was published: the files made so far were in the full folder only.
		log.Warn("routing to the worker fleet: this function's storage is full", "error", err)
		return p.handOver(ctx, log, claim, body)
	}
	if err != nil {
		return p.workFailed(ctx, log, err, started, job, claim.Attempt,
			func(reason string) error { return p.fail(ctx, log, claim, reason) },
			func(ctx context.Context, reason string) error { return p.Store.Release(ctx, claim, reason) })
	}
	if len(spans) > 1 {
		return p.startChunks(ctx, log, claim, job, spans)
	}
	if tooLong {
		log.Info("routing to the worker fleet: one pass outgrows this function's timeout", "duration_s", spans[0].EndS, "above_s", p.Worker.OnePassAboveSeconds)
		return p.handOver(ctx, log, claim, body)
	}
	return p.publish(ctx, log, claim, job, res, started)
}

// handOver sends a claimed upload's message to the worker fleet and hands it the claim, so
// that the worker need not wait for the claim's lease to end.
func (p *Processor) handOver(ctx context.Context, log *slog.Logger, claim store.Claim, body string) error {
	if err := p.route(ctx, log, body); err != nil {
		return err
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := p.Store.Forward(cctx, claim); err != nil {
		log.Warn("hand the claim over; the worker waits for its lease", "error", err)
	}
	return nil
}

// claimRefused handles a claim that was not granted.
func (p *Processor) claimRefused(ctx context.Context, log *slog.Logger, err error, job transcode.Job) error {
	switch {
	case errors.Is(err, store.ErrDone):
		log.Info("duplicate delivery of processed work")
		return nil
	case errors.Is(err, store.ErrBusy):
		var busy *store.BusyError
		if errors.As(err, &busy) {
			log.Info("the work is being done elsewhere; retry when its claim ends", "lease_left_s", busy.LeaseLeft.Seconds())
			return retryAfter(err, busy.LeaseLeft+time.Second)
		}
		return err
	case errors.Is(err, store.ErrDeleted):
		log.Info("dropping a delivery of deleted media")
		return p.removeDeleted(ctx, log, job.MediaID, job.Key)
	case errors.Is(err, store.ErrOwnerMismatch):
		log.Error("dropping an upload whose key contradicts its record", "error", err)
		return nil
	case errors.Is(err, store.ErrNotReady), errors.Is(err, store.ErrNotFound):
		log.Info("nothing to make again", "reason", err)
		return nil
	}
	log.Error("claim failed", "error", err)
	return err
}

// workFailed handles the error of a job's work: the media was deleted meanwhile (what the
// job wrote goes), the original cannot be transcoded (fail, with the reason for its owner),
// or something that may pass (release the claim and come back after a backoff).
func (p *Processor) workFailed(ctx context.Context, log *slog.Logger, err error, started time.Time, job transcode.Job, attempt int,
	fail func(reason string) error, release func(ctx context.Context, reason string) error) error {
	elapsed := time.Since(started).Seconds()
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	switch {
	case errors.Is(err, store.ErrDeleted):
		log.Info("media was deleted while it was transcoded; the job is dropped", "elapsed_s", elapsed)
		return p.removeDeleted(cctx, log, job.MediaID, job.Key)
	case transcode.IsPermanent(err):
		log.Warn("transcode failed for good", "error", err, "elapsed_s", elapsed)
		return fail(err.Error())
	}
	log.Error("transcode failed; will retry", "error", err, "elapsed_s", elapsed)
	if rerr := release(cctx, err.Error()); rerr != nil {
		log.Error("release claim", "error", rerr)
		return err // the claim holds until its lease ends: the queue's timeout decides
	}
	return retryAfter(err, backoff(p.RetryBackoff, attempt))
}

// publish records the derivatives, makes the media ready and sends its event.
func (p *Processor) publish(ctx context.Context, log *slog.Logger, claim store.Claim, job transcode.Job, res transcode.Result, started time.Time) error {
	for _, w := range res.Warnings {
		log.Warn("published without a part", "warning", w)
	}
	r := store.Result{DurationS: res.DurationS, Width: res.Width, Height: res.Height, HLSKey: res.HLSKey, DASHKey: res.DASHKey,
		PosterKey: res.PosterKey, DerivativeCount: len(res.Keys)}
	if th := res.Thumbnails; th.TrackKey != "" {
		r.Thumbnails = &store.Thumbnails{TrackKey: th.TrackKey, SpriteKeys: th.SpriteKeys, IntervalS: th.IntervalS, TileWidth: th.Width, TileHeight: th.Height}
	}
	for _, x := range res.Renditions {
		r.Renditions = append(r.Renditions, store.Rendition{Height: x.Height, Width: x.Width, Key: x.Key, Bytes: x.Bytes})
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	media, err := p.Store.MarkReady(cctx, claim, r)
	if errors.Is(err, store.ErrDeleted) {
		log.Info("media was deleted while it was transcoded")
		return p.removeDeleted(cctx, log, job.MediaID, job.Key)
	}
	if err != nil {
		log.Error("mark ready", "error", err)
		return err
	}
	log.Info("media ready", "renditions", len(r.Renditions), "duration_s", r.DurationS, "elapsed_s", time.Since(started).Seconds(), "rederive", claim.Rederive)
	return p.notify(cctx, log, claim, media)
}

// removeDeleted removes what a deleted media still has: derivatives a job wrote before it
// learnt of the deletion, and an original uploaded after it (a presigned URL outlives the
// DELETE); on failure the message comes back and the next delivery tries again.
func (p *Processor) removeDeleted(ctx context.Context, log *slog.Logger, id, originalKey string) error {
	err := p.Transcoder.RemoveMedia(ctx, id)
	if err == nil {
		err = p.Transcoder.RemoveOriginal(ctx, originalKey)
	}
	if err != nil {
		log.Error("remove what a deleted media left", "error", err)
		return retryAfter(err, backoff(p.RetryBackoff, 1))
	}
	return nil
}

// underLease runs work with a claim renewed meanwhile (renew extends it by a lease), and
// stopped DeadlineMargin before ctx's deadline so that there is time to report. A renewal
// that finds the claim lost or the media deleted stops the work; the error is then
// store.ErrDeleted for a deleted media.
func (p *Processor) underLease(parent context.Context, lease time.Duration, renew func(ctx context.Context, lease time.Duration) error, work func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	if deadline, ok := ctx.Deadline(); ok {
		margin := p.DeadlineMargin
		if margin <= 0 {
			// A quarter of what is left, at most the default, so that a short function timeout
			// leaves most of its time to ffmpeg.
			margin = min(DefaultDeadlineMargin, time.Until(deadline)/4)
		}
		var stop context.CancelFunc
		ctx, stop = context.WithDeadlineCause(ctx, deadline.Add(-margin), transcode.ErrDeadline)
		defer stop()
	}
	go func() {
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// Measured from now, so that a renewal never outlasts the invocation's deadline.
				if err := renew(ctx, p.lease(parent)); errors.Is(err, store.ErrClaimLost) || errors.Is(err, store.ErrDeleted) {
					cancel(err) // someone else owns the work now, or nobody does any more
					return
				}
			}
		}
	}()
	err := work(ctx)
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, store.ErrDeleted) {
		return cause // stopped because the owner deleted the media
	}
	return err
}

// renewMedia extends a media claim.
func (p *Processor) renewMedia(c store.Claim) func(context.Context, time.Duration) error {
	return func(ctx context.Context, lease time.Duration) error { return p.Store.Extend(ctx, c, lease) }
}

// fail marks the media failed and sends the failed event. A media made again stays ready
// with what it has.
func (p *Processor) fail(ctx context.Context, log *slog.Logger, claim store.Claim, reason string) error {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if claim.Rederive {
		log.Error("the lost derivatives could not be made again; the media stays ready with what it has", "reason", reason)
		return p.Store.EndRederive(cctx, claim)
	}
	media, err := p.Store.MarkFailed(cctx, claim, reason)
	if errors.Is(err, store.ErrDeleted) {
		log.Info("media was deleted meanwhile; no failed event")
		return nil
	}
	if err != nil {
		log.Error("mark failed", "error", err)
		return err
	}
	return p.notify(cctx, log, claim, media)
}

// notify emails the uploader, publishes the media's event and records both as sent. If
// either fails for a reason that may pass, the claim's lease is ended so that the redelivered
// message sends them at once. The email goes first: should publishing then fail, the retry
// repeats an email (rare) rather than losing one for good; an email SES refuses for good
// (the address rejected) is logged and does not hold the event back.
func (p *Processor) notify(ctx context.Context, log *slog.Logger, claim store.Claim, m store.Media) error {
	if claim.Rederive { // its ready event went out once; the CDN forgets what it served meanwhile
		p.invalidate(ctx, log, m.ID)
		return p.Store.MarkNotified(ctx, claim)
	}
	retry := func(what string, err error) error {
		log.Error(what, "error", err)
		if xerr := p.Store.Extend(ctx, claim, 0); xerr != nil {
			log.Error("end claim", "error", xerr)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if p.Email != nil {
		switch err := p.Email.Send(ctx, m); {
		case errors.Is(err, notify.ErrRefused):
			log.Warn("outcome email refused; not sent", "error", err)
		case err != nil:
			return retry("send outcome email", err)
		}
	}
	ev := p.Event(m)
	if err := events.Publish(ctx, p.SNS, p.TopicARN, ev); err != nil {
		return retry("publish media event", err)
	}
	if err := p.Store.MarkNotified(ctx, claim); err != nil {
		// The event went out; a retry would only repeat it.
		log.Error("mark notified", "error", err)
	}
	log.Info("media event published", "status", ev.Status)
	return nil
}

// Event is the media event of m, URLs on the CDN.
func (p *Processor) Event(m store.Media) events.MediaEvent {
	ev := events.MediaEvent{MediaID: m.ID, Owner: m.Owner, Status: string(m.Status), Error: m.Error}
	if m.Status != store.StatusReady {
		return ev
	}
	base := strings.TrimRight(p.CDNBaseURL, "/") + "/"
	ev.HLSURL, ev.PosterURL = base+m.HLSKey, base+m.PosterKey
	if m.DASHKey != "" {
		ev.DASHURL = base + m.DASHKey
	}
	if m.Thumbnails != nil {
		ev.ThumbnailsURL = base + m.Thumbnails.TrackKey
	}
	for _, r := range m.Renditions {
		ev.Renditions = append(ev.Renditions, events.Rendition{Height: r.Height, Width: r.Width, URL: base + r.Key, Bytes: r.Bytes})
	}
	return ev
}

// cleanupContext outlives ctx's cancellation a little: reporting an outcome must not fail
// because the work that led to it ran into the deadline.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}
