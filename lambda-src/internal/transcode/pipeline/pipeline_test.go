package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/events"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode"
)

func TestLoadConfig(t *testing.T) {
	full := map[string]string{
		"AWS_REGION": "eu-west-1", "ORIGINALS_BUCKET": "o", "DERIVATIVES_BUCKET": "d", "TOPIC_ARN": "arn:aws:sns:eu-west-1:1:t",
		"DB_SECRET_ARN": "arn:secret", "DB_HOST": "db", "DB_NAME": "media", "CDN_BASE_URL": "https://cdn.example",
	}
	cfg, err := LoadConfig(func(k string) string { return full[k] })
	require.NoError(t, err)
	assert.Equal(t, "REDUCED_REDUNDANCY", cfg.StorageClass)
	assert.Equal(t, 5432, cfg.DBPort)
	assert.Equal(t, 5, cfg.MaxAttempts)
	assert.Equal(t, 5, cfg.ThumbnailS, "a scrubbing thumbnail every 5 s")
	assert.Equal(t, transcode.Limits{MaxDurationS: 3600, MaxDimension: 4096, MaxBytes: 5 << 30}, cfg.Limits)
	assert.NotEmpty(t, cfg.FFmpeg)

	_, err = LoadConfig(func(k string) string {
		switch k {
		case "ORIGINALS_BUCKET", "DB_SECRET_ARN":
			return ""
		case "DB_PORT":
			return "five"
		case "DERIVATIVES_STORAGE_CLASS":
			return "CHEAP"
		case "CDN_BASE_URL":
			return "cdn.example"
		case "THUMBNAIL_INTERVAL_SECONDS":
			return "90"
		}
		return full[k]
	})
	require.Error(t, err)
	for _, want := range []string{"ORIGINALS_BUCKET is required", "DB_SECRET_ARN is required", `DB_PORT="five"`,
		`DERIVATIVES_STORAGE_CLASS="CHEAP"`, `CDN_BASE_URL="cdn.example"`, "THUMBNAIL_INTERVAL_SECONDS=90: want 1 to 60"} {
		assert.ErrorContains(t, err, want)
	}

	withEmail := func(from, link string) error {
		_, err := LoadConfig(func(k string) string {
			switch k {
			case "NOTIFY_EMAIL_FROM":
				return from
			case "MEDIA_LINK_TEMPLATE":
				return link
			}
			return full[k]
		})
		return err
	}
	require.NoError(t, withEmail("Media <media@example.com>", "https://app.example.com/watch/{media_id}"))
	assert.ErrorContains(t, withEmail("media at example", "https://app.example.com/{media_id}"), `NOTIFY_EMAIL_FROM="media at example": want an email address`)
	assert.ErrorContains(t, withEmail("media@example.com", ""), "MEDIA_LINK_TEMPLATE is required with NOTIFY_EMAIL_FROM")
	assert.ErrorContains(t, withEmail("media@example.com", "https://app.example.com/watch"), "has no {media_id}")
	assert.ErrorContains(t, withEmail("media@example.com", "app.example.com/{media_id}"), "is not an http(s) URL")
}

