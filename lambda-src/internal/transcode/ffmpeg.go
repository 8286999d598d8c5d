package transcode

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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

// Plan is what the encoding of a probed original produces.
type Plan struct {
	Probe      Probe
	Rungs      []Rung
	PosterAt   float64 // seconds into the video
	SegmentS   int     // the segments' length
	Thumbnails ThumbnailPlan
}

// Plan checks p against the limits and lays out the ladder.
func (o Options) Plan(p Probe) (Plan, error) {
	o = o.withDefaults()
	if err := o.Limits.Check(p); err != nil {
		return Plan{}, err
	}
	rungs := Ladder(p.Width, p.Height, o.Heights)
	return Plan{Probe: p, Rungs: rungs, PosterAt: min(p.DurationS/4, 2), SegmentS: o.SegmentSeconds,
		Thumbnails: thumbnailPlan(o.ThumbnailSeconds, rungs[0].Width, rungs[0].Height)}, nil
}

// Whole is the span of the whole video.
func (p Plan) Whole() Span { return Span{EndS: p.Probe.DurationS, Last: true} }

// Variants are the plan's streams: a video variant per rung, best first, then the audio.
func (p Plan) Variants() []string {
	var vs []string
	for _, r := range p.Rungs {
		vs = append(vs, Variant(r))
	}
	if p.Probe.HasAudio {
		vs = append(vs, AudioVariant)
	}
	return vs
}

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

