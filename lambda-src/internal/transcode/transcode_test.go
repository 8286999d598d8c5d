package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLadder(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		want []Rung
	}{
		{"4K", 3840, 2160, []Rung{{1080, 1920, 1080}, {720, 1280, 720}, {480, 854, 480}, {360, 640, 360}}},
		{"1080p", 1920, 1080, []Rung{{1080, 1920, 1080}, {720, 1280, 720}, {480, 854, 480}, {360, 640, 360}}},
		{"portrait 720p", 720, 1280, []Rung{{720, 720, 1280}, {480, 480, 854}, {360, 360, 640}}},
		{"odd", 641, 361, []Rung{{360, 640, 360}}},
		{"square", 1080, 1080, []Rung{{1080, 1080, 1080}, {720, 720, 720}, {480, 480, 480}, {360, 360, 360}}},
		{"between rungs: no upscaling", 1000, 1000, []Rung{{720, 720, 720}, {480, 480, 480}, {360, 360, 360}}},
		{"smaller than every rung", 321, 241, []Rung{{242, 322, 242}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Ladder(tt.w, tt.h, DefaultHeights))
		})
	}
}

// TestEncode transcodes each kind of original and checks every derivative with ffprobe.
func TestEncode(t *testing.T) {
	tests := []struct {
		clip          string
		width, height int // displayed
		rotation      bool
		audio         bool
		rungs         []Rung
	}{
		{"landscape1080.mp4", 1920, 1080, false, true, []Rung{{1080, 1920, 1080}, {720, 1280, 720}, {480, 854, 480}, {360, 640, 360}}},
		{"portrait.mp4", 720, 1280, true, true, []Rung{{720, 720, 1280}, {480, 480, 854}, {360, 360, 640}}},
		{"noaudio.mp4", 640, 360, false, false, []Rung{{360, 640, 360}}},
		{"odd.mp4", 641, 361, false, true, []Rung{{360, 640, 360}}},
		{"onesecond.mp4", 854, 480, false, true, []Rung{{480, 854, 480}, {360, 640, 360}}},
		{"anamorphic.mp4", 1024, 576, false, false, []Rung{{480, 854, 480}, {360, 640, 360}}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.clip, ".mp4"), func(t *testing.T) {
			in := clip(t, tt.clip)
			src := probeOutput(t, in)
			assert.Equal(t, tt.width, src.Width)
			assert.Equal(t, tt.height, src.Height)
			assert.Equal(t, tt.rotation, src.Rotation != 0)
			assert.Equal(t, tt.audio, src.HasAudio)

			outDir := t.TempDir()
			out, err := tools.Encode(context.Background(), in, outDir)
			require.NoError(t, err)
			require.Equal(t, tt.rungs, out.Plan.Rungs)

			master := readFile(t, filepath.Join(outDir, MasterPlaylist))
			for i, r := range out.Renditions {
				assert.Equal(t, tt.rungs[i], r.Rung)
				mp4 := filepath.Join(outDir, r.Name)
				p := probeOutput(t, mp4)
				assert.Equal(t, r.Width, p.Width, r.Name)
				assert.Equal(t, r.Height, p.Height, r.Name)
				assert.Zero(t, p.Rotation, "rotation is applied to the pixels, not left to players")
				assert.Equal(t, "h264", p.VideoCodec)
				assert.Equal(t, tt.audio, p.HasAudio, r.Name)
				assert.InDelta(t, src.DurationS, p.DurationS, 0.25, r.Name)
				assert.Equal(t, fileSize(t, mp4), r.Bytes)
				data := readFile(t, mp4)
				assert.Less(t, strings.Index(data, "moov"), strings.Index(data, "mdat"), "%s: fast start puts the index first", r.Name)

				assert.Contains(t, master, "RESOLUTION="+itoa(r.Width)+"x"+itoa(r.Height))
				assert.Contains(t, master, itoa(r.Label)+"p/index.m3u8")
				playlist := readFile(t, filepath.Join(outDir, PlaylistName(Variant(r.Rung))))
				assert.Contains(t, playlist, "#EXT-X-ENDLIST")
				assert.Contains(t, playlist, `#EXT-X-MAP:URI="init.mp4"`, "CMAF: fragmented MP4 with an init segment")
				segments := regexp.MustCompile(`(?m)^seg_\d+\.m4s$`).FindAllString(playlist, -1)
				require.NotEmpty(t, segments)
				joined := filepath.Join(t.TempDir(), "joined.mp4")
				require.NoError(t, concatTrack(outDir, Track{Variant: Variant(r.Rung), Segments: []Segment{{N: 0}}}, joined))
				seg := probeOutput(t, joined)
				assert.Equal(t, r.Width, seg.Width)
				assert.False(t, seg.HasAudio, "one track per CMAF file: the audio is its own")
				assert.Contains(t, out.Files, StreamDir+"/"+Variant(r.Rung)+"/"+segments[0])
			}
			if tt.audio {
				assert.Contains(t, master, "mp4a.40.2")
			}
			poster, err := jpeg.DecodeConfig(bytes.NewReader([]byte(readFile(t, filepath.Join(outDir, PosterName)))))
			require.NoError(t, err)
			assert.Equal(t, tt.rungs[0].Width, poster.Width)
			assert.Equal(t, tt.rungs[0].Height, poster.Height)
			assert.Equal(t, MasterPlaylist, out.Files[len(out.Files)-1], "the master playlist is published last")

			// Scrubbing thumbnails: a tile every interval on sprite sheets, and a WebVTT track
			// that covers the whole video without gaps, each cue pointing into a sheet.
			th := out.Thumbnails
			assert.Equal(t, ThumbnailWidth, th.Width)
			assert.Equal(t, even(float64(ThumbnailWidth)*float64(tt.rungs[0].Height)/float64(tt.rungs[0].Width)), th.Height, "the video's aspect")
			require.NotEmpty(t, th.Sprites)
			assert.Contains(t, out.Files, ThumbnailsTrack)
			for _, s := range th.Sprites {
				assert.Contains(t, out.Files, s)
			}
			assert.NotContains(t, strings.Join(out.Files, " "), "tiles/", "ffmpeg's frames are not published")
			track := readFile(t, filepath.Join(outDir, ThumbnailsTrack))
			require.True(t, strings.HasPrefix(track, "WEBVTT\n"), track)
			cues := regexp.MustCompile(`(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(sprite_\d+\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)`).FindAllStringSubmatch(track, -1)
			assert.Len(t, cues, max(1, int(math.Ceil(src.DurationS/float64(th.IntervalS)))), "a tile every %d s of %.1f s", th.IntervalS, src.DurationS)
			require.NotEmpty(t, cues)
			assert.Equal(t, "00:00:00.000", cues[0][1], "from the start")
			for i := 1; i < len(cues); i++ {
				assert.Equal(t, cues[i-1][2], cues[i][1], "cue %d starts where the one before ends", i)
			}
			sheet, err := jpeg.DecodeConfig(bytes.NewReader([]byte(readFile(t, filepath.Join(outDir, th.Sprites[0])))))
			require.NoError(t, err)
			assert.Equal(t, min(len(cues), SheetColumns)*th.Width, sheet.Width)
			assert.Equal(t, ((min(len(cues), SheetColumns*SheetRows)+SheetColumns-1)/SheetColumns)*th.Height, sheet.Height)
			assert.Equal(t, itoa(th.Width), cues[0][6])
		})
	}
}