func TestTranscodeEndToEnd(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	id, body := st.upload(t, "alice", "landscape1080.mp4")

	resp, err := st.proc.HandleSQSEvent(ctx, lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{{MessageId: "m1", Body: body}}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures)

	m, err := st.proc.Store.GetForOwner(ctx, "alice", id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusReady, m.Status)
	assert.True(t, m.IsTranscoded)
	assert.Equal(t, 1920, m.Width)
	assert.Equal(t, 1080, m.Height)
	assert.InDelta(t, 2, m.DurationS, 0.1)
	assert.NotNil(t, m.UploadedAt)
	require.Len(t, m.Renditions, 4)
	for i, h := range []int{1080, 720, 480, 360} {
		assert.Equal(t, h, m.Renditions[i].Height)
		assert.Equal(t, fmt.Sprintf("%s/%dp.mp4", id, h), m.Renditions[i].Key)
	}
	assert.Equal(t, id+"/stream/master.m3u8", m.HLSKey)
	assert.Equal(t, id+"/stream/manifest.mpd", m.DASHKey)
	assert.Equal(t, id+"/poster.jpg", m.PosterKey)

	keys := st.derivativeKeys(t)
	for _, want := range []string{"1080p.mp4", "720p.mp4", "480p.mp4", "360p.mp4", "poster.jpg", "stream/master.m3u8",
		"stream/manifest.mpd", "stream/1080p/index.m3u8", "stream/360p/index.m3u8", "stream/360p/init.mp4", "stream/360p/seg_0.m4s",
		"stream/audio/index.m3u8", "stream/audio/seg_0.m4s"} {
		assert.Contains(t, keys, id+"/"+want)
	}
	headers := map[string][2]string{
		"720p.mp4":                  {"video/mp4", "public, max-age=31536000, immutable"},
		"stream/720p/seg_0.m4s":     {"video/iso.segment", "public, max-age=31536000, immutable"},
		"stream/720p/init.mp4":      {"video/mp4", "public, max-age=31536000, immutable"},
		"stream/master.m3u8":        {"application/vnd.apple.mpegurl", "public, max-age=300"},
		"stream/manifest.mpd":       {"application/dash+xml", "public, max-age=300"},
		"poster.jpg":                {"image/jpeg", "public, max-age=31536000, immutable"},
		"thumbnails/thumbnails.vtt": {"text/vtt", "public, max-age=31536000, immutable"},
		"thumbnails/sprite_1.jpg":   {"image/jpeg", "public, max-age=31536000, immutable"},
	}
	for name, want := range headers {
		head, err := st.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &st.cfg.DerivativesBucket, Key: aws.String(id + "/" + name)})
		require.NoError(t, err, name)
		assert.Equal(t, want[0], aws.ToString(head.ContentType), name)
		assert.Equal(t, want[1], aws.ToString(head.CacheControl), name)
		assert.Equal(t, s3types.StorageClassReducedRedundancy, head.StorageClass, name)
	}

	evs := st.mediaEvents(t)
	require.Len(t, evs, 1)
	ev := evs[0]
	assert.Equal(t, events.MediaEvent{
		MediaID: id, Owner: "alice", Status: "ready",
		HLSURL:    "https://d111111abcdef8.cloudfront.net/" + id + "/stream/master.m3u8",
		DASHURL:   "https://d111111abcdef8.cloudfront.net/" + id + "/stream/manifest.mpd",
		PosterURL: "https://d111111abcdef8.cloudfront.net/" + id + "/poster.jpg",
		Renditions: []events.Rendition{
			{Height: 1080, Width: 1920, URL: "https://d111111abcdef8.cloudfront.net/" + id + "/1080p.mp4", Bytes: m.Renditions[0].Bytes},
			{Height: 720, Width: 1280, URL: "https://d111111abcdef8.cloudfront.net/" + id + "/720p.mp4", Bytes: m.Renditions[1].Bytes},
			{Height: 480, Width: 854, URL: "https://d111111abcdef8.cloudfront.net/" + id + "/480p.mp4", Bytes: m.Renditions[2].Bytes},
			{Height: 360, Width: 640, URL: "https://d111111abcdef8.cloudfront.net/" + id + "/360p.mp4", Bytes: m.Renditions[3].Bytes},
		},
		ThumbnailsURL: "https://d111111abcdef8.cloudfront.net/" + id + "/thumbnails/thumbnails.vtt",
	}, ev)
	for _, r := range m.Renditions {
		head, err := st.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &st.cfg.DerivativesBucket, Key: &r.Key})
		require.NoError(t, err)
		assert.Equal(t, r.Bytes, aws.ToInt64(head.ContentLength), r.Key)
	}
}

func TestDuplicateDeliveriesRunOnce(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	id, body := st.upload(t, "alice", "small.mp4")

	// The same notification twice at once, as at-least-once delivery may do.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = st.proc.Handle(ctx, body) })
	}
	wg.Wait()
	var done, retried int
	for _, err := range errs {
		if err == nil {
			done++
		} else {
			assert.ErrorIs(t, err, ErrRetry)
			assert.ErrorIs(t, err, store.ErrBusy)
			retried++
		}
	}
	assert.Equal(t, 1, done, "one delivery does the work")
	assert.Equal(t, 1, retried, "the other comes back later")
	// ...and finds the work done.
	require.NoError(t, st.proc.Handle(ctx, body))

	keys := st.derivativeKeys(t)
	m, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusReady, m.Status)
	page, _, err := st.proc.Store.ListByOwner(ctx, "alice", "", 10)
	require.NoError(t, err)
	assert.Len(t, page, 1, "one row")
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, id+"/"), "one set of derivatives, under the media's prefix: %s", k)
	}
	assert.Len(t, keys, 12, "360p.mp4, poster, master playlist, DASH manifest, the video's and the audio's playlist, init segment and segment, thumbnails track and sprite: once each: %v", keys)
	evs := st.mediaEvents(t)
	require.Len(t, evs, 1, "one ready event")
	assert.Equal(t, "ready", evs[0].Status)
}

