package transcode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mediastack/terraform-aws-mediastack/test/procs"
)

// Clips the tests transcode, generated with ffmpeg's lavfi sources: short and small, so that
// the suite stays fast, but each with the property that matters.
var clipRecipes = map[string][][]string{
	"landscape1080.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"}},
	// A phone's portrait video: landscape pixels with a display matrix that rotates them.
	"portrait.mp4": {
		{"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=220",
			"-t", "1.5", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"},
		{"-c", "copy", "-metadata:s:v:0", "rotate=90"},
	},
	"noaudio.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}},
	// 4:4:4 allows odd dimensions, which 4:2:0 outputs cannot have.
	"odd.mp4": {{"-f", "lavfi", "-i", "testsrc=size=641x361:rate=25", "-f", "lavfi", "-i", "sine", "-t", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-c:a", "aac"}},
	"onesecond.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30", "-f", "lavfi", "-i", "sine", "-t", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"}},
	// Anamorphic: 720x576 pixels shown at 16:9, as DV and DVDs store it.
	"anamorphic.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=720x576:rate=25", "-t", "1", "-vf", "setsar=64/45",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}},
	// Long enough for several chunks of a few seconds (see chunks_test.go).
	"chunky.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"}},
	"chunky-23.976.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24000/1001", "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100",
		"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"}},
	"chunky-noaudio.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}},
	"chunky-portrait.mp4": {
		{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=220", "-t", "10",
			"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"},
		{"-c", "copy", "-metadata:s:v:0", "rotate=90"},
	},
	// A phone's variable frame rate: 30 frames a second, then 12, then 24, in one stream.
	"chunky-vfr.mp4": {{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=3.5", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=12:duration=3",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24:duration=3.5", "-f", "lavfi", "-i", "sine=frequency=550:duration=10",
		"-filter_complex", "[0:v]settb=1/90000[a];[1:v]settb=1/90000[b];[2:v]settb=1/90000[c];[a][b][c]concat=n=3:v=1:a=0[v]",
		"-map", "[v]", "-map", "3:a", "-vsync", "vfr", "-video_track_timescale", "90000",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"}},
	"black.mp4":     {{"-f", "lavfi", "-i", "color=black:size=640x360:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}},
	"watermark.png": {{"-f", "lavfi", "-i", "color=red:size=64x64", "-frames:v", "1"}},
}

var (
	clipsOnce sync.Once
	clipsDir  string
	clipsErr  error
	clipsMu   sync.Mutex
)

// clip returns the path of a generated clip, making it on first use.
func clip(t testing.TB, name string) string {
	t.Helper()
	clipsOnce.Do(func() {
		var remove func() error
		clipsDir, remove, clipsErr = procs.MkdirTemp("transcode-clips-*")
		cleanups = append(cleanups, remove)
	})
	if clipsErr != nil {
		t.Fatalf("clips dir: %v", clipsErr)
	}
	// One Once per clip: a clip made from another one asks for it without deadlock.
	clipsMu.Lock()
	c, ok := clips[name]
	if !ok {
		c = &clipEntry{}
		clips[name] = c
	}
	clipsMu.Unlock()
	path := filepath.Join(clipsDir, name)
	c.once.Do(func() { c.err = makeClip(t, name, path) })
	if c.err != nil {
		t.Fatalf("make clip %s: %v", name, c.err)
	}
	return path
}

type clipEntry struct {
	once sync.Once
	err  error
}

var clips = map[string]*clipEntry{}

func makeClip(t testing.TB, name, path string) error {
	switch name {
	case "truncated.mp4": // moov at the end, cut off: nothing describes the streams
		return truncate(clip(t, "landscape1080.mp4"), path)
	case "truncated-faststart.mp4": // moov at the front, media cut off: probes well, ends early
		if err := ffmpeg("-i", clip(t, "landscape1080.mp4"), "-c", "copy", "-movflags", "+faststart", path+".full.mp4"); err != nil {
			return err
		}
		return truncate(path+".full.mp4", path)
	case "notavideo.mp4":
		return os.WriteFile(path, []byte("this is a text file with a video's name\n"), 0o644)
	}
	steps, ok := clipRecipes[name]
	if !ok {
		return fmt.Errorf("no recipe")
	}
	in := ""
	for i, step := range steps {
		out := path
		if i < len(steps)-1 {
			out = fmt.Sprintf("%s.step%d%s", path, i, filepath.Ext(path))
		}
		args := step
		if in != "" {
			args = append([]string{"-i", in}, step...)
		}
		if err := ffmpeg(append(args, out)...); err != nil {
			return err
		}
		in = out
	}
	return nil
}

func truncate(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data[:len(data)/2], 0o644) //nolint:gosec // the path of a tool this process looks up, not user input
}

func ffmpeg(args ...string) error {
	out, err := exec.Command(tools.FFmpeg, append([]string{"-hide_banner", "-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg %v: %v: %s", args, err, out)
	}
	return nil
}

var (
	tools    Options
	cleanups []func() error
)

func TestMain(m *testing.M) {
	var err error
	if tools.FFmpeg, err = FindTool("ffmpeg", "FFMPEG_PATH"); err == nil {
		tools.FFprobe, err = FindTool("ffprobe", "FFPROBE_PATH")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	for _, c := range cleanups {
		_ = c()
	}
	os.Exit(code)
}

// probeJSON is ffprobe's view of an output, for assertions.
func probeOutput(t testing.TB, path string) Probe {
	t.Helper()
	p, err := ProbeFile(context.Background(), tools.FFprobe, path)
	if err != nil {
		t.Fatalf("probe %s: %v", filepath.Base(path), err)
	}
	return p
}