func TestEncodeRejectsWithAReason(t *testing.T) {
	tests := []struct {
		clip    string
		limits  Limits
		message string
	}{
		{"notavideo.mp4", Limits{}, "not a decodable video: moov atom not found; Invalid data found when processing input"},
		{"watermark.png", Limits{}, "not a video"},
		{"truncated.mp4", Limits{}, "not a decodable video: moov atom not found"},
		{"truncated-faststart.mp4", Limits{}, "original is truncated or damaged"},
		{"landscape1080.mp4", Limits{MaxDurationS: 1}, "video too long: 2 s, the limit is 1 s"},
		{"portrait.mp4", Limits{MaxDimension: 1000}, "resolution too high: 720x1280"},
	}
	for _, tt := range tests {
		t.Run(tt.clip+" "+tt.message, func(t *testing.T) {
			opts := tools
			opts.Limits = tt.limits
			dir := t.TempDir()
			_, err := opts.Encode(context.Background(), clip(t, tt.clip), dir)
			require.Error(t, err)
			assert.True(t, IsPermanent(err), "%v must not be retried", err)
			assert.Contains(t, err.Error(), tt.message)
			assert.NotContains(t, err.Error(), clip(t, tt.clip), "temp paths mean nothing to the owner")
		})
	}
	err := Limits{MaxBytes: 100}.CheckSize(101)
	assert.True(t, IsPermanent(err))
	assert.EqualError(t, err, "file too large: 101 bytes, the limit is 100 bytes")
	assert.NoError(t, Limits{MaxBytes: 100}.CheckSize(100))
}

