// Package e2e is the mission's core assertion, end to end: a user signs in, uploads a video
// through the API's presigned URL, and its renditions and HLS playlist come out of the CDN,
// announced on the media events topic. It talks only to the stack's outputs and public
// endpoints; on the local target the local cloud is their data plane.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
	"github.com/mediastack/terraform-aws-mediastack/test/load"
	"github.com/mediastack/terraform-aws-mediastack/test/localcloud"
	"github.com/mediastack/terraform-aws-mediastack/test/mediaclient"
	"github.com/mediastack/terraform-aws-mediastack/test/streams"
	"github.com/mediastack/terraform-aws-mediastack/test/target"
)

// Bounds of the asynchronous stages: a 2-second clip transcodes in seconds here.
const (
	eventTimeout = 2 * time.Minute
	durationTol  = 0.5 // seconds
	// A long video's files play for the source's duration, to within this (seconds).
	longDurationTol = 0.2
	// publicMaxAge is how long the edge may keep a public view (the API's PUBLIC_MAX_AGE).
	publicMaxAge = 30 * time.Second
	// partSize is the transcoder's multipart part size (the transfer manager's default).
	partSize = 8 << 20
)

// TestUploadToCDN is the core assertion with the emulator's default (non-enforcing) IAM
// and an unsigned CDN.
func TestUploadToCDN(t *testing.T) {
	t.Parallel()
	runStack(t, deployStack(t, stackOptions{transcoderTimeout: shortTranscoderTimeout}), map[string]func(*testing.T, *stack){
		"upload to CDN":                runUploadToCDN,
		"killed transcoder is retried": runKilledTranscoder,
		"long video in chunks":         runChunkedVideo,
		"worker fleet from zero":       runWorkerFleet,
		"lost derivatives made again":  runLostDerivatives,
		"sharing":                      runSharing,
		"web app in a browser":         runWebApp,
	}, map[string]func(*testing.T, *stack){
		"under load and faults": runUnderLoadAndFaults,
	})
}

// TestUploadToCDNEnforcingIAM runs the same flows with moto's IAM enforcement on, so that
// every function and server acting with its own role fails on a missing permission, and
// with a CDN that refuses unsigned requests.
func TestUploadToCDNEnforcingIAM(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a second emulator and deployment")
	}
	// The long video runs here, where every role's least privilege is enforced: its
	// renditions go to S3 in parts, which the role and the bucket policy must both admit.
	runStack(t, deployStack(t, stackOptions{enforceIAM: true, signedCDN: true, transcoderTimeout: longTranscoderTimeout}), map[string]func(*testing.T, *stack){
		"upload to CDN":               runUploadToCDN,
		"a minute of 1080p, in parts": runLongVideo,
		"lost derivatives made again": runLostDerivatives,
		"sharing":                     runSharing,
		"web app with signed cookies": runWebAppSigned,
	}, nil)
}

// runStack runs the flows side by side on one deployment, then the afterwards flows, which
// need the deployment to themselves (their faults would fail the others); the stack is torn
// down when all are over.
func runStack(t *testing.T, s *stack, flows, afterwards map[string]func(*testing.T, *stack)) {
	// Counted as each starts: a flow that -run leaves out is not waited for. Parallel
	// subtests resume only once this function has returned, after every Add.
	var sideBySide sync.WaitGroup
	for name, flow := range flows {
		t.Run(name, func(t *testing.T) {
			sideBySide.Add(1)
			defer sideBySide.Done()
			t.Parallel()
			flow(t, s)
		})
	}
	for name, flow := range afterwards {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sideBySide.Wait()
			flow(t, s)
		})
	}
}

