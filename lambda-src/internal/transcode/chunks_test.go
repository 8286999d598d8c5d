package transcode

import (
	"context"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mediastack/terraform-aws-mediastack/test/streams"
)

func TestSpansFallOnSegmentsAndTiles(t *testing.T) {
	plan := func(d float64) Plan { return Plan{Probe: Probe{DurationS: d, ConstantFrameRate: true}, SegmentS: 4} }
	tests := []struct {
		name     string
		duration float64
		chunkS   int
		want     []Span
	}{
		{"one chunk", 30, 60, []Span{{0, 0, 30, true}}},
		{"the rest its own", 130, 60, []Span{{0, 0, 60, false}, {1, 60, 120, false}, {2, 120, 130, true}}},
		{"a rest shorter than a segment joins the chunk before", 121.5, 60, []Span{{0, 0, 60, false}, {1, 60, 121.5, true}}},
		{"rounded up to the step", 130, 50, []Span{{0, 0, 52, false}, {1, 52, 104, false}, {2, 104, 130, true}}},
		{"exactly two", 120, 60, []Span{{0, 0, 60, false}, {1, 60, 120, true}}},
	}
	vfr := plan(130)
	vfr.Probe.ConstantFrameRate = false
	assert.Equal(t, []Span{{0, 0, 130, true}}, vfr.Spans(60), "variable frame rate: one pass")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, plan(tt.duration).Spans(tt.chunkS))
		})
	}
	assert.Equal(t, 4, Options{}.withDefaults().SegmentSeconds, "chunks are whole 4-second segments by default")
}

// TestChunkedIsTheSinglePass encodes each kind of original in chunks and in one pass and
// checks that a probe and a player cannot tell them apart: the same packet timeline frame
// for frame, every source frame once, the audio continuous and in sync, the same segments
// named by the HLS and DASH playlists, and the quality within 0.5 dB.
func TestChunkedIsTheSinglePass(t *testing.T) {
	opts := tools
	opts.SegmentSeconds, opts.ThumbnailSeconds = 2, 3 // tiles inside chunks, not on their boundaries
	for _, name := range []string{"chunky.mp4", "chunky-23.976.mp4", "chunky-noaudio.mp4", "chunky-portrait.mp4", "chunky-vfr.mp4"} {
		t.Run(strings.TrimSuffix(name, ".mp4"), func(t *testing.T) {
			ctx := context.Background()
			in := clip(t, name)
			singleDir, chunkedDir := t.TempDir(), t.TempDir()
			single, err := opts.Encode(ctx, in, singleDir)
			require.NoError(t, err)
			chunked, err := opts.EncodeChunked(ctx, in, chunkedDir, 4, 2)
			require.NoError(t, err)
			if name == "chunky-vfr.mp4" {
				require.False(t, chunked.Plan.Probe.ConstantFrameRate)
				require.Len(t, chunked.Plan.Spans(4), 1, "variable frame rate: one pass")
			} else {
				require.True(t, chunked.Plan.Probe.ConstantFrameRate)
				require.Greater(t, len(chunked.Plan.Spans(4)), 2, "several chunks")
			}
			assert.Equal(t, single.Files, chunked.Files, "the same outputs")
			src := probeOutput(t, in)
			srcFrames := packets(t, in, "v:0")

			for i, r := range chunked.Renditions {
				mp4 := filepath.Join(chunkedDir, r.Name)
				got, want := packets(t, mp4, "v:0"), packets(t, filepath.Join(singleDir, r.Name), "v:0")
				assert.Equal(t, want, got, "%s: the single pass's timeline, frame for frame", r.Name)
				assert.Len(t, got, len(srcFrames), "%s: every frame of the original once", r.Name)
				p := probeOutput(t, mp4)
				frame := src.DurationS / float64(len(srcFrames))
				assert.InDelta(t, src.DurationS, p.DurationS, frame+0.001, "%s: duration within a frame", r.Name)

				if src.HasAudio {
					audio := packets(t, mp4, "a:0")
					require.NotEmpty(t, audio)
					for j := 1; j < len(audio); j++ {
						require.InDelta(t, audio[j-1].pts+audio[j-1].duration, audio[j].pts, 2e-6, "%s: audio continuous at packet %d", r.Name, j)
					}
					assert.InDelta(t, firstPresented(got), audio[0].pts, frame, "%s: audio in sync within a frame", r.Name)
				}
				q1, err := PSNR(ctx, tools.FFmpeg, filepath.Join(singleDir, r.Name), in, r.Width, r.Height)
				require.NoError(t, err)
				q2, err := PSNR(ctx, tools.FFmpeg, mp4, in, r.Width, r.Height)
				require.NoError(t, err)
				assert.InDelta(t, q1, q2, 0.5, "%s: PSNR of chunked %.2f dB, of single pass %.2f dB", r.Name, q2, q1)
				t.Logf("measured: %s rung %d PSNR single %.2f dB chunked %.2f dB", name, i, q1, q2)
			}
			checkStreams(t, chunkedDir)
		})
	}
}

// checkStreams checks the playlists as players read them (see streams.Check).
func checkStreams(t *testing.T, dir string) {
	t.Helper()
	streams.Check(t, func(u string) []byte {
		t.Helper()
		parsed, err := url.Parse(u)
		require.NoError(t, err)
		data, err := os.ReadFile(parsed.Path)
		require.NoError(t, err)
		return data
	}, tools.FFprobe, "file://"+filepath.Join(dir, MasterPlaylist), "file://"+filepath.Join(dir, DASHManifest))
}

type packet struct{ pts, dts, duration float64 }

// packets lists the packets of a stream of path (ffprobe's stream specifier; "" for any).
func packets(t testing.TB, path, stream string) []packet {
	t.Helper()
	args := []string{"-v", "error", "-show_entries", "packet=pts_time,dts_time,duration_time", "-of", "csv=p=0"}
	if stream != "" {
		args = append(args, "-select_streams", stream)
	}
	out, err := exec.Command(tools.FFprobe, append(args, path)...).Output()
	require.NoError(t, err, path)
	var ps []packet
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue
		}
		var p packet
		p.pts, _ = strconv.ParseFloat(f[0], 64)
		p.dts, _ = strconv.ParseFloat(f[1], 64)
		p.duration, _ = strconv.ParseFloat(f[2], 64)
		ps = append(ps, p)
	}
	return ps
}

func firstPresented(ps []packet) float64 {
	first := math.Inf(1)
	for _, p := range ps {
		first = min(first, p.pts)
	}
	return first
}
