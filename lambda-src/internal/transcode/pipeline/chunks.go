package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode"
)

// Chunking is when and how long videos are transcoded in chunks: each chunk a job on the
// processor's JobQueueURL (the transcode queue itself, so that chunks run with the function's
// concurrency), the job that completes the last one assembling them.
type Chunking struct {
	ChunkSeconds int // about, rounded up to whole segments (see transcode.Plan.Spans); 0: every video in one pass
	AboveSeconds int // videos up to this long are one pass
}

// spans are the chunks of a plan: one span (a single pass) unless chunking applies.
func (c Chunking) spans(plan transcode.Plan) []transcode.Span {
	if c.ChunkSeconds <= 0 || plan.Probe.DurationS <= float64(c.AboveSeconds) {
		return []transcode.Span{plan.Whole()}
	}
	return plan.Spans(c.ChunkSeconds)
}

// Routing sends the jobs that a function cannot hold to the worker fleet's queue: originals
// larger than its ephemeral storage can stage, and videos that must be transcoded in one
// pass (chunking off or not applicable) and would outlast its timeout. Chunks never need
// it: their length is checked against the timeout.
type Routing struct {
	QueueURL            string // none: every job stays
	AboveBytes          int64  // originals larger than this; 0: any size stays
	OnePassAboveSeconds int    // one-pass videos longer than this; 0: any length stays
}

func (r Routing) tooLarge(size int64) bool {
	return r.QueueURL != "" && r.AboveBytes > 0 && size > r.AboveBytes
}

func (r Routing) tooLong(durationS float64) bool {
	return r.QueueURL != "" && r.OnePassAboveSeconds > 0 && durationS > float64(r.OnePassAboveSeconds)
}

// route sends an upload's notification to the worker fleet's queue, as S3 sent it.
func (p *Processor) route(ctx context.Context, log *slog.Logger, body string) error {
	if p.Queue == nil {
		return errors.New("route to the worker fleet: no queue client")
	}
	if _, err := p.Queue.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &p.Worker.QueueURL, MessageBody: &body}); err != nil {
		log.Error("route to the worker fleet", "error", err)
		return retryAfter(fmt.Errorf("route to the worker fleet: %w", err), backoff(p.RetryBackoff, 1))
	}
	return nil
}

// Enqueuer is the part of the SQS client that sends chunk jobs and routed uploads.
type Enqueuer interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// ChunkJob is the message of one chunk of a media on the transcode queue.
type ChunkJob struct {
	MediaID   string `json:"media_id"`
	Owner     string `json:"owner"`
	Key       string `json:"key"` // of the original
	SizeBytes int64  `json:"size_bytes"`
	Index     int    `json:"index"`
}

// jobMessage is a message of the transcode queue other than S3's: a job the transcoder
// sent itself, or the reconciler's schedule.
type jobMessage struct {
	ChunkJob     *ChunkJob     `json:"chunk_job,omitempty"`
	TranscodeJob *TranscodeJob `json:"transcode_job,omitempty"`
	RederiveJob  *RederiveJob  `json:"rederive_job,omitempty"`
	Reconcile    *Reconcile    `json:"reconcile,omitempty"`
}

// TranscodeJob is an upload's job sent again by the transcoder: as S3's notification of it.
type TranscodeJob struct {
	Key       string `json:"key"` // of the original
	SizeBytes int64  `json:"size_bytes"`
}

func parseJob(body string) (jobMessage, bool) {
	var m jobMessage
	if json.Unmarshal([]byte(body), &m) != nil || (m.ChunkJob == nil && m.TranscodeJob == nil && m.RederiveJob == nil && m.Reconcile == nil) {
		return jobMessage{}, false
	}
	return m, true
}

// sendJobs sends jobs to the transcode queue, in SQS's batches of 10.
func (p *Processor) sendJobs(ctx context.Context, log *slog.Logger, what string, jobs []jobMessage) error {
	if len(jobs) == 0 {
		return nil
	}
	if p.Queue == nil || p.JobQueueURL == "" {
		return fmt.Errorf("%s: no queue to send them to", what)
	}
	for first := 0; first < len(jobs); first += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := first; i < min(first+10, len(jobs)); i++ {
			body, err := json.Marshal(jobs[i])
			if err != nil {
				return err
			}
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := p.Queue.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &p.JobQueueURL, Entries: entries})
		if err == nil && len(out.Failed) > 0 {
			err = fmt.Errorf("%d refused, first: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
		if err != nil {
			log.Error("send "+what, "error", err)
			return retryAfter(fmt.Errorf("send %s: %w", what, err), backoff(p.RetryBackoff, 1))
		}
	}
	return nil
}