func runUploadToCDN(t *testing.T, s *stack) {
	ctx := context.Background()
	events := s.events
	client := s.signIn(t, "alice@example.com", "Alice-password-1!")
	clip := makeVideo(t, 2)
	broken := filepath.Join(t.TempDir(), "broken.mp4")
	require.NoError(t, os.WriteFile(broken, randomBytes(t, 64<<10), 0o644))

	// The corrupt upload goes first and runs alongside, so both wait at once.
	corruptID := upload(t, client, broken)
	started := time.Now()
	id := upload(t, client, clip)

	var ready mediaEvent
	t.Run("ready event", func(t *testing.T) {
		ready = events.wait(t, id, eventTimeout)
		t.Logf("ready event %s after upload", time.Since(started).Round(100*time.Millisecond))
		assert.Equal(t, "ready", ready.Status, "error: %s", ready.Error)
		assert.NotEmpty(t, ready.HLSURL)
		assert.NotEmpty(t, ready.ThumbnailsURL)
		assert.Len(t, ready.Renditions, 2, "854x480 makes 480p and 360p")
	})
	if ready.Status != "ready" {
		diagnose(t, s, id)
		t.FailNow()
	}

	var media mediaclient.Media
	t.Run("media is ready", func(t *testing.T) {
		var err error
		media, err = client.Media(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "ready", media.Status)
		require.Len(t, media.Renditions, 2)
		require.NotNil(t, media.HLSURL)
		require.NotNil(t, media.DurationS)
		assert.InDelta(t, 2.0, *media.DurationS, durationTol)
	})

	cdnBase := s.output(t, "cdn_base_url")
	t.Run("renditions through the CDN", func(t *testing.T) {
		for _, r := range media.Renditions {
			assert.True(t, strings.HasPrefix(r.URL, cdnBase+"/"), "%s is served by the CDN", r.URL)
			assert.Equal(t, "Miss from cloudfront", assertRendition(t, s, r, 2.0, durationTol))
			_, cache := fetch(t, s, r.URL)
			assert.Equal(t, "Hit from cloudfront", cache, "a second fetch is served from the edge's cache")
		}
	})

	t.Run("HLS through the CDN", func(t *testing.T) {
		// An unmodified client follows the playlist, its variants and segments through the
		// proxy (on AWS, straight to CloudFront).
		p := probe(t, s, *media.HLSURL, media.CookieHeader())
		assert.Equal(t, "h264", p.video().CodecName)
		assert.Equal(t, 854, p.video().Width, "the master playlist offers the best rung first")
		assert.InDelta(t, 2.0, p.duration(t), durationTol)
	})

	t.Run("every HLS and DASH segment through the CDN", func(t *testing.T) {
		require.NotNil(t, media.DASHURL, "the media view names its DASH manifest")
		checkStreams(t, s, *media.HLSURL, *media.DASHURL, media.CookieHeader())
	})

	t.Run("scrubbing thumbnails through the CDN", func(t *testing.T) {
		th := media.Thumbnails
		require.NotNil(t, th, "the media view lists its thumbnails")
		assert.Equal(t, 5, th.IntervalS)
		track, _ := fetch(t, s, th.TrackURL)
		vtt, err := os.ReadFile(track)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(vtt), "WEBVTT\n"), "a WebVTT track: %s", vtt)
		assert.Contains(t, string(vtt), "00:00:00.000 --> ", "the first tile from the start")
		assert.Contains(t, string(vtt), fmt.Sprintf("sprite_1.jpg#xywh=0,0,%d,%d", th.TileWidth, th.TileHeight))
		require.Len(t, th.SpriteURLs, 1, "a 2-second clip fits one sheet")
		sprite, _ := fetch(t, s, th.SpriteURLs[0])
		f, err := os.Open(sprite)
		require.NoError(t, err)
		defer f.Close()
		cfg, err := jpeg.DecodeConfig(f)
		require.NoError(t, err, "the sprite sheet is a JPEG")
		assert.Equal(t, [2]int{th.TileWidth, th.TileHeight}, [2]int{cfg.Width, cfg.Height}, "one tile")
		assert.Equal(t, [2]int{160, 90}, [2]int{th.TileWidth, th.TileHeight}, "160 wide, with the 854x480 video's aspect")
	})

	t.Run("CDN signatures", func(t *testing.T) {
		unsigned, _, _ := strings.Cut(media.Renditions[0].URL, "?")
		if !s.signedCDN {
			assert.Equal(t, unsigned, media.Renditions[0].URL, "an unsigned CDN gets plain URLs")
			assert.Nil(t, media.CDNCookies)
			return
		}
		assert.NotEqual(t, unsigned, media.Renditions[0].URL, "the API signs the URLs it hands out")
		assert.Len(t, media.CDNCookies, 3, "and the cookies an HLS player needs")
		for name, url := range map[string]string{
			"an unsigned request":  unsigned,
			"a tampered signature": strings.Replace(media.Renditions[0].URL, "Signature=", "Signature=AAAA", 1),
			"another file's URL":   unsigned + "?" + strings.SplitN(media.Renditions[1].URL, "?", 2)[1],
		} {
			resp, err := s.viaCDN.Get(url)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s is refused: %s", name, body)
		}
	})

	t.Run("storage classes", func(t *testing.T) {
		s3c := s.tg.S3Client()
		derivatives, originals := s.output(t, "derivatives_bucket_id"), s.output(t, "originals_bucket_id")
		for _, key := range []string{id + "/480p.mp4", id + "/360p.mp4", id + "/stream/master.m3u8", id + "/poster.jpg"} {
			head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &derivatives, Key: aws.String(key)})
			require.NoError(t, err, key)
			assert.Equal(t, s3types.StorageClassReducedRedundancy, head.StorageClass, "%s is reproducible: stored REDUCED_REDUNDANCY", key)
		}
		head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &originals, Key: aws.String("uploads/" + media.Owner + "/" + id + "/original")})
		require.NoError(t, err)
		assert.Contains(t, []s3types.StorageClass{"", s3types.StorageClassStandard}, head.StorageClass, "originals are STANDARD")
	})

	t.Run("latency DNS", func(t *testing.T) {
		if s.cloud == nil {
			t.Skip("the local cloud's DNS server; on AWS the record is checked by TestComplete")
		}
		fqdn := s.output(t, "api_fqdn")
		m := new(mdns.Msg)
		m.SetQuestion(mdns.Fqdn(fqdn), mdns.TypeA)
		in, err := mdns.Exchange(m, s.cloud.DNSAddr())
		require.NoError(t, err)
		require.Equal(t, mdns.RcodeSuccess, in.Rcode)
		require.Len(t, in.Answer, 1)
		alb := strings.TrimPrefix(strings.TrimPrefix(s.output(t, "api_url"), "http://"), "https://")
		want, ok := s.cloud.Resolver().IP(alb)
		require.True(t, ok)
		assert.Equal(t, want.String(), in.Answer[0].(*mdns.A).A.String(), "the record of the client's region (%s): its load balancer", s.tg.Region)
	})

	t.Run("corrupt upload fails", func(t *testing.T) {
		e := events.wait(t, corruptID, eventTimeout)
		assert.Equal(t, "failed", e.Status)
		assert.NotEmpty(t, e.Error, "the failed event says why")
		m, err := client.Media(ctx, corruptID)
		require.NoError(t, err)
		assert.Equal(t, "failed", m.Status)
		require.NotNil(t, m.Error)
		t.Logf("corrupt upload: %s", *m.Error)
	})

	t.Run("another user's media is not found", func(t *testing.T) {
		_, err := s.signIn(t, "bob@example.com", "Bob-password-1!").Media(ctx, id)
		var status *mediaclient.StatusError
		require.ErrorAs(t, err, &status)
		assert.Equal(t, http.StatusNotFound, status.Code, "%s", status.Body)
	})

	t.Run("announced exactly once", func(t *testing.T) {
		assert.Len(t, events.of(id), 1)
		assert.Len(t, events.of(corruptID), 1)
	})
}

