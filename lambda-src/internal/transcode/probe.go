package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Probe is what ffprobe tells about an original. Width and Height are those of the picture
// as displayed: sample aspect ratio and rotation applied.
type Probe struct {
	DurationS   float64
	Width       int
	Height      int
	CodedWidth  int
	CodedHeight int
	Rotation    int // degrees, as the display matrix says
	HasAudio    bool
	VideoCodec  string
	// ConstantFrameRate: every frame lasts as long (the base rate is the average), as
	// cameras record; phones often record a variable rate.
	ConstantFrameRate bool
}

type ffprobeOutput struct {
	Streams []struct {
		CodecType         string            `json:"codec_type"`
		CodecName         string            `json:"codec_name"`
		Width             int               `json:"width"`
		Height            int               `json:"height"`
		SampleAspectRatio string            `json:"sample_aspect_ratio"`
		RFrameRate        string            `json:"r_frame_rate"`
		AvgFrameRate      string            `json:"avg_frame_rate"`
		Duration          string            `json:"duration"`
		Tags              map[string]string `json:"tags"`
		Disposition       struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
		SideDataList []struct {
			Rotation *float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// ProbeFile runs ffprobe on path. An input ffprobe cannot read, or without a video stream,
// is a PermanentError.
func ProbeFile(ctx context.Context, ffprobe, path string) (Probe, error) {
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path) //nolint:gosec // ffmpeg and ffprobe with the arguments the transcoder builds, never through a shell
	var stderr tailBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil { // the deadline can come during the probe as well as during ffmpeg
		return Probe{}, transient(fmt.Errorf("ffprobe killed: %w (%v)", ErrDeadline, context.Cause(ctx)))
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return Probe{}, permanentf("not a decodable video: %s", toolMessage(stderr.String(), path, "ffprobe failed"))
	}
	if err != nil {
		return Probe{}, fmt.Errorf("run ffprobe: %w", err)
	}
	var po ffprobeOutput
	if err := json.Unmarshal(out, &po); err != nil {
		return Probe{}, fmt.Errorf("parse ffprobe output: %w", err)
	}
	var p Probe
	found := false
	for _, s := range po.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && !found && s.Width > 0:
			found = true
			p.VideoCodec, p.CodedWidth, p.CodedHeight = s.CodecName, s.Width, s.Height
			base, avg := rational(s.RFrameRate), rational(s.AvgFrameRate)
			p.ConstantFrameRate = base > 0 && math.Abs(avg-base) <= base/1000
			for _, sd := range s.SideDataList {
				if sd.Rotation != nil {
					p.Rotation = int(math.Round(*sd.Rotation))
				}
			}
			if r, ok := s.Tags["rotate"]; ok && p.Rotation == 0 { // older ffmpeg
				p.Rotation, _ = strconv.Atoi(r)
			}
			w := float64(s.Width) * sampleAspect(s.SampleAspectRatio)
			h := float64(s.Height)
			if ((p.Rotation%180)+180)%180 == 90 {
				w, h = h, w
			}
			p.Width, p.Height = int(math.Round(w)), int(math.Round(h))
			if d, err := strconv.ParseFloat(s.Duration, 64); err == nil {
				p.DurationS = d
			}
		case s.CodecType == "audio":
			p.HasAudio = true
		}
	}
	if !found {
		return Probe{}, permanentf("not a video: no video stream")
	}
	if d, err := strconv.ParseFloat(po.Format.Duration, 64); err == nil && d > p.DurationS {
		p.DurationS = d
	}
	if p.DurationS <= 0 {
		return Probe{}, permanentf("not a video: no duration (a still image?)")
	}
	return p, nil
}

// rational parses ffprobe's "N/D"; 0 when unusable.
func rational(r string) float64 {
	n, d, ok := strings.Cut(r, "/")
	num, err1 := strconv.ParseFloat(n, 64)
	den, err2 := strconv.ParseFloat(d, 64)
	if !ok || err1 != nil || err2 != nil || den <= 0 {
		return 0
	}
	return num / den
}

// sampleAspect parses "N:D"; anything unusable counts as square pixels.
func sampleAspect(sar string) float64 {
	n, d, ok := strings.Cut(sar, ":")
	if !ok {
		return 1
	}
	num, err1 := strconv.Atoi(n)
	den, err2 := strconv.Atoi(d)
	if err1 != nil || err2 != nil || num <= 0 || den <= 0 {
		return 1
	}
	return float64(num) / float64(den)
}

// Limits bound what the transcoder accepts; zero means no limit.
type Limits struct {
	MaxDurationS float64
	MaxDimension int   // of the longer side, in displayed pixels
	MaxBytes     int64 // of the original
}

// Check returns a PermanentError naming the first limit p exceeds.
func (l Limits) Check(p Probe) error {
	if l.MaxDurationS > 0 && p.DurationS > l.MaxDurationS {
		return permanentf("video too long: %.0f s, the limit is %.0f s", p.DurationS, l.MaxDurationS)
	}
	if long := max(p.Width, p.Height); l.MaxDimension > 0 && long > l.MaxDimension {
		return permanentf("resolution too high: %dx%d, the limit is %d pixels on the longer side", p.Width, p.Height, l.MaxDimension)
	}
	return nil
}

// CheckSize returns a PermanentError when an original of size bytes exceeds the limit.
func (l Limits) CheckSize(size int64) error {
	if l.MaxBytes > 0 && size > l.MaxBytes {
		return permanentf("file too large: %d bytes, the limit is %d bytes", size, l.MaxBytes)
	}
	return nil
}

// tailBuffer keeps the last 8 KiB written to it: enough to explain a failure, bounded
// however much a tool prints.
type tailBuffer struct{ b []byte }

const tailSize = 8 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// logContext is the "[mov,mp4 @ 0x55e4...] " that ffmpeg's libraries put before messages.
var logContext = regexp.MustCompile(`^\[[^\]]* @ 0x[0-9a-f]+\] `)

// toolMessage condenses what ffmpeg or ffprobe printed into one line for the media's owner:
// without log context or the temp path of the input, which mean nothing to them.
func toolMessage(stderr, input, def string) string {
	var msgs []string
	for line := range strings.SplitSeq(stderr, "\n") {
		line = strings.TrimSpace(logContext.ReplaceAllString(strings.TrimSpace(line), ""))
		line = strings.ReplaceAll(line, "file:"+input, "original")
		line = strings.TrimPrefix(strings.ReplaceAll(line, input, "original"), "original: ")
		if line != "" && !slices.Contains(msgs, line) {
			msgs = append(msgs, line)
		}
	}
	if len(msgs) == 0 {
		return def
	}
	if len(msgs) > 3 { // the last lines say why it stopped
		msgs = msgs[len(msgs)-3:]
	}
	return strings.Join(msgs, "; ")
}
