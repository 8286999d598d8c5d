package transcode

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

var psnrAverage = regexp.MustCompile(`PSNR .* average:([0-9.]+|inf)`)

// PSNR is the average peak signal-to-noise ratio, in dB, of the video of path against that
// of reference scaled to the same size (ffmpeg's psnr filter): how benchmarks and tests
// compare the quality of two encodes of the same original.
func PSNR(ctx context.Context, ffmpeg, path, reference string, width, height int) (float64, error) {
	graph := fmt.Sprintf("[1:v]scale=%d:%d,setsar=1,format=yuv420p[ref];[0:v]format=yuv420p[enc];[enc][ref]psnr", width, height)
	out, err := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-i", "file:"+path, "-i", "file:"+reference, //nolint:gosec // ffmpeg and ffprobe with the arguments the transcoder builds, never through a shell
		"-lavfi", graph, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("psnr of %s: %w: %s", path, err, toolMessage(string(out), path, ""))
	}
	m := psnrAverage.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("psnr of %s: ffmpeg printed no average", path)
	}
	if string(m[1]) == "inf" {
		return 100, nil // identical pictures
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