// runKilledTranscoder kills the transcoder's sandbox in the middle of a job, as a crashed
// host would: SQS redelivers the message after the queue's visibility timeout, the retry
// finds the dead sandbox's claim expired, and the media ends ready, announced once.
func runKilledTranscoder(t *testing.T, s *stack) {
	if s.cloud == nil {
		t.Skip("killing a sandbox mid-job needs the local cloud; AWS offers no way to crash a running Lambda")
	}
	ctx := context.Background()
	client := s.signIn(t, "carol@example.com", "Carol-password-1!")
	fn, ok := s.cloud.Function(s.output(t, "transcoder_function_name"))
	require.True(t, ok, "the local cloud runs the transcoder")

	// Long enough to be caught mid-job, short enough for the suite's transcoder timeout.
	id := upload(t, client, makeVideo(t, 4))
	require.Eventually(t, func() bool {
		m, err := client.Media(ctx, id)
		return err == nil && m.Status == "processing"
	}, eventTimeout, 10*time.Millisecond, "the transcoder claims the upload")
	killed := time.Now()
	require.Equal(t, 1, fn.KillInvocations(func(payload []byte) bool { return bytes.Contains(payload, []byte(id)) }),
		"the sandbox transcoding %s is killed mid-job", id)

	redelivery := 6 * s.transcoderTimeout // the queue's visibility timeout
	e := s.events.wait(t, id, redelivery+eventTimeout)
	t.Logf("ready event %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	assert.Equal(t, "ready", e.Status, "error: %s", e.Error)
	assert.GreaterOrEqual(t, time.Since(killed), redelivery-5*time.Second, "the retry is SQS redelivering after the visibility timeout")
	m, err := client.Media(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "ready", m.Status)
	assert.Len(t, m.Renditions, 2)
	s.events.assertSettled(t, id, 1, "announced exactly once")
}

// Chunking on the deployment with the short transcoder timeout: a video of
// chunkedClipSeconds makes three chunks of 4 seconds, each encoded well within the timeout
// while the suite's other deployments load the machine.
const (
	chunkSeconds       = 4
	chunkedClipSeconds = 12
)

// runChunkedVideo uploads a video long enough for several chunks, each a job of its own;
// on the local cloud it kills the sandbox of the second chunk mid-job (AWS offers no way to
// crash a running Lambda): that chunk is encoded again once SQS redelivers its job. The last
// chunk's job assembles, and the media is ready once, every segment of its HLS and DASH
// playlists and its MP4s whole through the CDN.
func runChunkedVideo(t *testing.T, s *stack) {
	ctx := context.Background()
	client := s.signIn(t, "erin@example.com", "Erin-password-1!")
	clip := makeVideoOf(t, "640x360", 25, chunkedClipSeconds)
	source := probe(t, s, clip, "").duration(t)
	started := time.Now()
	id := upload(t, client, clip)

	if s.cloud != nil {
		fn, ok := s.cloud.Function(s.output(t, "transcoder_function_name"))
		require.True(t, ok, "the local cloud runs the transcoder")
		// The job of chunk 1, in the SQS event as an escaped JSON string.
		chunk1 := func(payload []byte) bool {
			return bytes.Contains(payload, []byte(id)) && bytes.Contains(payload, []byte(`chunk_job`)) && bytes.Contains(payload, []byte(`index\":1}`))
		}
		require.Eventually(t, func() bool { return fn.KillInvocations(chunk1) == 1 }, eventTimeout, 20*time.Millisecond,
			"the sandbox encoding chunk 1 of %s is killed mid-job", id)
	}

	// The killed chunk's job comes back after the queue's visibility timeout (6 x the
	// function's); on a loaded machine another chunk may time out once and wait a cycle too.
	e := s.events.wait(t, id, 12*s.transcoderTimeout+eventTimeout)
	t.Logf("measured: chunked %.0f s video ready %s after upload", source, time.Since(started).Round(100*time.Millisecond))
	require.Equal(t, "ready", e.Status, "error: %s", e.Error)
	s.events.assertSettled(t, id, 1, "announced exactly once")
	m, err := client.Media(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "ready", m.Status)
	require.NotNil(t, m.DurationS)
	assert.InDelta(t, source, *m.DurationS, longDurationTol)
	require.Len(t, m.Renditions, 1, "360p")
	for _, r := range m.Renditions {
		assertRendition(t, s, r, source, longDurationTol)
	}
	require.NotNil(t, m.HLSURL)
	require.NotNil(t, m.DASHURL)
	checkStreams(t, s, *m.HLSURL, *m.DASHURL, m.CookieHeader())
	p := probe(t, s, *m.HLSURL, m.CookieHeader())
	assert.InDelta(t, source, p.duration(t), longDurationTol, "the HLS stream plays for the source's duration")
}

// workerRouteAbove is the original size above which the deployment with the short
// transcoder timeout sends jobs to its worker fleet: above the other flows' clips.
const workerRouteAbove = 16 << 20

// runWorkerFleet uploads an original larger than the function may stage: the function sends
// its job to the worker fleet's queue, the fleet scales from zero on the backlog, and a
// worker transcodes it, once. On AWS the fleet's AMI must provide ffmpeg.
func runWorkerFleet(t *testing.T, s *stack) {
	ctx := context.Background()
	client := s.signIn(t, "frank@example.com", "Frank-password-1!")
	group := s.output(t, "transcode_workers_asg_name")
	asg := autoscaling.NewFromConfig(s.tg.AWSConfig())
	desired := func() int32 {
		out, err := asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
		require.NoError(t, err)
		require.Len(t, out.AutoScalingGroups, 1)
		return aws.ToInt32(out.AutoScalingGroups[0].DesiredCapacity)
	}
	require.Zero(t, desired(), "the fleet waits at zero instances")

	// Noise, losslessly: a large original that is quick to transcode.
	clip := makeVideoOf(t, "640x360", 25, 3, "-vf", "noise=alls=40:allf=t", "-qp", "0")
	info, err := os.Stat(clip)
	require.NoError(t, err)
	require.Greater(t, info.Size(), int64(workerRouteAbove), "the clip outgrows what the function stages")
	started := time.Now()
	id := upload(t, client, clip)
	require.Eventually(t, func() bool { return desired() >= 1 }, eventTimeout, 500*time.Millisecond, "the fleet scales from zero when work arrives")
	t.Logf("measured: worker fleet at %d instance(s) %s after the upload", desired(), time.Since(started).Round(100*time.Millisecond))

	e := s.events.wait(t, id, 5*time.Minute)
	t.Logf("measured: ready on the worker fleet %s after the upload", time.Since(started).Round(100*time.Millisecond))
	require.Equal(t, "ready", e.Status, "error: %s", e.Error)
	if s.cloud != nil { // the workers' logs are the local cloud's to read; on AWS, the instances'
		// Before the idle fleet scales in, which removes its instances and their logs.
		fl, ok := s.cloud.Fleet(s.tg.AWSConfig().Region)
		require.True(t, ok)
		transcodedBy := ""
		for _, inst := range fl.Groups()[group].Instances {
			if log, err := os.ReadFile(inst.Log); err == nil && bytes.Contains(log, []byte(`"msg":"media ready"`)) && bytes.Contains(log, []byte(id)) {
				transcodedBy = inst.ID
			}
		}
		assert.NotEmpty(t, transcodedBy, "a worker of %s transcoded %s", group, id)
	}

	s.events.assertSettled(t, id, 1, "announced exactly once")
	m, err := client.Media(ctx, id)
	require.NoError(t, err)
	require.Len(t, m.Renditions, 1, "360p")
	require.NotNil(t, m.DASHURL)
	checkStreams(t, s, *m.HLSURL, *m.DASHURL, m.CookieHeader())
}

// runLostDerivatives loses derivatives of a ready media twice: S3 reports a reduced-redundancy
// object lost (on the local cloud, which is S3's data plane there; on AWS only S3 loses
// them), and files go without a report, which the reconciler finds on its schedule. Each time
// the media is made again under the same URLs while it stays ready, its files are
// invalidated on the CDN (which marks the re-derivation's end), and it is not announced again.
func runLostDerivatives(t *testing.T, s *stack) {
	ctx := context.Background()
	client := s.signIn(t, "grace@example.com", "Grace-password-1!")
	id := upload(t, client, makeVideo(t, 2))
	e := s.events.wait(t, id, eventTimeout)
	require.Equal(t, "ready", e.Status, "error: %s", e.Error)
	before, err := client.Media(ctx, id)
	require.NoError(t, err)
	bucket := s.output(t, "derivatives_bucket_id")
	s3c := s.tg.S3Client()
	cf := cloudfront.NewFromConfig(s.tg.AWSConfig())
	distribution := s.output(t, "cdn_distribution_id")
	// The edge serves the media before the losses.
	fetch(t, s, before.Renditions[0].URL)

	// invalidations counts the invalidations of the media's files.
	invalidations := func() int {
		n := 0
		pages := cloudfront.NewListInvalidationsPaginator(cf, &cloudfront.ListInvalidationsInput{DistributionId: &distribution})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			require.NoError(t, err)
			for _, sum := range page.InvalidationList.Items {
				inv, err := cf.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{DistributionId: &distribution, Id: sum.Id})
				require.NoError(t, err)
				if slices.Contains(inv.Invalidation.InvalidationBatch.Paths.Items, "/"+id+"/*") {
					n++
				}
			}
		}
		return n
	}
	// madeAgain waits for the re-derivation that restores keys to end, the media ready all along.
	madeAgain := func(t *testing.T, keys []string, within time.Duration) {
		t.Helper()
		started, want := time.Now(), invalidations()+1
		var status string
		assert.Eventually(t, func() bool {
			m, err := client.Media(ctx, id)
			if err != nil || m.Status != "ready" {
				status = fmt.Sprintf("%s (%v)", m.Status, err)
			}
			if invalidations() < want {
				return false
			}
			for _, k := range keys {
				if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &k}); err != nil {
					return false
				}
			}
			return true
		}, within, time.Second, "%v are made again, and the media invalidated", keys)
		assert.Empty(t, status, "the media stays ready while it is made again")
		t.Logf("measured: %d lost derivatives made again in %s", len(keys), time.Since(started).Round(100*time.Millisecond))
	}

	t.Run("S3 reports a lost object", func(t *testing.T) {
		if s.cloud == nil {
			t.Skip("only S3 loses reduced-redundancy objects on AWS")
		}
		lost := id + "/stream/360p/seg_0.m4s"
		require.NoError(t, s.cloud.LoseObject(ctx, s.tg.AWSConfig().Region, bucket, lost))
		madeAgain(t, []string{lost}, eventTimeout)
	})
	t.Run("the reconciler finds files gone", func(t *testing.T) {
		gone := []string{id + "/stream/audio/seg_0.m4s", id + "/360p.mp4", id + "/poster.jpg"}
		for _, k := range gone {
			_, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &k})
			require.NoError(t, err)
		}
		madeAgain(t, gone, reconcileEvery+eventTimeout)
	})

	after, err := client.Media(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, unsignedPath(t, *before.HLSURL), unsignedPath(t, *after.HLSURL), "the same URLs")
	assert.Equal(t, unsignedPath(t, before.Renditions[0].URL), unsignedPath(t, after.Renditions[0].URL))
	s.events.assertSettled(t, id, 1, "made again without a second ready event")
	checkStreams(t, s, *after.HLSURL, *after.DASHURL, after.CookieHeader())
	fetch(t, s, *after.PosterURL)
}

