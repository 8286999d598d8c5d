package transcode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"
)

// Spans splits a plan's video into chunks of about chunkS seconds: chunkS rounded up to a
// multiple of the segment length (a chunk makes whole segments), the last chunk taking the rest (a rest shorter than a segment joins
// the chunk before it). A video no longer than one chunk is one span, and so is a video of
// variable frame rate: a chunk's first frames would be decoded at other times than in a
// single pass (the encoder's reordering delay is a number of frames, whose length varies).
func (p Plan) Spans(chunkS int) []Span {
	step := p.SegmentS
	length := float64(max(step, (chunkS+step-1)/step*step))
	d := p.Probe.DurationS
	if !p.Probe.ConstantFrameRate {
		return []Span{p.Whole()}
	}
	var spans []Span
	for start := 0.0; ; start += length {
		end := start + length
		if d-end < float64(p.SegmentS) {
			return append(spans, Span{Index: len(spans), StartS: start, EndS: d, Last: true})
		}
		spans = append(spans, Span{Index: len(spans), StartS: start, EndS: end})
	}
}

// EncodeChunked encodes input as chunks of about chunkS seconds, at most concurrency at a
// time, each in a directory of its own as separate invocations would, then joins them in
// outDir. It is the chunked path on one machine: for tests and benchmarks.
func (o Options) EncodeChunked(ctx context.Context, input, outDir string, chunkS, concurrency int) (Output, error) {
	o = o.withDefaults()
	plan, err := o.PlanFile(ctx, input)
	if err != nil {
		return Output{}, err
	}
	spans := plan.Spans(chunkS)
	parts := make([]Part, len(spans))
	spanTimes := make([]time.Duration, len(spans))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i, span := range spans {
		g.Go(func() error {
			dir := filepath.Join(outDir, "chunks", fmt.Sprint(i))
			started := time.Now()
			part, err := o.EncodeSpan(gctx, input, dir, plan, span, i == 0)
			if err != nil {
				return err
			}
			parts[i], spanTimes[i] = part, time.Since(started)
			return MoveFiles(dir, outDir, part.Files())
		})
	}
	if err := g.Wait(); err != nil {
		return Output{}, err
	}
	if err := os.RemoveAll(filepath.Join(outDir, "chunks")); err != nil {
		return Output{}, transient(err)
	}
	started := time.Now()
	out, err := o.Assemble(ctx, outDir, plan, parts)
	out.SpanTimes, out.AssembleTime = spanTimes, time.Since(started)
	return out, err
}

// MoveFiles moves files (relative, slash-separated) from one directory to another; a file
// already there is replaced (init segments are the same in every chunk).
func MoveFiles(from, to string, files []string) error {
	for _, name := range files {
		dst := filepath.Join(to, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return transient(err)
		}
		if err := os.Rename(filepath.Join(from, filepath.FromSlash(name)), dst); err != nil {
			return transient(err)
		}
	}
	return nil
}