func TestPermanentFailureIsReportedAndDropped(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	id, body := st.upload(t, "bob", "notavideo")

	resp, err := st.proc.HandleSQSEvent(ctx, lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{{MessageId: "m1", Body: body}}})
	require.NoError(t, err)
	assert.Empty(t, resp.BatchItemFailures, "a permanent failure removes the message")
	m, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusFailed, m.Status)
	assert.Contains(t, m.Error, "not a decodable video")
	assert.False(t, m.IsTranscoded)
	evs := st.mediaEvents(t)
	require.Len(t, evs, 1)
	assert.Equal(t, events.MediaEvent{MediaID: id, Owner: "bob", Status: "failed", Error: m.Error}, evs[0])
	assert.Empty(t, st.derivativeKeys(t))

	require.NoError(t, st.proc.Handle(ctx, body), "a redelivery is acknowledged")
	assert.Empty(t, st.mediaEvents(t), "without a second event")
}

func TestTransientFailureIsRetriedThenGivenUp(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	st.proc.MaxAttempts = 2
	// Derivatives cannot be written: the bucket is gone.
	_, err := st.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &st.cfg.DerivativesBucket})
	require.NoError(t, err)
	id, body := st.upload(t, "carol", "noaudio.mp4")

	resp, err := st.proc.HandleSQSEvent(ctx, lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{{MessageId: "m1", Body: body}}})
	require.NoError(t, err)
	assert.Equal(t, []lambdaevents.SQSBatchItemFailure{{ItemIdentifier: "m1"}}, resp.BatchItemFailures, "retried through SQS")
	after, ok := RetryAfter(st.proc.Handle(ctx, body)) // attempt 2
	assert.True(t, ok)
	assert.Equal(t, backoff(0, 2), after, "a released claim comes back after a backoff, not the queue's timeout")
	m, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusUploaded, m.Status, "released for the next delivery")
	assert.Contains(t, m.Error, "NoSuchBucket")
	assert.Empty(t, st.mediaEvents(t), "no event for a transient failure")

	require.NoError(t, st.proc.Handle(ctx, body), "attempt 3 gives up: a poison message does not loop")
	m, err = st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusFailed, m.Status)
	assert.Contains(t, m.Error, "gave up after 2 attempts")
	evs := st.mediaEvents(t)
	require.Len(t, evs, 1)
	assert.Equal(t, "failed", evs[0].Status)
}

func TestStopsBeforeTheDeadline(t *testing.T) {
	st := newStack(t)
	st.proc.Transcoder.Options.Preset = "veryslow" // sure to outlast the deadline
	st.proc.DeadlineMargin = time.Second
	id, body := st.upload(t, "dave", "landscape1080.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	resp, err := st.proc.HandleSQSEvent(ctx, lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{{MessageId: "m1", Body: body}}})
	require.NoError(t, err)
	assert.NoError(t, ctx.Err(), "the handler returned before the deadline")
	assert.Len(t, resp.BatchItemFailures, 1)
	m, err := st.proc.Store.Get(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusUploaded, m.Status)
	assert.Contains(t, m.Error, "stopped before the deadline")
}

func TestMessagesThatAreNotUploads(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	otherBucket := strings.Replace(testNotification, "BUCKET", "someone-elses", 1)
	outside := strings.Replace(strings.Replace(testNotification, "BUCKET", st.cfg.OriginalsBucket, 1), "KEY", "avatars/alice.png", 1)
	for name, body := range map[string]string{
		"s3 test event":            `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-01-01T00:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}`,
		"not json":                 "hello",
		"json but no notification": `{"hello":"world"}`,
		"another bucket":           strings.Replace(otherBucket, "KEY", events.OriginalKey("alice", uuid.NewString()), 1),
		"key outside the contract": outside,
	} {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, st.proc.Handle(ctx, body), "acknowledged, never looped")
		})
	}
	// The test event that S3 really sent when the notification was configured.
	msgs := st.receive(t, st.uploadQueue, time.Second)
	for _, m := range msgs {
		assert.NoError(t, st.proc.Handle(ctx, m.body))
	}
	assert.Empty(t, st.mediaEvents(t))
	page, _, err := st.proc.Store.ListByOwner(ctx, "alice", "", 10)
	require.NoError(t, err)
	assert.Empty(t, page)
}

