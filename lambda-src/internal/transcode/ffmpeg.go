package transcode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options configure the encoding.
type Options struct {
	FFmpeg, FFprobe string // paths; see FindTool
	Limits          Limits
	Heights         []int  // the ladder; DefaultHeights when nil
	SegmentSeconds  int    // HLS segment length; 4 when 0
	Preset          string // x264 preset; "veryfast" when empty
	WatermarkPath   string // an image overlaid bottom right; none when empty
	// ThumbnailSeconds is how far apart the scrubbing thumbnails are; 5 when 0.
	ThumbnailSeconds int
}

func (o Options) withDefaults() Options {
	if o.Heights == nil {
		o.Heights = DefaultHeights
	}
	if o.SegmentSeconds <= 0 {
		o.SegmentSeconds = 4
	}
	if o.Preset == "" {
		o.Preset = "veryfast"
	}
	if o.ThumbnailSeconds <= 0 {
		o.ThumbnailSeconds = 5
	}
	return o
}

// Plan is what one ffmpeg run will produce from a probed original.
type Plan struct {
	Probe      Probe
	Rungs      []Rung
	PosterAt   float64 // seconds into the video
	Thumbnails ThumbnailPlan
}

// Plan checks p against the limits and lays out the ladder.
func (o Options) Plan(p Probe) (Plan, error) {
	o = o.withDefaults()
	if err := o.Limits.Check(p); err != nil {
		return Plan{}, err
	}
	rungs := Ladder(p.Width, p.Height, o.Heights)
	return Plan{Probe: p, Rungs: rungs, PosterAt: min(p.DurationS/4, 2),
		Thumbnails: thumbnailPlan(o.ThumbnailSeconds, rungs[0].Width, rungs[0].Height)}, nil
}

// Names of the outputs, relative to the output directory; they are also the object keys
// under the media's prefix (see lambda-src/README.md).
const (
	MasterPlaylist = "hls/master.m3u8"
	PosterName     = "poster.jpg"
)

// RenditionName is the MP4 of a rung.
func RenditionName(r Rung) string { return strconv.Itoa(r.Label) + "p.mp4" }

// PlaylistName is the HLS media playlist of a rung.
func PlaylistName(r Rung) string { return "hls/" + strconv.Itoa(r.Label) + "p/index.m3u8" }

// maxrateKbps caps each rung's bitrate: quality is set by CRF, the cap keeps HLS
// bandwidth announcements honest and a noisy source from exploding.
func maxrateKbps(label int) int {
	switch {
	case label >= 1080:
		return 6000
	case label >= 720:
		return 3500
	case label >= 480:
		return 1800
	case label >= 360:
		return 1000
	}
	return 700
}

// Args returns the arguments of the one ffmpeg run that writes the whole plan, relative to
// the working directory it must run in (the output directory). The video is decoded once
// and each rung encoded once: a tee muxer writes every encoded rung both as a fast-start MP4
// and as HLS, whose muxer also writes the master playlist.
func (o Options) Args(input string, plan Plan) []string {
	o = o.withDefaults()
	p, rungs := plan.Probe, plan.Rungs
	args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error", "-i", "file:" + input}
	var graph strings.Builder
	src := "[0:v]" // rotation is applied by ffmpeg's autorotate before the graph
	if o.WatermarkPath != "" {
		args = append(args, "-i", "file:"+o.WatermarkPath)
		fmt.Fprintf(&graph, "[1:v]scale=%d:-2[wm];[0:v][wm]overlay=x=main_w-overlay_w-main_w/40:y=main_h-overlay_h-main_h/40[src];",
			even(float64(p.Width)/6))
		src = "[src]"
	}
	fmt.Fprintf(&graph, "%ssplit=%d", src, len(rungs)+2)
	for i := range rungs {
		fmt.Fprintf(&graph, "[s%d]", i)
	}
	graph.WriteString("[sp][st]")
	for i, r := range rungs {
		fmt.Fprintf(&graph, ";[s%d]scale=%d:%d,setsar=1,format=yuv420p[v%d]", i, r.Width, r.Height, i)
	}
	fmt.Fprintf(&graph, ";[sp]setpts=PTS-STARTPTS,trim=start=%.3f,scale=%d:%d,setsar=1[poster]", plan.PosterAt, rungs[0].Width, rungs[0].Height)
	th := plan.Thumbnails
	// A frame every interval, the one showing its start (repeated where the video has none,
	// so that tile n is always the time from n*interval), and the last even when the video
	// ends inside its interval.
	fmt.Fprintf(&graph, ";[st]setpts=PTS-STARTPTS,fps=1/%d:round=down:eof_action=pass,scale=%d:%d,setsar=1[thumbs]", th.IntervalS, th.Width, th.Height)
	args = append(args, "-filter_complex", graph.String())

	var slaves, variants []string
	for i, r := range rungs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
		sel, variant := fmt.Sprintf("v:%d", i), fmt.Sprintf("v:%d", i)
		if p.HasAudio {
			// One audio encode per rung: each HLS variant must own its streams.
			args = append(args, "-map", "0:a:0")
			sel += fmt.Sprintf(",a:%d", i)
			variant += fmt.Sprintf(",a:%d", i)
		}
		rate := maxrateKbps(r.Label)
		args = append(args, fmt.Sprintf("-maxrate:v:%d", i), fmt.Sprintf("%dk", rate), fmt.Sprintf("-bufsize:v:%d", i), fmt.Sprintf("%dk", 2*rate))
		slaves = append(slaves, fmt.Sprintf(`[select=\'%s\':f=mp4:movflags=+faststart]%s`, sel, RenditionName(r)))
		variants = append(variants, fmt.Sprintf("%s,name:%dp", variant, r.Label))
	}
	slaves = append(slaves, fmt.Sprintf(`[f=hls:hls_time=%d:hls_playlist_type=vod:hls_segment_filename=hls/%%v/segment_%%d.ts:master_pl_name=master.m3u8:var_stream_map=\'%s\']hls/%%v/index.m3u8`,
		o.SegmentSeconds, strings.Join(variants, " ")))
	args = append(args,
		"-c:v", "libx264", "-preset", o.Preset, "-profile:v", "high", "-crf", "23",
		// Key frames on segment boundaries, so that every segment starts decodable.
		"-force_key_frames", fmt.Sprintf("expr:gte(t,n_forced*%d)", o.SegmentSeconds),
		"-c:a", "aac", "-b:a", "128k", "-ac", "2",
		"-flags", "+global_header",
		// Phones record locations; derivatives are public.
		"-map_metadata", "-1", "-map_chapters", "-1",
		"-f", "tee", strings.Join(slaves, "|"),
		"-map", "[poster]", "-frames:v", "1", "-q:v", "3", "-update", "1", PosterName,
		"-map", "[thumbs]", "-q:v", "4", "-f", "image2", thumbnailTiles+"/tile_%05d.jpg",
	)
	return args
}