// unsignedPath is a URL's path, without the signature a signing CDN's URLs carry.
func unsignedPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := neturl.Parse(raw)
	require.NoError(t, err)
	return u.Path
}

// runLongVideo sends a minute of 1080p video with sound through the API's multipart path
// and follows it to the CDN: every rung of the ladder, renditions large enough to be written
// to S3 in parts, each file and the HLS tree playing for the source's duration.
func runLongVideo(t *testing.T, s *stack) {
	ctx := context.Background()
	client := s.signIn(t, "dana@example.com", "Dana-password-1!")
	clip := makeVideoOf(t, "1920x1080", 30, 60)
	source := probe(t, s, clip, "").duration(t)
	info, err := os.Stat(clip)
	require.NoError(t, err)
	require.Greater(t, info.Size(), int64(multipartThreshold), "the clip is above the API's multipart threshold")

	up, err := client.CreateUpload(ctx, clip, "video/mp4", "a minute of 1080p")
	require.NoError(t, err)
	require.Equal(t, "multipart", up.Upload.Type, "a %d-byte upload goes in parts", info.Size())
	require.Greater(t, len(up.Upload.Parts), 1)
	started := time.Now()
	require.NoError(t, client.PutFile(ctx, up, clip), "the parts and the completion")
	id := up.MediaID

	e := s.events.wait(t, id, s.transcoderTimeout)
	t.Logf("ready event %s after the upload of %d bytes in %d parts", time.Since(started).Round(100*time.Millisecond), info.Size(), len(up.Upload.Parts))
	if !assert.Equal(t, "ready", e.Status, "error: %s", e.Error) {
		diagnose(t, s, id)
		t.FailNow()
	}
	media, err := client.Media(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "ready", media.Status)
	require.NotNil(t, media.DurationS)
	assert.InDelta(t, source, *media.DurationS, longDurationTol)
	var heights []int
	for _, r := range media.Renditions {
		heights = append(heights, r.Height)
	}
	require.Equal(t, []int{1080, 720, 480, 360}, heights, "every rung of the ladder")
	assert.Greater(t, media.Renditions[0].Bytes, int64(partSize), "the 1080p rendition is larger than a part: it went to S3 in parts")

	for _, r := range media.Renditions {
		t.Run(strconv.Itoa(r.Height)+"p through the CDN", func(t *testing.T) {
			assertRendition(t, s, r, source, longDurationTol)
		})
	}
	t.Run("HLS through the CDN", func(t *testing.T) {
		require.NotNil(t, media.HLSURL)
		p := probe(t, s, *media.HLSURL, media.CookieHeader())
		assert.Equal(t, 1920, p.video().Width, "the master playlist offers the best rung first")
		assert.InDelta(t, source, p.duration(t), longDurationTol)
	})
	t.Run("every derivative reduced-redundancy", func(t *testing.T) {
		derivatives := s.output(t, "derivatives_bucket_id")
		pages := s3.NewListObjectsV2Paginator(s.tg.S3Client(), &s3.ListObjectsV2Input{Bucket: &derivatives, Prefix: aws.String(id + "/")})
		n := 0
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			require.NoError(t, err)
			for _, o := range page.Contents {
				n++
				assert.Equal(t, s3types.ObjectStorageClassReducedRedundancy, o.StorageClass, aws.ToString(o.Key))
			}
		}
		assert.Greater(t, n, 4*15, "four renditions and their HLS segments")
	})
	s.events.assertSettled(t, id, 1, "one upload, one delivery, one event")
}