const testNotification = `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
"eventTime":"2024-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put",
"s3":{"s3SchemaVersion":"1.0","bucket":{"name":"BUCKET","arn":"arn:aws:s3:::BUCKET"},"object":{"key":"KEY","size":10}}}]}`

func TestParseS3Notification(t *testing.T) {
	id := uuid.NewString()
	body := strings.ReplaceAll(strings.Replace(testNotification, "KEY", "uploads/us-east-1%3Aab+cd/"+id+"/original", 1), "BUCKET", "b")
	ups, err := events.ParseS3Notification(body)
	require.NoError(t, err)
	require.Len(t, ups, 1)
	assert.Equal(t, events.Upload{Bucket: "b", Key: "uploads/us-east-1:ab cd/" + id + "/original", SizeBytes: 10}, ups[0])
	owner, mediaID, err := events.ParseOriginalKey(ups[0].Key)
	require.NoError(t, err)
	assert.Equal(t, "us-east-1:ab cd", owner)
	assert.Equal(t, id, mediaID)
	lost, err := events.ParseS3Notification(strings.Replace(strings.ReplaceAll(testNotification, "BUCKET", "d"), "ObjectCreated:Put", "ReducedRedundancyLostObject", 1))
	require.NoError(t, err)
	assert.Equal(t, []events.Upload{{Bucket: "d", Key: "KEY", SizeBytes: 10, Lost: true}}, lost, "a lost object is reported as such")
	for _, bad := range []string{"uploads/alice/not-a-uuid/original", "uploads//" + id + "/original", "uploads/a/b/" + id + "/original", "x/alice/" + id + "/original"} {
		_, _, err := events.ParseOriginalKey(bad)
		assert.Error(t, err, bad)
	}
}

func TestWorkerPollsDeletesAndStops(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	put := func(clipName string) string {
		id := uuid.NewString()
		key := events.OriginalKey("erin", id)
		f, err := os.Open(clip(t, clipName))
		require.NoError(t, err)
		defer f.Close()
		_, err = st.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &st.cfg.OriginalsBucket, Key: &key, Body: f})
		require.NoError(t, err)
		return id
	}
	good, bad := put("noaudio.mp4"), put("notavideo")

	stop, stopNow := context.WithCancel(ctx)
	defer stopNow()
	p := &Poller{SQS: st.sqs, QueueURL: st.uploadQueue, Handle: st.proc.Handle, Visibility: 30 * time.Second, WaitTime: time.Second}
	done := make(chan error, 1)
	go func() { done <- p.Run(stop, ctx) }()
	require.Eventually(t, func() bool {
		g, err1 := st.proc.Store.Get(ctx, good)
		b, err2 := st.proc.Store.Get(ctx, bad)
		return err1 == nil && err2 == nil && g.Status == store.StatusReady && b.Status == store.StatusFailed
	}, 60*time.Second, 100*time.Millisecond)
	stopNow()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the poller did not stop")
	}
	attrs, err := st.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &st.uploadQueue,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	require.NoError(t, err)
	assert.Equal(t, "0", attrs.Attributes["ApproximateNumberOfMessages"], "the test event and both uploads were taken")
	assert.Equal(t, "0", attrs.Attributes["ApproximateNumberOfMessagesNotVisible"], "and deleted")
	statuses := map[string]string{}
	for _, ev := range st.mediaEvents(t) {
		statuses[ev.MediaID] = ev.Status
	}
	assert.Equal(t, map[string]string{good: "ready", bad: "failed"}, statuses)
}

func TestLeaseEndsWithTheInvocation(t *testing.T) {
	p := &Processor{}
	assert.Equal(t, DefaultLease, p.lease(context.Background()), "a daemon's claim holds DefaultLease between renewals")

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	assert.InDelta(t, (25*time.Second + LeaseSlack).Seconds(), p.lease(ctx).Seconds(), 1,
		"a killed invocation's claim is free soon after its deadline, before SQS redelivers")

	long, cancelLong := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLong()
	assert.Equal(t, DefaultLease, p.lease(long), "never longer than the lease it would renew")
}