func TestEncodeStopsAtTheDeadline(t *testing.T) {
	in := clip(t, "landscape1080.mp4")
	opts := tools
	opts.Preset = "veryslow" // sure to outlast the deadline
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := opts.Encode(ctx, in, t.TempDir())
	require.Error(t, err)
	assert.False(t, IsPermanent(err), "a deadline is no fault of the video")
	assert.ErrorIs(t, err, ErrDeadline)
	var te *TransientError
	assert.True(t, errors.As(err, &te))
	assert.Less(t, time.Since(started), 3*time.Second, "ffmpeg is killed, not waited for")
}

func TestWatermarkIsOverlaid(t *testing.T) {
	opts := tools
	opts.WatermarkPath = clip(t, "watermark.png")
	outDir := t.TempDir()
	_, err := opts.Encode(context.Background(), clip(t, "black.mp4"), outDir)
	require.NoError(t, err)
	f, err := os.Open(filepath.Join(outDir, PosterName))
	require.NoError(t, err)
	defer f.Close()
	img, err := jpeg.Decode(f)
	require.NoError(t, err)
	b := img.Bounds()
	red := func(x, y int) bool {
		r, g, bl, _ := img.At(x, y).RGBA()
		return r > 0xb000 && g < 0x5000 && bl < 0x5000
	}
	assert.True(t, red(b.Max.X-b.Dx()/40-b.Dx()/12, b.Max.Y-b.Dy()/40-b.Dx()/12), "the watermark sits bottom right")
	assert.False(t, red(b.Dx()/2, b.Dy()/2), "and nowhere else")
	assert.False(t, red(10, 10))
}

func TestFindToolPrefersTheEnvironment(t *testing.T) {
	t.Setenv("FFMPEG_PATH", tools.FFprobe)
	p, err := FindTool("ffmpeg", "FFMPEG_PATH")
	require.NoError(t, err)
	assert.Equal(t, tools.FFprobe, p)
	t.Setenv("FFMPEG_PATH", filepath.Join(t.TempDir(), "missing"))
	_, err = FindTool("ffmpeg", "FFMPEG_PATH")
	assert.ErrorContains(t, err, "FFMPEG_PATH=")
	t.Setenv("FFMPEG_PATH", "")
	t.Setenv("PATH", t.TempDir())
	if _, err := os.Stat(LayerBinDir + "/ffmpeg"); err != nil {
		_, err = FindTool("ffmpeg", "FFMPEG_PATH")
		assert.ErrorContains(t, err, "apt-get install -y ffmpeg")
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestStoppedFFmpegIsRetried: ffmpeg told to stop by a signal (a host shutting down) exits
// 255 and prints nothing at the error level; that is the machine's doing, not the video's.
func TestStoppedFFmpegIsRetried(t *testing.T) {
	err := exec.Command("sh", "-c", "exit 255").Run()
	require.Error(t, err)
	classified := classifyFFmpeg(context.Background(), err, "no output")
	assert.False(t, IsPermanent(classified), "retried: %v", classified)
	err = exec.Command("sh", "-c", "exit 1").Run()
	assert.True(t, IsPermanent(classifyFFmpeg(context.Background(), err, "Invalid data found when processing input")), "a failing encode is the video's")
	full := classifyFFmpeg(context.Background(), err, "[hls @ 0x1] Failed to open file 'seg_001.ts': No space left on device")
	assert.False(t, IsPermanent(full), "a full disk is the machine's, not the video's")
	assert.True(t, IsNoSpace(full), "and says so, for the job to go where there is room: %v", full)
	assert.True(t, IsNoSpace(fmt.Errorf("download: %w", &os.PathError{Op: "write", Path: "original", Err: syscall.ENOSPC})), "a write of the transcoder's own")
}

// TestMissingOutputInAFullFolderIsNoSpace: ffmpeg's segment muxers may drop what a full
// folder refuses and exit 0; the encode then fails on missing output, which counts as the
// folder's lack of room only when the folder has none left.
func TestMissingOutputInAFullFolderIsNoSpace(t *testing.T) {
	missing := errors.New("ffmpeg wrote no segment of 480p")
	room := map[string]uint64{"/full": 4096, "/roomy": 1 << 30}
	statfs := freeBytes
	defer func() { freeBytes = statfs }()
	free, err := statfs(t.TempDir())
	require.NoError(t, err)
	assert.Positive(t, free, "the file system's own figure")
	freeBytes = func(dir string) (uint64, error) { return room[dir], nil }

	err = inFullFolder("/full", missing)
	assert.True(t, IsNoSpace(err), "a full folder says so, for the job to go where there is room: %v", err)
	assert.False(t, IsPermanent(err), "not the video's fault")
	assert.ErrorIs(t, err, missing, "and keeps what was seen")

	assert.Same(t, missing, inFullFolder("/roomy", missing), "with room left, the failure is what it was")
	assert.NoError(t, inFullFolder("/full", nil))
}
