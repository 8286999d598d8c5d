package pipeline

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/store"
	"github.com/mediastack/terraform-aws-mediastack/test/procs"
	"github.com/mediastack/terraform-aws-mediastack/test/streams"
)

// TestChunkedTranscodeAssemblesOnce runs a long video's chunk jobs as SQS would deliver
// them: out of order, duplicated, the upload's message twice, one chunk's first attempt
// killed after writing a broken segment (its lease then expires). The media is ready once,
// with one event, and its streams and MP4 are whole.
func TestChunkedTranscodeAssemblesOnce(t *testing.T) {
	st := chunkedStack(t)
	ctx := context.Background()
	id, upload := st.upload(t, "alice", "tenseconds.mp4")

	require.NoError(t, st.proc.Handle(ctx, upload), "the upload's job records the chunks and sends their jobs")
	m, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, store.StatusProcessing, m.Status)
	assert.Equal(t, 3, m.Chunks, "10 s in chunks of 4 s: 4 + 4 + 2")
	require.NoError(t, st.proc.Handle(ctx, upload), "a duplicate of the upload sends the pending chunks again")

	// Chunk 1's first attempt is killed mid-job: its claim stays until its lease ends, and it
	// left a broken segment behind.
	killed, err := st.proc.Store.ClaimChunk(ctx, id, 1, 2*time.Second)
	require.NoError(t, err)
	require.Equal(t, store.ChunkEncode, killed.Action)
	_, err = st.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &st.cfg.DerivativesBucket, Key: aws.String(id + "/stream/360p/seg_2.m4s"), Body: strings.NewReader("cut off")})
	require.NoError(t, err)

	var jobs []string
	for _, msg := range st.receive(t, st.uploadQueue, 5*time.Second) {
		jobs = append(jobs, msg.body)
	}
	require.Len(t, jobs, 6, "three chunk jobs, each sent twice")
	// Last first: the completer of the last chunk, whichever it is, assembles.
	for round := 0; len(jobs) > 0; round++ {
		require.Less(t, round, 10, "the chunk jobs settle")
		var again []string
		for i := len(jobs) - 1; i >= 0; i-- {
			if err := st.proc.Handle(ctx, jobs[i]); err != nil {
				_, later := RetryAfter(err)
				require.True(t, later, "only a busy chunk comes back: %v", err)
				again = append(again, jobs[i])
			}
		}
		jobs = again
		if len(jobs) > 0 {
			time.Sleep(time.Second) // the killed attempt's lease runs out
		}
	}

	m, err = st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.StatusReady, m.Status, "error: %s", m.Error)
	assert.Zero(t, m.Chunks, "no transcode in flight any more")
	assert.InDelta(t, 10, m.DurationS, 0.05)
	evs := st.mediaEvents(t)
	require.Len(t, evs, 1, "one ready event")
	assert.Equal(t, "ready", evs[0].Status)
	keys := st.derivativeKeys(t)
	for _, k := range keys {
		assert.NotContains(t, k, "thumbnails/tiles/", "the tiles went once laid out")
	}
	for _, want := range []string{"360p.mp4", "stream/master.m3u8", "stream/manifest.mpd", "stream/360p/seg_4.m4s", "stream/audio/seg_0.m4s", "thumbnails/sprite_1.jpg"} {
		assert.Contains(t, keys, id+"/"+want)
	}

	// Players' view: every segment named by both playlists, whole (the broken one was
	// written again); and the MP4 has every frame.
	streams.Check(t, st.derivative(t), st.cfg.FFprobe, evs[0].HLSURL, evs[0].DASHURL)
	mp4 := filepath.Join(t.TempDir(), "360p.mp4")
	obj, err := st.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &st.cfg.DerivativesBucket, Key: aws.String(id + "/360p.mp4")})
	require.NoError(t, err)
	data, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(mp4, data, 0o644))
	frames, err := exec.Command(st.cfg.FFprobe, "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", mp4).Output()
	require.NoError(t, err)
	assert.Equal(t, "250", strings.TrimSpace(string(frames)), "10 s at 25 frames a second, each once")
}