// SpanArgs returns the arguments of the one ffmpeg run that encodes span of the plan,
// relative to the working directory it must run in (the span's output directory). The
// video is decoded once and each rung encoded once into CMAF segments numbered from the
// span's start, with the timestamps a single pass gives them; with audio, the whole audio
// is encoded too (once, so that it has no seam); the poster when the span holds its moment,
// and a thumbnail tile every interval.
func (o Options) SpanArgs(input string, plan Plan, span Span, audio bool) []string {
	o = o.withDefaults()
	p, rungs := plan.Probe, plan.Rungs
	whole := span.StartS == 0 && span.Last
	// Timestamps are the original's from its start, in every span as in a single pass:
	// after a seek ffmpeg would count from the seek point instead of the first frame after it.
	args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error", "-copyts", "-start_at_zero"}
	if span.StartS > 0 {
		args = append(args, "-ss", seconds(span.StartS))
	}
	if !span.Last {
		args = append(args, "-t", seconds(span.EndS-span.StartS))
	}
	args = append(args, "-i", "file:"+input)
	audio = audio && p.HasAudio
	audioIn := "0:a:0"
	next := 1
	if audio && !whole {
		args = append(args, "-i", "file:"+input) // the audio whole, unbounded by the span
		audioIn, next = "1:a:0", 2
	}
	var graph strings.Builder
	src := "[0:v]" // rotation is applied by ffmpeg's autorotate before the graph
	if o.WatermarkPath != "" {
		args = append(args, "-i", "file:"+o.WatermarkPath)
		fmt.Fprintf(&graph, "[%d:v]scale=%d:-2[wm];[0:v][wm]overlay=x=main_w-overlay_w-main_w/40:y=main_h-overlay_h-main_h/40[src];",
			next, even(float64(p.Width)/6))
		src = "[src]"
	}
	poster := span.StartS <= plan.PosterAt && (plan.PosterAt < span.EndS || span.Last)
	outs := len(rungs) + 1
	if poster {
		outs++
	}
	fmt.Fprintf(&graph, "%ssplit=%d", src, outs)
	for i := range rungs {
		fmt.Fprintf(&graph, "[s%d]", i)
	}
	graph.WriteString("[st]")
	if poster {
		graph.WriteString("[sp]")
	}
	for i, r := range rungs {
		fmt.Fprintf(&graph, ";[s%d]scale=%d:%d,setsar=1,format=yuv420p[v%d]", i, r.Width, r.Height, i)
	}
	if poster {
		fmt.Fprintf(&graph, ";[sp]setpts=PTS-STARTPTS,trim=start=%.3f,scale=%d:%d,setsar=1[poster]", plan.PosterAt-span.StartS, rungs[0].Width, rungs[0].Height)
	}
	th := plan.Thumbnails
	// A frame every interval from the video's start, the one showing that moment (repeated
	// where the video has none, so that tile n is always the time from n*interval), and the
	// last even when the video ends inside its interval; a span makes the tiles whose
	// moments it holds.
	fmt.Fprintf(&graph, ";[st]fps=1/%d:start_time=%d:round=down:eof_action=pass,scale=%d:%d,setsar=1[thumbs]",
		th.IntervalS, (firstTile(span.StartS, th.IntervalS)-1)*th.IntervalS, th.Width, th.Height)
	args = append(args, "-filter_complex", graph.String())

	var variants []string
	for i, r := range rungs {
		rate := maxrateKbps(r.Label)
		args = append(args, "-map", fmt.Sprintf("[v%d]", i),
			fmt.Sprintf("-maxrate:v:%d", i), fmt.Sprintf("%dk", rate), fmt.Sprintf("-bufsize:v:%d", i), fmt.Sprintf("%dk", 2*rate))
		variants = append(variants, fmt.Sprintf("v:%d,name:%s", i, Variant(r)))
	}
	if audio {
		args = append(args, "-map", audioIn)
		variants = append(variants, "a:0,name:"+AudioVariant)
	}
	args = append(args,
		"-c:v", "libx264", "-preset", o.Preset, "-profile:v", "high", "-crf", "23",
		// Every frame of the original once, at its time: a phone's variable frame rate stays.
		"-fps_mode", "passthrough",
		// Key frames on segment boundaries and only there (no scene-cut or interval key
		// frames), so that every segment starts decodable, the rungs' segments align, and a
		// span makes the segments a single pass makes (ffmpeg's t counts from the span's start).
		"-force_key_frames", fmt.Sprintf("expr:gte(t,n_forced*%d)", o.SegmentSeconds),
		"-sc_threshold", "0", "-g", "100000",
		"-c:a", "aac", "-b:a", "128k", "-ac", "2",
		// Phones record locations; derivatives are public.
		"-map_metadata", "-1", "-map_chapters", "-1",
		// Not moved to keep the first decode time positive, which only the first span needs.
		"-avoid_negative_ts", "disabled",
		// A segment at every key frame: they are a segment apart, more than hls_time.
		"-f", "hls", "-hls_time", seconds(float64(o.SegmentSeconds)/2), "-hls_playlist_type", "vod",
		"-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", initName,
		// Each fragment's decode time is its packets', not counted from the span's start.
		"-hls_segment_options", "movflags=+frag_discont",
		"-start_number", strconv.Itoa(firstSegment(span.StartS, o.SegmentSeconds)),
		"-hls_segment_filename", StreamDir+"/%v/"+segmentPattern,
		"-var_stream_map", strings.Join(variants, " "),
		StreamDir+"/%v/"+ffmpegPlaylist,
	)
	if poster {
		args = append(args, "-map", "[poster]", "-frames:v", "1", "-q:v", "3", "-update", "1", PosterName)
	}
	args = append(args, "-map", "[thumbs]", "-q:v", "4", "-f", "image2",
		"-start_number", strconv.Itoa(firstTile(span.StartS, th.IntervalS)), thumbnailTiles+"/"+tilePattern)
	return args
}

// seconds formats a time for ffmpeg, exactly enough for any frame rate.
func seconds(s float64) string { return strconv.FormatFloat(s, 'f', 6, 64) }

// firstTile is the number of the first tile at or after startS; tiles count from 1, as
// ffmpeg's do, tile n showing the moment (n-1)*interval.
func firstTile(startS float64, intervalS int) int {
	return int(math.Ceil(startS/float64(intervalS)-1e-9)) + 1
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
	// How long each span's encode and the assembly took (EncodeChunked only).
	SpanTimes    []time.Duration
	AssembleTime time.Duration
}

// PlanFile probes input and plans its encoding.
func (o Options) PlanFile(ctx context.Context, input string) (Plan, error) {
	probe, err := ProbeFile(ctx, o.FFprobe, input)
	if err != nil {
		return Plan{}, err
	}
	return o.Plan(probe)
}