// runSharing is the sharing core through the stack: a user uploads one video of each
// visibility; another user and an anonymous client see only the public one in the feed and
// watch the public and the unlisted one through the CDN, not the private one; likes and
// comments; the owner publishes the private one and deletes the public one, which leaves
// the feed, the API, the CDN and the originals bucket, announced as deleted.
func runSharing(t *testing.T, s *stack) {
	ctx := context.Background()
	alice := s.signIn(t, "erin@example.com", "Erin-password-1!")
	bob := s.signIn(t, "frank@example.com", "Frank-password-1!")
	anonymous := &mediaclient.Client{BaseURL: s.output(t, "api_url"), API: s.http, Storage: s.http}
	if s.cloud != nil {
		t.Run("endpoints name the user pool and each region", func(t *testing.T) {
			_, err := s.cloud.SignIn(ctx, "gil@example.com", "Gil-password-1!")
			require.NoError(t, err)
			id := s.cloud.Endpoints().Identity
			require.NotNil(t, id, "endpoints.json carries identity once a user signed in")
			assert.Equal(t, localcloud.Identity{Region: s.tg.Region, UserPoolID: s.output(t, "user_pool_id"),
				ClientID: s.output(t, "user_pool_client_id"), Endpoint: s.cloud.Endpoints().EmulatorURL}, *id)
			e := s.cloud.Endpoints()
			assert.Equal(t, []localcloud.RegionEndpoints{{Region: s.tg.Region, UploadAPIURL: s.output(t, "api_url"), CDNBaseURL: s.output(t, "cdn_base_url")}}, e.Regions)
			assert.Equal(t, s.output(t, "api_fqdn"), e.APIDNSName, "the latency record's name")
			assert.Equal(t, s.output(t, "api_via_cdn_url"), e.APIViaCDNURL)
		})
	}
	clip := makeVideo(t, 2)
	ids := map[string]string{}
	for _, vis := range []string{"public", "unlisted", "private"} {
		up, err := alice.CreateSharedUpload(ctx, clip, "video/mp4", vis+" clip", vis)
		require.NoError(t, err)
		require.NoError(t, alice.PutFile(ctx, up, clip))
		ids[vis] = up.MediaID
	}
	// A job that runs out of its time on a loaded machine is redelivered after the queue's
	// visibility timeout (six times the transcoder's): the bound allows one such retry.
	for vis, id := range ids {
		require.Equal(t, "ready", s.events.wait(t, id, 6*s.transcoderTimeout+eventTimeout).Status, vis)
	}
	inFeed := func(c *mediaclient.Client, id string) bool {
		feed, err := c.Feed(ctx)
		require.NoError(t, err)
		for _, m := range feed.Items {
			if m.MediaID == id {
				return true
			}
		}
		return false
	}

	for name, viewer := range map[string]*mediaclient.Client{"another user": bob, "an anonymous client": anonymous} {
		t.Run(name+" sees what is shared", func(t *testing.T) {
			assert.True(t, inFeed(viewer, ids["public"]), "the public one is in the feed")
			assert.False(t, inFeed(viewer, ids["unlisted"]), "the unlisted one is not")
			assert.False(t, inFeed(viewer, ids["private"]), "nor the private one")
			for _, vis := range []string{"public", "unlisted"} {
				m, err := viewer.Media(ctx, ids[vis])
				require.NoError(t, err, vis)
				require.Len(t, m.Renditions, 2, vis)
				file, _ := fetch(t, s, m.Renditions[0].URL)
				assert.InDelta(t, 2.0, probe(t, s, file, "").duration(t), durationTol, "%s plays through the CDN", vis)
			}
			_, err := viewer.Media(ctx, ids["private"])
			var status *mediaclient.StatusError
			require.ErrorAs(t, err, &status)
			assert.Equal(t, http.StatusNotFound, status.Code)
		})
	}

	if s.emu != nil { // SES keeps sent email to itself; the emulator lists it
		t.Run("the uploader is emailed when each is ready", func(t *testing.T) {
			sent, err := s.emu.SentEmails(ctx)
			require.NoError(t, err)
			for vis, id := range ids {
				link := s.output(t, "api_via_cdn_url") + "/v1/media/" + id
				var got []emulator.SentEmail
				for _, m := range sent {
					if strings.Contains(m.Body, link) {
						got = append(got, m)
					}
				}
				require.Len(t, got, 1, "one email about the %s clip, linking to it", vis)
				assert.Equal(t, notificationSender, got[0].Source)
				assert.Equal(t, []string{"erin@example.com"}, got[0].To(), "to the address in the uploader's token")
				assert.Equal(t, fmt.Sprintf("Your video %q is ready", vis+" clip"), got[0].Subject)
			}
		})
	}

	t.Run("public reads are cached at the edge", func(t *testing.T) {
		viaEdge := func(path, token string) (status int, xcache, body string) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.output(t, "api_via_cdn_url")+path, nil)
			require.NoError(t, err)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := s.http.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp.StatusCode, resp.Header.Get("X-Cache"), string(b)
		}
		status, _, _ := viaEdge("/v1/feed?limit=5", "")
		require.Equal(t, http.StatusOK, status)
		_, xcache, feed := viaEdge("/v1/feed?limit=5", "")
		assert.Equal(t, "Hit from cloudfront", xcache, "the public feed is served from the edge")
		assert.Contains(t, feed, ids["public"])

		private := "/v1/media/" + ids["private"]
		for range 2 {
			status, xcache, body := viaEdge(private, alice.Token)
			require.Equal(t, http.StatusOK, status, body)
			assert.Equal(t, "Miss from cloudfront", xcache, "a token holder's answer is never cached")
			assert.Contains(t, body, "erin@example.com", "the owner's view")
		}
		for name, token := range map[string]string{"anyone": "", "another user": bob.Token} {
			status, _, body := viaEdge(private, token)
			assert.Equal(t, http.StatusNotFound, status, "%s never gets the owner's view", name)
			assert.NotContains(t, body, "private clip", name)
		}

		unlisted := "/v1/media/" + ids["unlisted"]
		viaEdge(unlisted, "")
		status, xcache, _ = viaEdge(unlisted, "")
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, "Hit from cloudfront", xcache)
		_, err := alice.Update(ctx, ids["unlisted"], map[string]any{"visibility": "private"})
		require.NoError(t, err)
		hidden := time.Now()
		assert.Eventually(t, func() bool {
			status, _, _ := viaEdge(unlisted, "")
			return status == http.StatusNotFound
		}, publicMaxAge+10*time.Second, time.Second, "made private, it leaves the edge within the public max-age")
		t.Logf("gone from the edge %s after the PATCH", time.Since(hidden).Round(time.Second))
	})

	if s.abroad != nil {
		t.Run("a client from abroad is refused at the edge and the API", func(t *testing.T) {
			m, err := anonymous.Media(ctx, ids["public"])
			require.NoError(t, err)
			for what, u := range map[string]string{
				"a rendition at the edge":      m.Renditions[0].URL,
				"the feed through the edge":    s.output(t, "api_via_cdn_url") + "/v1/feed",
				"the API at its load balancer": s.output(t, "api_url") + "/v1/feed",
			} {
				resp, err := s.abroad.Get(u)
				require.NoError(t, err, what)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: %s", what, body)
				assert.Regexp(t, "(?i)country", string(body), "%s says why", what)
			}
		})
	}

	t.Run("likes and comments", func(t *testing.T) {
		require.NoError(t, bob.Like(ctx, ids["public"]))
		require.NoError(t, bob.Like(ctx, ids["public"]), "liking twice is one like")
		m, err := alice.Media(ctx, ids["public"])
		require.NoError(t, err)
		assert.Equal(t, 1, m.Likes)
		c, err := bob.Comment(ctx, ids["public"], "Lovely light!")
		require.NoError(t, err)
		comments, err := alice.Comments(ctx, ids["public"])
		require.NoError(t, err)
		require.Len(t, comments, 1)
		assert.Equal(t, "Lovely light!", comments[0].Text)
		require.NoError(t, alice.DeleteComment(ctx, ids["public"], c.ID), "the owner removes it")
		comments, err = anonymous.Comments(ctx, ids["public"])
		require.NoError(t, err)
		assert.Empty(t, comments)
	})

	t.Run("the owner publishes the private one", func(t *testing.T) {
		m, err := alice.Update(ctx, ids["private"], map[string]any{"visibility": "public", "description": "Now for everyone."})
		require.NoError(t, err)
		assert.Equal(t, "public", m.Visibility)
		assert.True(t, inFeed(anonymous, ids["private"]))
	})

	t.Run("the owner deletes the public one", func(t *testing.T) {
		id := ids["public"]
		m, err := alice.Media(ctx, id)
		require.NoError(t, err)
		rendition := m.Renditions[0].URL
		fetch(t, s, rendition)
		_, cache := fetch(t, s, rendition)
		assert.Equal(t, "Hit from cloudfront", cache, "cached at the edge before the deletion")

		require.NoError(t, alice.Delete(ctx, id))
		require.NoError(t, alice.Delete(ctx, id), "deleting again is fine")
		assert.False(t, inFeed(anonymous, id), "gone from the feed")
		for _, c := range []*mediaclient.Client{alice, bob, anonymous} {
			_, err := c.Media(ctx, id)
			var status *mediaclient.StatusError
			require.ErrorAs(t, err, &status)
			assert.Equal(t, http.StatusNotFound, status.Code)
		}
		// CloudFront completes an invalidation asynchronously, in seconds.
		assert.Eventually(t, func() bool {
			resp, err := s.viaCDN.Get(rendition)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode != http.StatusOK
		}, time.Minute, 500*time.Millisecond, "its CDN URL is no longer served: invalidated, and gone from the origin")

		originals := s.output(t, "originals_bucket_id")
		key := "uploads/" + m.Owner + "/" + id + "/original"
		versions, err := s.tg.S3Client().ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &originals, Prefix: &key})
		require.NoError(t, err)
		assert.Empty(t, versions.Versions, "no version of its original is left")
		assert.Empty(t, versions.DeleteMarkers)
		derivatives := s.output(t, "derivatives_bucket_id")
		left, err := s.tg.S3Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &derivatives, Prefix: aws.String(id + "/")})
		require.NoError(t, err)
		assert.Empty(t, left.Contents, "nor any derivative")

		require.Eventually(t, func() bool {
			for _, e := range s.events.of(id) {
				if e.Status == "deleted" {
					return true
				}
			}
			return false
		}, eventTimeout, 200*time.Millisecond, "a deleted media event")
		s.events.assertSettled(t, id, 2, "ready, then deleted once")
	})
}