// RenditionFile is an encoded rung.
type RenditionFile struct {
	Rung
	Name  string // relative to Output.Dir
	Bytes int64
}

// Output is what Encode wrote.
type Output struct {
	Dir        string
	Plan       Plan
	Renditions []RenditionFile
	Thumbnails Thumbnails // zero when they could not be made (see Warnings)
	Files      []string   // every file, relative to Dir, the master playlist last
	Warnings   []string   // what is missing from an output that is published all the same
}

// Encode probes input, checks it against the limits and runs ffmpeg once to write the
// whole ladder into outDir. When ctx ends first, ffmpeg is killed and the error is a
// TransientError wrapping ErrDeadline.
func (o Options) Encode(ctx context.Context, input, outDir string) (Output, error) {
	o = o.withDefaults()
	probe, err := ProbeFile(ctx, o.FFprobe, input)
	if err != nil {
		return Output{}, err
	}
	plan, err := o.Plan(probe)
	if err != nil {
		return Output{}, err
	}
	if err := os.MkdirAll(filepath.Join(outDir, thumbnailTiles), 0o755); err != nil {
		return Output{}, transient(err)
	}
	cmd := exec.CommandContext(ctx, o.FFmpeg, o.Args(input, plan)...)
	cmd.Dir = outDir
	cmd.WaitDelay = 5 * time.Second
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return Output{}, classifyFFmpeg(ctx, err, toolMessage(stderr.String(), input, "no output"))
	}
	out := Output{Dir: outDir, Plan: plan}
	for _, r := range plan.Rungs {
		fi, err := os.Stat(filepath.Join(outDir, RenditionName(r)))
		if err != nil {
			return Output{}, fmt.Errorf("ffmpeg left no %s: %w", RenditionName(r), err)
		}
		out.Renditions = append(out.Renditions, RenditionFile{Rung: r, Name: RenditionName(r), Bytes: fi.Size()})
	}
	// A truncated original can probe well and then end early without ffmpeg failing.
	top, err := ProbeFile(ctx, o.FFprobe, filepath.Join(outDir, out.Renditions[0].Name))
	if err != nil {
		return Output{}, fmt.Errorf("probe the rendition: %w", err)
	}
	if top.DurationS < probe.DurationS*0.9-0.5 {
		return Output{}, permanentf("original is truncated or damaged: only %.1f s of %.1f s could be decoded", top.DurationS, probe.DurationS)
	}
	// Thumbnails are a nicety: without them the media is published all the same.
	if out.Thumbnails, err = layOutThumbnails(outDir, plan.Thumbnails, probe.DurationS); err != nil {
		out.Warnings = append(out.Warnings, "no scrubbing thumbnails: "+err.Error())
		out.Thumbnails = Thumbnails{}
		if err := os.RemoveAll(filepath.Join(outDir, filepath.Dir(ThumbnailsTrack))); err != nil {
			return Output{}, transient(err)
		}
	}
	out.Files, err = listFiles(outDir)
	if err != nil {
		return Output{}, err
	}
	return out, nil
}

func classifyFFmpeg(ctx context.Context, err error, msg string) error {
	if ctx.Err() != nil {
		return transient(fmt.Errorf("ffmpeg killed: %w (%v)", ErrDeadline, context.Cause(ctx)))
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return fmt.Errorf("run ffmpeg: %w", err)
	}
	if !exitErr.Exited() || strings.Contains(msg, "No space left on device") || strings.Contains(msg, "Cannot allocate memory") {
		// Killed (out of memory) or out of disk: the machine's fault, maybe not the next one's.
		return transient(fmt.Errorf("ffmpeg: %s: %s", exitErr, msg))
	}
	// The original probed well, so a failing encode is about its content.
	return permanent("cannot transcode the video", errors.New(msg))
}

// listFiles returns the files under dir, relative and slash-separated, with the master
// playlist last so that an uploader that keeps the order publishes it once all else is up.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err == nil && filepath.ToSlash(rel) != MasterPlaylist {
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list outputs: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, MasterPlaylist)); err != nil {
		return nil, fmt.Errorf("ffmpeg left no master playlist: %w", err)
	}
	return append(files, MasterPlaylist), nil
}