// startChunks records the chunks of the media claim holds (which ends the claim) and sends
// their jobs. Should sending fail, the upload's message comes back and its claim dispatches
// the chunks again (see store.ActionDispatch).
func (p *Processor) startChunks(ctx context.Context, log *slog.Logger, claim store.Claim, job transcode.Job, spans []transcode.Span) error {
	var recorded []store.Span
	for _, s := range spans {
		recorded = append(recorded, store.Span{Index: s.Index, StartS: s.StartS, EndS: s.EndS, Last: s.Last})
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := p.Store.StartChunks(cctx, claim, recorded); err != nil {
		if errors.Is(err, store.ErrDeleted) {
			return p.removeDeleted(cctx, log, job.MediaID, job.Key)
		}
		log.Error("record chunks", "error", err)
		return err
	}
	log.Info("transcoding in chunks", "chunks", len(spans), "duration_s", spans[len(spans)-1].EndS)
	return p.sendChunkJobs(cctx, log, claim.Media.Owner, job, recorded)
}

// dispatch sends the jobs of the chunks still pending: the media's chunks were recorded by
// a job that may not have sent them all. With none pending the assembly is owed, and a job
// of the last chunk brings it about.
func (p *Processor) dispatch(ctx context.Context, log *slog.Logger, claim store.Claim, job transcode.Job) error {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	pending, err := p.Store.PendingChunks(cctx, job.MediaID)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		pending = []store.Span{{Index: claim.Media.Chunks - 1}}
	}
	log.Info("sending the jobs of pending chunks again", "chunks", len(pending))
	if err := p.sendChunkJobs(cctx, log, claim.Media.Owner, job, pending); err != nil {
		return err
	}
	if err := p.Store.Extend(cctx, claim, 0); err != nil {
		log.Warn("end the dispatch claim", "error", err)
	}
	return nil
}

func (p *Processor) sendChunkJobs(ctx context.Context, log *slog.Logger, owner string, job transcode.Job, spans []store.Span) error {
	jobs := make([]jobMessage, len(spans))
	for i, s := range spans {
		jobs[i] = jobMessage{ChunkJob: &ChunkJob{MediaID: job.MediaID, Owner: owner, Key: job.Key, SizeBytes: job.SizeBytes, Index: s.Index}}
	}
	return p.sendJobs(ctx, log, "chunk jobs", jobs)
}