// assertRendition fetches a rendition through the CDN and checks with ffprobe that it is
// the H.264 picture it says, playing for duration to within tol seconds; it returns the
// fetch's X-Cache.
func assertRendition(t *testing.T, s *stack, r mediaclient.Rendition, duration, tol float64) string {
	t.Helper()
	file, cache := fetch(t, s, r.URL)
	p := probe(t, s, file, "")
	assert.Equal(t, "h264", p.video().CodecName)
	assert.Equal(t, r.Width, p.video().Width)
	assert.Equal(t, r.Height, p.video().Height)
	assert.InDelta(t, duration, p.duration(t), tol)
	return cache
}

// upload creates an upload of the file at path and PUTs it to the presigned URL, returning
// the media id.
func upload(t *testing.T, client *mediaclient.Client, path string) string {
	t.Helper()
	ctx := context.Background()
	up, err := client.CreateUpload(ctx, path, "video/mp4", filepath.Base(path))
	require.NoError(t, err)
	require.NoError(t, client.PutFile(ctx, up, path), "PUT to the presigned URL")
	return up.MediaID
}

// fetch GETs url as an unmodified client would (through the proxy) into a temp file and
// returns its path and X-Cache.
func fetch(t *testing.T, s *stack, url string) (string, string) {
	t.Helper()
	resp, err := s.viaCDN.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	u, err := neturl.Parse(url)
	require.NoError(t, err)
	f, err := os.CreateTemp(t.TempDir(), "*"+path.Ext(u.Path))
	require.NoError(t, err)
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, err)
	return f.Name(), resp.Header.Get("X-Cache")
}