// TestBusyDeliveryComesBackWhenTheClaimEnds: a second delivery of an upload that another
// transcoder holds is put back on the queue for what is left of that claim, not for the
// queue's whole visibility timeout.
func TestBusyDeliveryComesBackWhenTheClaimEnds(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	st.proc.RetryBackoff = time.Second // the floor that grows with the receives
	id, body := st.upload(t, "frank", "small.mp4")
	_, err := st.proc.Store.Claim(ctx, store.ClaimRequest{ID: id, Owner: "frank", OriginalKey: events.OriginalKey("frank", id)}, 3*time.Second)
	require.NoError(t, err, "another transcoder holds the media for 3 s")

	queue := st.queue(t, "busy-"+id[:8])
	_, err = st.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: &body})
	require.NoError(t, err)
	out, err := st.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, VisibilityTimeout: 600, WaitTimeSeconds: 1})
	require.NoError(t, err)
	require.Len(t, out.Messages, 1)
	msg := out.Messages[0]
	received := time.Now()

	resp, err := st.proc.HandleSQSEvent(ctx, lambdaevents.SQSEvent{Records: []lambdaevents.SQSMessage{{
		MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle), Body: body,
		EventSourceARN: st.queueARN(t, queue), Attributes: map[string]string{"ApproximateReceiveCount": "1"},
	}}})
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 1, "the busy delivery is not done with")

	var again time.Duration
	require.Eventually(t, func() bool {
		out, err := st.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, WaitTimeSeconds: 1})
		again = time.Since(received)
		return err == nil && len(out.Messages) == 1
	}, 30*time.Second, 100*time.Millisecond, "the message comes back once the holder's claim can have ended, long before 600 s")
	assert.GreaterOrEqual(t, again, 3*time.Second, "not before the claim ends")
}

func TestRetryDelays(t *testing.T) {
	busy := retryAfter(&store.BusyError{LeaseLeft: 40 * time.Second}, 41*time.Second)
	after, ok := RetryAfter(fmt.Errorf("%w: %w", ErrRetry, errors.Join(busy)))
	assert.True(t, ok)
	assert.Equal(t, 41*time.Second, after, "found through the wrapping Handle does")
	_, ok = RetryAfter(errors.New("unmarked"))
	assert.False(t, ok, "an unmarked error is left to the queue's visibility timeout")

	assert.Equal(t, 30*time.Second, backoff(0, 1))
	assert.Equal(t, 60*time.Second, backoff(0, 2))
	assert.Equal(t, 15*time.Minute, backoff(0, 9), "capped")

	// A busy delivery comes back when the claim ends, but no sooner than the receives allow,
	// so that duplicates of a long job do not spend the queue's maxReceiveCount.
	var vc visibilityRecorder
	putBack(context.Background(), slog.Default(), &vc, "https://sqs.example/q", aws.String("r"), 0, 1, busy)
	putBack(context.Background(), slog.Default(), &vc, "https://sqs.example/q", aws.String("r"), 0, 4, busy)
	putBack(context.Background(), slog.Default(), &vc, "https://sqs.example/q", aws.String("r"), 0, 4, errors.New("unmarked"))
	assert.Equal(t, []int32{41, 240}, vc.timeouts, "the lease left on the first receive, 4 minutes on the fourth, nothing for an unmarked error")

	url, err := QueueURL("arn:aws:sqs:eu-west-1:111122223333:media-transcode")
	require.NoError(t, err)
	assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/111122223333/media-transcode", url)
	_, err = QueueURL("arn:aws:sns:eu-west-1:111122223333:topic")
	assert.ErrorContains(t, err, "not an SQS queue ARN")
}