// handleChunk encodes one chunk; the job that completes the last one assembles the media.
func (p *Processor) handleChunk(ctx context.Context, cj ChunkJob) error {
	log := p.log().With("media_id", cj.MediaID, "owner", cj.Owner, "chunk", cj.Index)
	job := transcode.Job{MediaID: cj.MediaID, Key: cj.Key, SizeBytes: cj.SizeBytes}
	lease := p.lease(ctx)
	cc, err := p.Store.ClaimChunk(ctx, cj.MediaID, cj.Index, lease)
	if err != nil {
		return p.claimRefused(ctx, log, err, job)
	}
	if cc.Action == store.ChunkAssemble {
		log.Info("every chunk is done; assembling")
		return p.assemble(ctx, log, *cc.Media, job)
	}
	log = log.With("attempt", cc.Attempt)
	failMedia := func(reason string) error {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		claim, err := p.Store.FailChunked(cctx, cj.MediaID, fmt.Sprintf("chunk %d: %s", cj.Index, reason))
		if errors.Is(err, store.ErrDeleted) || errors.Is(err, store.ErrClaimLost) {
			log.Info("the media is deleted or settled meanwhile; no failed event", "error", err)
			return nil
		}
		if err != nil {
			return err
		}
		if claim.Rederive {
			return p.fail(cctx, log, claim, reason)
		}
		return p.notify(cctx, log, claim, claim.Media)
	}
	if p.MaxAttempts > 0 && cc.Attempt > p.MaxAttempts {
		reason := fmt.Sprintf("gave up after %d attempts", p.MaxAttempts)
		if cc.Error != "" {
			reason += ": " + cc.Error
		}
		return failMedia(reason)
	}

	started := time.Now()
	log.Info("transcoding a chunk", "start_s", cc.Span.StartS, "end_s", cc.Span.EndS)
	var part transcode.Part
	renew := func(ctx context.Context, lease time.Duration) error { return p.Store.ExtendChunk(ctx, cc, lease) }
	err = p.underLease(ctx, lease, renew, func(ctx context.Context) error {
		orig, err := p.Transcoder.Download(ctx, job)
		if err != nil {
			return err
		}
		defer orig.Close()
		span := transcode.Span{Index: cc.Span.Index, StartS: cc.Span.StartS, EndS: cc.Span.EndS, Last: cc.Span.Last}
		part, err = p.Transcoder.EncodeChunk(ctx, job, orig, span)
		return err
	})
	if err != nil {
		return p.workFailed(ctx, log, err, started, job, cc.Attempt, failMedia,
			func(ctx context.Context, reason string) error { return p.Store.ReleaseChunk(ctx, cc, reason) })
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	assembly, err := p.Store.CompleteChunk(cctx, cc, part, p.lease(ctx))
	if errors.Is(err, store.ErrDeleted) {
		return p.removeDeleted(cctx, log, job.MediaID, job.Key)
	}
	if err != nil {
		log.Error("complete chunk", "error", err)
		return err
	}
	log.Info("chunk done", "elapsed_s", time.Since(started).Seconds(), "last", assembly != nil)
	if assembly == nil {
		return nil
	}
	return p.assemble(ctx, log, *assembly, job)
}

// assemble joins the media's chunks with the claim granted for it and publishes the media.
func (p *Processor) assemble(ctx context.Context, log *slog.Logger, claim store.Claim, job transcode.Job) error {
	started := time.Now()
	var res transcode.Result
	err := p.underLease(ctx, p.lease(ctx), p.renewMedia(claim), func(ctx context.Context) error {
		raw, err := p.Store.ChunkParts(ctx, job.MediaID)
		if err != nil {
			return err
		}
		parts := make([]transcode.Part, len(raw))
		for i, r := range raw {
			if err := json.Unmarshal(r, &parts[i]); err != nil {
				return fmt.Errorf("chunk %d's record: %w", i, err)
			}
		}
		res, err = p.Transcoder.AssembleChunks(ctx, job, parts)
		return err
	})
	if errors.Is(err, transcode.ErrChunksDiffer) {
		return p.restartChunks(ctx, log, claim, job, err)
	}
	if err != nil {
		return p.workFailed(ctx, log, err, started, job, claim.Attempt,
			func(reason string) error { return p.fail(ctx, log, claim, reason) },
			func(ctx context.Context, _ string) error { return p.Store.Extend(ctx, claim, 0) })
	}
	log.Info("chunks assembled", "elapsed_s", time.Since(started).Seconds())
	if err := p.publish(ctx, log, claim, job, res, started); err != nil {
		return err
	}
	if err := p.Transcoder.RemoveTiles(ctx, job.MediaID); err != nil {
		log.Warn("the thumbnail tiles stay (they are not published)", "error", err)
	}
	return nil
}

// restartChunks has every chunk of a media encoded again, with one build: a runner was
// updated while they ran, and they cannot be joined. The media's own job is sent again, as
// its upload's or its re-derivation's, first: should forgetting the chunks then fail, that
// job finds them and dispatches the last one, whose assembly comes back here.
func (p *Processor) restartChunks(ctx context.Context, log *slog.Logger, claim store.Claim, job transcode.Job, cause error) error {
	log.Warn("encoding every chunk again", "error", cause)
	again := jobMessage{TranscodeJob: &TranscodeJob{Key: job.Key, SizeBytes: job.SizeBytes}}
	if claim.Rederive {
		again = jobMessage{RederiveJob: &RederiveJob{MediaID: job.MediaID, Reason: "its chunks were encoded by different ffmpeg builds"}}
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := p.sendJobs(cctx, log, "the media's job", []jobMessage{again}); err != nil {
		return err
	}
	return p.Store.RestartChunks(cctx, claim)
}