type probeResult struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func (p probeResult) video() (v struct {
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}) {
	for _, st := range p.Streams {
		if st.CodecType == "video" {
			return st
		}
	}
	return v
}

func (p probeResult) duration(t *testing.T) float64 {
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	require.NoError(t, err, "duration %q", p.Format.Duration)
	return d
}

// probe runs ffprobe on a file or URL, with the proxy in its environment and cookies, when
// given, sent with every request (the HLS demuxer passes them on to playlists and segments).
func probe(t *testing.T, s *stack, input, cookies string) probeResult {
	t.Helper()
	args := []string{"-v", "error", "-print_format", "json", "-show_streams", "-show_format"}
	if strings.HasPrefix(input, "http") {
		// ffprobe refuses protocols it was not told to follow; httpproxy is the proxy tunnel.
		args = append(args, "-protocol_whitelist", "file,http,https,httpproxy,tcp,tls,crypto")
	}
	if cookies != "" {
		args = append(args, "-headers", "Cookie: "+cookies+"\r\n")
	}
	cmd := exec.Command("ffprobe", append(args, input)...)
	cmd.Env = s.toolEnv
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "ffprobe %s: %s", input, stderr.String())
	var p probeResult
	require.NoError(t, json.Unmarshal(out, &p))
	return p
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// diagnose logs where an upload that was not announced got to.
func diagnose(t *testing.T, s *stack, id string) {
	ctx := context.Background()
	sqsc := sqs.NewFromConfig(s.tg.AWSConfig())
	for _, q := range []string{"transcode_queue_url", "transcode_dlq_url"} {
		url := s.output(t, q)
		a, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Logf("%s: %v", q, err)
			continue
		}
		t.Logf("%s: visible %s, in flight %s", q, a.Attributes["ApproximateNumberOfMessages"], a.Attributes["ApproximateNumberOfMessagesNotVisible"])
	}
	originals := s.output(t, "originals_bucket_id")
	out, err := s.tg.S3Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &originals})
	if err != nil {
		t.Logf("list originals: %v", err)
		return
	}
	for _, o := range out.Contents {
		t.Logf("original %s (%d bytes), media %s", aws.ToString(o.Key), aws.ToInt64(o.Size), id)
	}
}