// TestDerivativesNameTheirStorageClass checks on the wire what the derivatives bucket's
// policy leaves to its writer (modules/media-buckets): every PutObject and
// CreateMultipartUpload names the class, and a derivative larger than a part goes up in
// parts that the policy lets through.
func TestDerivativesNameTheirStorageClass(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	bucket := st.cfg.DerivativesBucket
	_, err := st.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: aws.String(`{"Version":"2012-10-17","Statement":[{
	  "Sid":"DenyOtherStorageClasses","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*",
	  "Condition":{"StringNotEquals":{"s3:x-amz-storage-class":"REDUCED_REDUNDANCY"},"Null":{"s3:x-amz-storage-class":"false"}}}]}`)})
	require.NoError(t, err)

	dir := t.TempDir()
	big := make([]byte, 6<<20)
	for i := range big {
		big[i] = byte(i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "1080p.mp4"), big, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "poster.jpg"), []byte("poster"), 0o644))

	rec := &requestRecorder{next: st.awsCfg.HTTPClient}
	cfg := st.awsCfg.Copy()
	cfg.HTTPClient = rec
	tr := *st.proc.Transcoder
	tr.Transfer = transfermanager.New(S3Client(cfg), func(o *transfermanager.Options) { o.PartSizeBytes = 5 << 20 })
	require.NoError(t, tr.Upload(ctx, dir, "m/", []string{"1080p.mp4", "poster.jpg"}))

	var creates, parts, puts int
	for _, r := range rec.requests() {
		switch {
		case r.Method == http.MethodPost && r.URL.Query().Has("uploads"):
			creates++
			assert.Equal(t, "REDUCED_REDUNDANCY", r.Header.Get("X-Amz-Storage-Class"), "CreateMultipartUpload names the class")
		case r.Method == http.MethodPut && r.URL.Query().Has("uploadId"):
			parts++
		case r.Method == http.MethodPut:
			puts++
			assert.Equal(t, "REDUCED_REDUNDANCY", r.Header.Get("X-Amz-Storage-Class"), "PutObject %s names the class", r.URL.Path)
		}
	}
	assert.Equal(t, 1, creates, "the large derivative goes multipart")
	assert.Equal(t, 2, parts, "in two parts")
	assert.Equal(t, 1, puts, "the small one in one PUT")
	for _, key := range []string{"m/1080p.mp4", "m/poster.jpg"} {
		head, err := st.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)})
		require.NoError(t, err)
		assert.Equal(t, s3types.StorageClassReducedRedundancy, head.StorageClass, key)
	}
}

// requestRecorder keeps the method, URL and headers of every request an SDK client sends.
type requestRecorder struct {
	next aws.HTTPClient
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *requestRecorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, &http.Request{Method: req.Method, URL: req.URL, Header: req.Header.Clone()})
	r.mu.Unlock()
	return r.next.Do(req)
}

func (r *requestRecorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

type visibilityRecorder struct{ timeouts []int32 }

func (v *visibilityRecorder) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	v.timeouts = append(v.timeouts, in.VisibilityTimeout)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// TestDeletionWinsOverTranscoding: a delivery of a deleted media's upload does not bring it
// back, and a job whose media is deleted while it runs leaves no derivative and no event.
func TestDeletionWinsOverTranscoding(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()

	id, body := st.upload(t, "gina", "small.mp4")
	require.NoError(t, st.proc.Store.Create(ctx, store.Media{ID: id, Owner: "gina", OriginalKey: events.OriginalKey("gina", id)}))
	_, _, err := st.proc.Store.Delete(ctx, "gina", id, func(store.Media) error { return nil })
	require.NoError(t, err)
	require.NoError(t, st.proc.Handle(ctx, body), "a late delivery of a deleted media is done with")
	key := events.OriginalKey("gina", id)
	versions, err := st.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &st.cfg.OriginalsBucket, Prefix: &key})
	require.NoError(t, err)
	assert.Empty(t, versions.Versions, "and its original, uploaded after the deletion, is removed")

	// A lease renewed many times within the job: the renewal after the deletion stops it.
	st.proc.Lease = 600 * time.Millisecond
	inFlight, body := st.upload(t, "gina", "landscape1080.mp4")
	done := make(chan error, 1)
	go func() { done <- st.proc.Handle(ctx, body) }()
	require.Eventually(t, func() bool {
		m, err := st.proc.Store.Get(ctx, inFlight)
		return err == nil && m.Status == store.StatusProcessing
	}, 30*time.Second, 10*time.Millisecond)
	_, _, err = st.proc.Store.Delete(ctx, "gina", inFlight, func(store.Media) error { return nil })
	require.NoError(t, err)
	require.NoError(t, <-done, "the job is dropped")
	assert.Contains(t, st.logs.String(), "the job is dropped", "stopped at the renewal after the deletion, not run to its end")

	assert.Empty(t, st.derivativeKeys(t), "neither media has a derivative")
	assert.Empty(t, st.mediaEvents(t), "nor an event")
	_, err = st.proc.Store.Get(ctx, id)
	assert.ErrorIs(t, err, store.ErrNotFound)
}