// Encode probes input, checks it against the limits and writes the whole ladder into
// outDir: one ffmpeg run (the single pass), then the playlists and the MP4s. When ctx ends
// first, ffmpeg is killed and the error is a TransientError wrapping ErrDeadline.
func (o Options) Encode(ctx context.Context, input, outDir string) (Output, error) {
	plan, err := o.PlanFile(ctx, input)
	if err != nil {
		return Output{}, err
	}
	part, err := o.EncodeSpan(ctx, input, outDir, plan, plan.Whole(), true)
	if err != nil {
		return Output{}, err
	}
	return o.Assemble(ctx, outDir, plan, []Part{part})
}

// EncodeSpan encodes span of the plan into dir (see SpanArgs); audio asks for the whole
// audio as well.
func (o Options) EncodeSpan(ctx context.Context, input, dir string, plan Plan, span Span, audio bool) (Part, error) {
	o = o.withDefaults()
	// ffmpeg runs in dir: a relative input would be looked for there.
	input, err := filepath.Abs(input)
	if err != nil {
		return Part{}, err
	}
	if err := os.MkdirAll(filepath.Join(dir, thumbnailTiles), 0o750); err != nil {
		return Part{}, transient(err)
	}
	if err := runFFmpeg(ctx, o.FFmpeg, dir, input, o.SpanArgs(input, plan, span, audio)); err != nil {
		return Part{}, err
	}
	part := Part{Probe: plan.Probe, Span: span}
	variants := plan.Variants()
	if !audio || !plan.Probe.HasAudio {
		variants = variants[:len(plan.Rungs)]
	}
	for _, v := range variants {
		t, err := readTrack(dir, v)
		if err != nil {
			return Part{}, err
		}
		part.Tracks = append(part.Tracks, t)
	}
	if _, err := os.Stat(filepath.Join(dir, PosterName)); err == nil {
		part.Poster = true
	}
	// Tiles of this span only: the filter's last one may belong to the next.
	first, n := firstTile(span.StartS, plan.Thumbnails.IntervalS), math.MaxInt
	if !span.Last {
		n = firstTile(span.EndS, plan.Thumbnails.IntervalS) - first
	}
	entries, err := os.ReadDir(filepath.Join(dir, thumbnailTiles))
	if err != nil {
		return Part{}, transient(err)
	}
	for _, e := range entries {
		var tile int
		if _, err := fmt.Sscanf(e.Name(), tilePattern, &tile); err != nil {
			continue
		}
		if tile-first < n {
			part.Tiles = append(part.Tiles, tile)
		} else if err := os.Remove(filepath.Join(dir, thumbnailTiles, e.Name())); err != nil {
			return Part{}, transient(err)
		}
	}
	slices.Sort(part.Tiles)
	return part, nil
}

// runFFmpeg runs ffmpeg with args in dir; its failure is classified (see classifyFFmpeg),
// its message without the path of input. ffmpeg runs in a process group of its own: a stop
// signal for the program (a worker told to shut down) does not reach it, and the program
// decides when it ends (ctx).
func runFFmpeg(ctx context.Context, ffmpeg, dir, input string, args []string) error {
	cmd := exec.CommandContext(ctx, ffmpeg, args...) //nolint:gosec // ffmpeg and ffprobe with the arguments the transcoder builds, never through a shell
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return classifyFFmpeg(ctx, err, toolMessage(stderr.String(), input, "no output"))
	}
	return nil
}

// ffmpegInterrupted is ffmpeg's exit status after a signal asked it to stop.
const ffmpegInterrupted = 255

func classifyFFmpeg(ctx context.Context, err error, msg string) error {
	if ctx.Err() != nil {
		return transient(fmt.Errorf("ffmpeg killed: %w (%v)", ErrDeadline, context.Cause(ctx)))
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return fmt.Errorf("run ffmpeg: %w", err)
	}
	if strings.Contains(msg, "No space left on device") {
		return transient(fmt.Errorf("ffmpeg: %w: %s: %s", ErrNoSpace, exitErr, msg))
	}
	if !exitErr.Exited() || exitErr.ExitCode() == ffmpegInterrupted || strings.Contains(msg, "Cannot allocate memory") {
		// Killed (out of memory) or stopped: the machine's fault, maybe not the next one's.
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
