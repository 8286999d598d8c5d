package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
)

// invalidations records the CDN invalidations asked for.
type invalidations struct {
	mu    sync.Mutex
	paths []string
}

func (r *invalidations) CreateInvalidation(_ context.Context, in *cloudfront.CreateInvalidationInput, _ ...func(*cloudfront.Options)) (*cloudfront.CreateInvalidationOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths = append(r.paths, aws.ToString(in.DistributionId)+":"+strings.Join(in.InvalidationBatch.Paths.Items, ","))
	return &cloudfront.CreateInvalidationOutput{}, nil
}

func (r *invalidations) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.paths)
}

// lostObjectEvent is S3's notification of a Reduced Redundancy object lost.
func lostObjectEvent(bucket, key string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ReducedRedundancyLostObject",
		"s3":{"bucket":{"name":%q},"object":{"key":%q}}}]}`, bucket, key)
}

func (st *stack) deleteDerivatives(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, err := st.s3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &st.cfg.DerivativesBucket, Key: &k})
		require.NoError(t, err)
	}
}

// TestLostDerivativesAreMadeAgain loses derivatives of a ready media, found once by the
// reconciler and once by S3's lost-object notification: each time the media is made again
// under the same keys while it stays ready, without a second ready event, and invalidated
// on the CDN; a duplicate report changes nothing.
func TestLostDerivativesAreMadeAgain(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	cdn := &invalidations{}
	st.proc.JobQueueURL, st.proc.CDN = st.uploadQueue, &Invalidation{Client: cdn, DistributionID: "E2TESTDIST"}
	id, upload := st.uploadRecorded(t, store.Media{Owner: "alice", Visibility: store.VisibilityPublic, Region: st.cfg.Region}, "small.mp4")
	other, otherUpload := st.upload(t, "bob", "small.mp4")
	require.NoError(t, st.proc.Handle(ctx, upload))
	require.NoError(t, st.proc.Handle(ctx, otherUpload))
	require.Len(t, st.mediaEvents(t), 2)
	before, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	published := st.derivativeKeys(t)
	var mine []string
	for _, k := range published {
		if strings.HasPrefix(k, id+"/") {
			mine = append(mine, k)
		}
	}
	assert.Equal(t, len(mine), before.DerivativeCount, "the record counts what was published")

	// The reconciler finds a lost segment and poster of one media, and only of that one.
	st.deleteDerivatives(t, id+"/stream/360p/seg_0.m4s", before.PosterKey)
	require.NoError(t, st.proc.Handle(ctx, `{"reconcile":{}}`))
	jobs := st.jobs(t, "rederive_job")
	require.Len(t, jobs, 1, "one job, for the media that lost derivatives")
	assert.Contains(t, jobs[0], id)
	assert.NotContains(t, jobs[0], other)

	require.NoError(t, st.proc.Handle(ctx, jobs[0]))
	assert.ElementsMatch(t, published, st.derivativeKeys(t), "the same keys again")
	after, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusReady, after.Status)
	assert.False(t, after.Rederiving)
	assert.Equal(t, before.PublishedAt, after.PublishedAt, "it keeps its place in the feed")
	assert.Equal(t, before.HLSKey, after.HLSKey)
	assert.Empty(t, st.mediaEvents(t), "no second ready event")
	assert.Equal(t, []string{"E2TESTDIST:/" + id + "/*"}, cdn.all())

	require.NoError(t, st.proc.Handle(ctx, jobs[0]), "a duplicate job")
	assert.Len(t, cdn.all(), 1, "a duplicate finds nothing missing and makes nothing")

	// S3 reports lost objects, one notification each: the first makes the media again, the
	// second finds it whole.
	st.deleteDerivatives(t, id+"/stream/master.m3u8", id+"/360p.mp4")
	require.NoError(t, st.proc.Handle(ctx, lostObjectEvent(st.cfg.DerivativesBucket, id+"/stream/master.m3u8")))
	require.NoError(t, st.proc.Handle(ctx, lostObjectEvent(st.cfg.DerivativesBucket, id+"/360p.mp4")))
	assert.ElementsMatch(t, published, st.derivativeKeys(t))
	assert.Len(t, cdn.all(), 2, "made again once")
	assert.Empty(t, st.mediaEvents(t))

	// Everything is whole: a pass sends no job.
	require.NoError(t, st.proc.Handle(ctx, `{"reconcile":{"limit":10}}`))
	assert.Empty(t, st.jobs(t, "rederive_job"))
	assert.Contains(t, st.logs.String(), `"incomplete":0`)
}

// TestLostDerivativesOfALongVideoAreMadeAgainInChunks: a chunked media is made again in
// chunks, ready all along, and assembled once.
func TestLostDerivativesOfALongVideoAreMadeAgainInChunks(t *testing.T) {
	st := chunkedStack(t)
	ctx := context.Background()
	id, upload := st.upload(t, "alice", "tenseconds.mp4")
	runAll := func(first string) {
		t.Helper()
		jobs := []string{first}
		for round := 0; len(jobs) > 0; round++ {
			require.Less(t, round, 10, "the jobs settle")
			for _, j := range jobs {
				require.NoError(t, st.proc.Handle(ctx, j))
			}
			jobs = st.jobs(t, "chunk_job")
		}
	}
	runAll(upload)
	require.Len(t, st.mediaEvents(t), 1)
	published := st.derivativeKeys(t)

	st.deleteDerivatives(t, id+"/stream/360p/seg_3.m4s", id+"/stream/audio/seg_1.m4s")
	require.NoError(t, st.proc.Handle(ctx, lostObjectEvent(st.cfg.DerivativesBucket, id+"/stream/360p/seg_3.m4s")))
	m, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusReady, m.Status, "ready while it is made again")
	assert.True(t, m.Rederiving)
	assert.Equal(t, 3, m.Chunks)
	var chunkJobs []string
	for _, msg := range st.receive(t, st.uploadQueue, 3*time.Second) {
		var job jobMessage
		require.NoError(t, json.Unmarshal([]byte(msg.body), &job))
		chunkJobs = append(chunkJobs, msg.body)
	}
	require.Len(t, chunkJobs, 3)
	for _, j := range chunkJobs {
		require.NoError(t, st.proc.Handle(ctx, j))
	}
	m, err = st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusReady, m.Status)
	assert.False(t, m.Rederiving)
	assert.Zero(t, m.Chunks)
	assert.ElementsMatch(t, published, st.derivativeKeys(t))
	assert.Empty(t, st.mediaEvents(t), "no second ready event")
	require.NoError(t, st.proc.Handle(ctx, `{"reconcile":{}}`))
	assert.Empty(t, st.jobs(t, "rederive_job"), "a chunked media made again is whole")
}