// checkStreams fetches every segment of a media's HLS and DASH playlists through the CDN,
// with the media's signed cookies if any (see streams.Check).
func checkStreams(t *testing.T, s *stack, hlsURL, dashURL, cookies string) {
	t.Helper()
	streams.Check(t, func(u string) []byte {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		require.NoError(t, err)
		if cookies != "" {
			req.Header.Set("Cookie", cookies)
		}
		resp, err := s.viaCDN.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, body)
		return body
	}, "ffprobe", hlsURL, dashURL)
}

// Size of the run under load and faults: small enough for CI, with one fault of each kind.
// Each user uploads every loadUploadEvery, which keeps the encodes within what two cores
// shared with the suite's other deployments finish before the drain ends.
const (
	loadUsers       = 8
	loadDuration    = time.Minute
	loadUploadEvery = 20 * time.Second
)

// runUnderLoadAndFaults drives the deployment with virtual users once the other flows are
// over, injecting one fault of each kind the local cloud has (an API instance killed, the
// database rebooted, S3 throttling, duplicate SQS deliveries, a transcoder sandbox killed,
// the function's storage filled, whose jobs go on to the worker fleet):
// no acknowledged upload is lost, the stack answers no 5xx outside the faults' windows, and
// every media that became ready was announced once. `make load` runs the same at any size.
func runUnderLoadAndFaults(t *testing.T, s *stack) {
	if s.cloud == nil {
		t.Skip("the faults are the local cloud's; AWS offers no way to inject them")
	}
	ctx := context.Background()
	local := load.LocalStack{Cloud: s.cloud, Emulator: s.emu, Region: s.tg.AWSConfig().Region, TranscoderFunction: s.output(t, "transcoder_function_name")}
	faults, err := local.Faults(load.LocalFaultNames)
	require.NoError(t, err)
	f, ok := s.cloud.Fleet(local.Region)
	require.True(t, ok, "the local cloud serves the fleet")
	// Two instances at least, as an operator runs a fleet that must survive losing one.
	_, err = autoscaling.NewFromConfig(s.tg.AWSConfig()).UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(s.output(t, "upload_api_asg_name")), MinSize: aws.Int32(2), DesiredCapacity: aws.Int32(2),
	})
	require.NoError(t, err)
	// The users reach the API by its latency name, through the local Route 53.
	apiURL, apiClient, dns, err := load.APIThroughDNS(s.cloud, s.output(t, "api_url"), s.output(t, "api_fqdn"))
	require.NoError(t, err)
	// Clips of the suite's short ones: the function's own, not the worker fleet's.
	clips := []string{makeVideo(t, 2), makeVideo(t, 3)}
	score, err := load.Run(ctx, load.Options{
		Users: loadUsers, Duration: loadDuration, Clips: clips, UploadEvery: loadUploadEvery,
		// A killed job comes back after the queue's visibility timeout.
		Drain:   6*s.transcoderTimeout + 2*time.Minute,
		FeedURL: s.output(t, "api_via_cdn_url"),
		SignIn: func(ctx context.Context, i int) (*mediaclient.Client, error) {
			c := s.signIn(t, fmt.Sprintf("load-%02d@example.com", i), "Load-password-1!")
			c.BaseURL, c.API = apiURL, apiClient
			return c, nil
		},
		FleetSize: load.FleetSize(f, "upload-api"),
		Faults:    faults,
	})
	require.NoError(t, err)
	writeScorecard(t, score)
	for _, w := range score.Faults {
		t.Logf("fault %s from %.0f s to %.0f s: %d 5xx", w.Name, w.StartS, w.EndS, w.Errors5xx)
	}
	t.Logf("%d requests, %d 5xx (%d outside faults); uploads %d: %d ready, %d failed, %d lost; time to ready p50 %.1f s, p99 %.1f s",
		score.Requests.Total, score.Requests.Errors5xx, score.Requests.Errors5xxOutsideFaults, score.Uploads.Attempted,
		score.Uploads.Ready, score.Uploads.Failed, score.Uploads.Lost, score.TimeToReady.P50, score.TimeToReady.P99)
	assert.NoError(t, score.Verdict())
	assert.Positive(t, dns.Lookups(), "the API was found through DNS")
	assert.Positive(t, score.Uploads.Ready)
	assert.Zero(t, score.Uploads.Failed, "valid clips: every fault's job is retried, here or on the worker fleet, until it is ready")
	assert.Len(t, score.Faults, len(load.LocalFaultNames), "one fault of each kind")
	time.Sleep(5 * time.Second) // room for a duplicate announcement to show up
	for _, id := range score.ReadyMedia {
		assert.Len(t, s.events.of(id), 1, "media %s is announced once, whatever its deliveries", id)
	}
}

// writeScorecard keeps the run's scorecard under build/load, as `make load` does.
func writeScorecard(t *testing.T, score load.Scorecard) {
	root, err := target.RepoRoot()
	require.NoError(t, err)
	data, err := json.MarshalIndent(score, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(root, "build", "load", "e2e-scorecard.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
	t.Logf("scorecard: %s", path)
}
