package transcode

// BenchmarkChunkedVsSinglePass measures the chunked transcode against the single pass on
// generated 1080p sources with audio, on this machine: wall time of the single pass and of the chunks at
// concurrency 1 and 2, the CPU-seconds of each (the price of chunking), the critical path
// (the slowest chunk plus the assembly: the time to ready when every chunk has an invocation
// of its own, as on AWS) and the quality of chunked against single pass (PSNR against the
// source). It prints a table and writes build/bench/transcode.json; BENCH_SOURCES (seconds,
// default 30,120,600) and BENCH_CHUNK_SECONDS (20) choose the sizes. make bench runs it:
//
//	go test ./lambda-src/internal/transcode -run '^$' -bench ChunkedVsSinglePass -benchtime 1x -timeout 0

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"
)

// benchResult is one source's figures; the keys are read by other tools.
type benchResult struct {
	SourceS       int     `json:"source_s"`
	Chunks        int     `json:"chunks"`
	SingleS       float64 `json:"single_s"`
	ChunkedC1S    float64 `json:"chunked_c1_s"`
	ChunkedC2S    float64 `json:"chunked_c2_s"`
	SingleCPUS    float64 `json:"single_cpu_s"`
	ChunkedCPUS   float64 `json:"chunked_cpu_s"`
	CPURatio      float64 `json:"cpu_ratio"`
	CriticalPathS float64 `json:"critical_path_s"`
	SlowestChunkS float64 `json:"slowest_chunk_s"`
	AssembleS     float64 `json:"assemble_s"`
	SinglePSNR    float64 `json:"single_psnr_db"`
	ChunkedPSNR   float64 `json:"chunked_psnr_db"`
	PSNRDeltaDB   float64 `json:"psnr_delta_db"`
}

func BenchmarkChunkedVsSinglePass(b *testing.B) {
	sources := cmp.Or(os.Getenv("BENCH_SOURCES"), "30,120,600")
	chunkS, err := strconv.Atoi(cmp.Or(os.Getenv("BENCH_CHUNK_SECONDS"), "20"))
	if err != nil || chunkS <= 0 {
		b.Fatalf("BENCH_CHUNK_SECONDS=%q: want a number of seconds", os.Getenv("BENCH_CHUNK_SECONDS"))
	}
	// go test runs a package's tests in its folder: the repository's build/ is three up.
	outDir := filepath.Join("..", "..", "..", "build", "bench")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var results []benchResult
	for field := range strings.SplitSeq(sources, ",") {
		seconds, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || seconds <= 0 {
			b.Fatalf("BENCH_SOURCES: %q is not a number of seconds", field)
		}
		b.Run(fmt.Sprintf("%ds", seconds), func(b *testing.B) {
			src, err := source(ctx, tools.FFmpeg, outDir, seconds)
			if err != nil {
				b.Fatal(err)
			}
			var r benchResult
			for b.Loop() {
				if r, err = measure(ctx, tools, src, seconds, chunkS); err != nil {
					b.Fatalf("%d s source: %v", seconds, err)
				}
			}
			b.ReportMetric(r.SingleS, "single-s")
			b.ReportMetric(r.ChunkedC1S, "chunked-c1-s")
			b.ReportMetric(r.ChunkedC2S, "chunked-c2-s")
			b.ReportMetric(r.CPURatio, "cpu-ratio")
			b.ReportMetric(r.CriticalPathS, "critical-path-s")
			b.ReportMetric(r.PSNRDeltaDB, "psnr-delta-dB")
			results = append(results, r)
		})
	}
	printTable(results)
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(outDir, "transcode.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
	fmt.Println("wrote", path)
}

// source generates (once) a 1080p30 source of the given length with a stereo tone.
func source(ctx context.Context, ffmpeg, dir string, seconds int) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("source-%ds-1080p.mp4", seconds))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	fmt.Printf("generating a %d s 1080p source...\n", seconds)
	tmp := path + ".partial.mp4"
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("generate the source: %w: %s", err, out)
	}
	return path, os.Rename(tmp, path)
}

func measure(ctx context.Context, opts Options, src string, seconds, chunkS int) (benchResult, error) {
	r := benchResult{SourceS: seconds}
	work, err := os.MkdirTemp("", "bench-transcode-*")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(work)
	dir := func(name string) string { return filepath.Join(work, name) }

	fmt.Printf("%d s: single pass...\n", seconds)
	wall, cpu, err := timed(func() error { _, err := opts.Encode(ctx, src, mkdir(dir("single"))); return err })
	if err != nil {
		return r, err
	}
	r.SingleS, r.SingleCPUS = wall, cpu

	fmt.Printf("%d s: chunked, one at a time...\n", seconds)
	var c1 Output
	wall, cpu, err = timed(func() error { c1, err = opts.EncodeChunked(ctx, src, mkdir(dir("c1")), chunkS, 1); return err })
	if err != nil {
		return r, err
	}
	r.ChunkedC1S, r.ChunkedCPUS, r.Chunks = wall, cpu, len(c1.SpanTimes)
	r.SlowestChunkS = slices.Max(c1.SpanTimes).Seconds()
	r.AssembleS = c1.AssembleTime.Seconds()
	r.CriticalPathS = r.SlowestChunkS + r.AssembleS
	r.CPURatio = r.ChunkedCPUS / r.SingleCPUS

	fmt.Printf("%d s: chunked, two at a time...\n", seconds)
	wall, _, err = timed(func() error { _, err := opts.EncodeChunked(ctx, src, mkdir(dir("c2")), chunkS, 2); return err })
	if err != nil {
		return r, err
	}
	r.ChunkedC2S = wall
	os.RemoveAll(dir("c2"))

	top := c1.Renditions[0]
	if r.SinglePSNR, err = PSNR(ctx, opts.FFmpeg, filepath.Join(dir("single"), top.Name), src, top.Width, top.Height); err != nil {
		return r, err
	}
	if r.ChunkedPSNR, err = PSNR(ctx, opts.FFmpeg, filepath.Join(dir("c1"), top.Name), src, top.Width, top.Height); err != nil {
		return r, err
	}
	r.PSNRDeltaDB = r.ChunkedPSNR - r.SinglePSNR
	return r, nil
}

func mkdir(path string) string {
	if err := os.MkdirAll(path, 0o755); err != nil {
		panic(err)
	}
	return path
}

// timed runs f and returns its wall time and the CPU time of the processes it ran (ffmpeg
// runs as child processes; this process's own share is negligible).
func timed(f func() error) (wall, cpu float64, err error) {
	before := childCPU()
	started := time.Now()
	err = f()
	return time.Since(started).Seconds(), childCPU() - before, err
}

func childCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func printTable(results []benchResult) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "source s\tchunks\tsingle s\tchunked c1 s\tchunked c2 s\tcpu ratio\tcritical path s\tPSNR single dB\tPSNR chunked dB\tdelta dB\t")
	for _, r := range results {
		fmt.Fprintf(w, "%d\t%d\t%.1f\t%.1f\t%.1f\t%.3f\t%.1f\t%.2f\t%.2f\t%+.2f\t\n", r.SourceS, r.Chunks, r.SingleS, r.ChunkedC1S, r.ChunkedC2S,
			r.CPURatio, r.CriticalPathS, r.SinglePSNR, r.ChunkedPSNR, r.PSNRDeltaDB)
	}
	w.Flush()
}
