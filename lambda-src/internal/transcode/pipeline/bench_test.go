package pipeline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/lambda-src/internal/transcode"
)

// BenchmarkTranscoderVsFFmpeg compares the whole transcoder (claim, download from S3, probe,
// the ffmpeg run, the playlists and the MP4s by stream copy, a probe of the result, uploads,
// database, event) with the same ffmpeg ladder command run directly on a local file; "ratio" is the transcoder's overhead factor. On the
// 2-second clip fixed costs dominate; on the minute of 1080p the renditions go to S3 in parts.
//
//	go test -run '^$' -bench TranscoderVsFFmpeg -benchtime 1x ./lambda-src/internal/transcode/pipeline/
func BenchmarkTranscoderVsFFmpeg(b *testing.B) {
	for _, c := range []struct{ name, clip string }{
		{"2s-1080p", "landscape1080.mp4"},
		{"60s-1080p", "minute1080.mp4"},
	} {
		b.Run(c.name, func(b *testing.B) { benchmarkTranscoderVsFFmpeg(b, c.clip) })
	}
}

func benchmarkTranscoderVsFFmpeg(b *testing.B, clipName string) {
	st := newStack(b)
	ctx := context.Background()
	src := clip(b, clipName)
	opts := st.proc.Transcoder.Options
	probe, err := transcode.ProbeFile(ctx, opts.FFprobe, src)
	require.NoError(b, err)
	plan, err := opts.Plan(probe)
	require.NoError(b, err)
	args := opts.SpanArgs(src, plan, plan.Whole(), true)

	var transcoder, direct time.Duration
	n := 0
	for b.Loop() {
		_, body := st.upload(b, "bench", clipName)
		started := time.Now()
		require.NoError(b, st.proc.Handle(ctx, body))
		transcoder += time.Since(started)

		dir, err := os.MkdirTemp("", "bench-ffmpeg-*")
		require.NoError(b, err)
		require.NoError(b, os.MkdirAll(filepath.Join(dir, "thumbnails", "tiles"), 0o755))
		cmd := exec.CommandContext(ctx, opts.FFmpeg, args...)
		cmd.Dir = dir
		started = time.Now()
		out, err := cmd.CombinedOutput()
		direct += time.Since(started)
		os.RemoveAll(dir)
		require.NoError(b, err, "%s", out)
		n++
	}
	b.ReportMetric(transcoder.Seconds()/float64(n), "transcoder-s/op")
	b.ReportMetric(direct.Seconds()/float64(n), "ffmpeg-s/op")
	b.ReportMetric(transcoder.Seconds()/direct.Seconds(), "ratio")
}