// TestRoutesWhatTheFunctionCannotHold sends an original too large for the function's
// storage, a video whose one pass would outlast its timeout, and a job that met a full
// storage, to the worker fleet's queue as S3 sent them; a worker (a processor without
// routing) transcodes them, and the hand-over costs the media no attempt.
func TestRoutesWhatTheFunctionCannotHold(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	workerQueue := st.queue(t, strings.ReplaceAll(st.cfg.OriginalsBucket, "originals", "worker-jobs"))
	worker := *st.proc
	worker.Worker = Routing{}
	function := st.proc.Transcoder

	for name, c := range map[string]struct {
		routing Routing
		fullMB  int // the function's storage: a tmpfs this large; 0: the machine's
	}{
		"too large for its storage": {routing: Routing{QueueURL: workerQueue, AboveBytes: 1000}},
		"too long for one pass":     {routing: Routing{QueueURL: workerQueue, OnePassAboveSeconds: 1}},
		"its storage full":          {routing: Routing{QueueURL: workerQueue}, fullMB: 1},
	} {
		t.Run(name, func(t *testing.T) {
			st.proc.Worker = c.routing
			st.proc.Transcoder = function
			if c.fullMB > 0 {
				if err := procs.TmpfsAvailable(); err != nil {
					t.Skip(err)
				}
				tmp, err := procs.MountTmpfs(procs.TempDir(t, "full-storage-*"), c.fullMB)
				require.NoError(t, err)
				t.Cleanup(func() { _ = tmp.Unmount() })
				small := *function
				small.TempDir = tmp.Dir
				st.proc.Transcoder = &small
				t.Cleanup(func() { st.proc.Transcoder = function })
			}
			id, body := st.upload(t, "alice", "landscape1080.mp4")
			require.NoError(t, st.proc.Handle(ctx, body))
			if c.fullMB > 0 {
				assert.Contains(t, st.logs.String(), "this function's storage is full")
				for _, ev := range st.mediaEvents(t) {
					assert.NotEqual(t, id, ev.MediaID, "nothing announced by the function: %+v", ev)
				}
			}
			routed := st.receive(t, workerQueue, 5*time.Second)
			require.Len(t, routed, 1, "one job for the worker fleet")
			assert.Equal(t, body, routed[0].body, "the notification as S3 sent it")
			if m, err := st.proc.Store.Get(ctx, id); err == nil {
				assert.Equal(t, store.StatusUploaded, m.Status, "not held by the function")
			}
			require.NoError(t, worker.Handle(ctx, routed[0].body))
			m, err := st.proc.Store.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, store.StatusReady, m.Status, "error: %s", m.Error)
		})
	}
	assert.NotContains(t, st.logs.String(), `"attempt":2`, "the hand-over costs no attempt: the worker's is the first")
}

// TestChunksOfDifferentBuildsAreEncodedAgain encodes one chunk with other encoder settings,
// as a runner updated mid-way would: its init segment differs, so the assembly cannot join
// the chunks; every chunk is encoded again, and the media is ready once, whole.
func TestChunksOfDifferentBuildsAreEncodedAgain(t *testing.T) {
	st := chunkedStack(t)
	ctx := context.Background()
	id, upload := st.upload(t, "alice", "tenseconds.mp4")
	require.NoError(t, st.proc.Handle(ctx, upload))
	jobs := st.jobs(t, "chunk_job")
	require.Len(t, jobs, 3)
	preset := st.proc.Transcoder.Options.Preset
	st.proc.Transcoder.Options.Preset = "ultrafast" // another build's encoder
	require.NoError(t, st.proc.Handle(ctx, jobs[0]))
	st.proc.Transcoder.Options.Preset = preset
	for _, j := range jobs[1:] {
		require.NoError(t, st.proc.Handle(ctx, j))
	}
	m, err := st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.StatusUploaded, m.Status, "not assembled: error %q", m.Error)
	assert.Zero(t, m.Chunks, "the chunks are forgotten")
	assert.Contains(t, st.logs.String(), "encoding every chunk again")

	restart := st.jobs(t, "transcode_job")
	require.Len(t, restart, 1, "the upload's job is sent again")
	require.NoError(t, st.proc.Handle(ctx, restart[0]))
	again := st.jobs(t, "chunk_job")
	require.Len(t, again, 3, "every chunk is encoded again")
	for _, j := range again {
		require.NoError(t, st.proc.Handle(ctx, j))
	}
	m, err = st.proc.Store.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.StatusReady, m.Status, "error: %s", m.Error)
	evs := st.mediaEvents(t)
	require.Len(t, evs, 1, "ready once")
	streams.Check(t, st.derivative(t), st.cfg.FFprobe, evs[0].HLSURL, evs[0].DASHURL)
}
