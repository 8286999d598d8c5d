package transcode

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The streams are CMAF: one track per file (each rung's video, and the audio once), as
// fragmented-MP4 segments that the HLS playlists (EXT-X-MAP) and the DASH manifest share.
// Every segment starts with a key frame at a multiple of the segment length, so a range of
// the video encoded on its own (a chunk) makes exactly the segments a single pass makes.
const (
	StreamDir      = "stream"
	MasterPlaylist = StreamDir + "/master.m3u8"
	DASHManifest   = StreamDir + "/manifest.mpd"
	PosterName     = "poster.jpg"
	AudioVariant   = "audio"
	initName       = "init.mp4"
	segmentPattern = "seg_%d.m4s"
	// ffmpeg's own playlist of a variant: read for the segments' durations, then replaced.
	ffmpegPlaylist = "ffmpeg.m3u8"
)

// Variant names a rung's stream: "720p".
func Variant(r Rung) string { return strconv.Itoa(r.Label) + "p" }

// RenditionName is the MP4 of a rung.
func RenditionName(r Rung) string { return Variant(r) + ".mp4" }

// PlaylistName is the HLS media playlist of a variant.
func PlaylistName(variant string) string { return StreamDir + "/" + variant + "/index.m3u8" }

func initPath(variant string) string { return StreamDir + "/" + variant + "/" + initName }

// SegmentName is the n-th segment of a variant, relative to the output directory.
func SegmentName(variant string, n int) string {
	return StreamDir + "/" + variant + "/" + fmt.Sprintf(segmentPattern, n)
}

// Span is a time range of the video, [StartS, EndS), both on segment boundaries (EndS is the
// video's duration for the last one). The whole video is one span.
type Span struct {
	Index  int     `json:"index"`
	StartS float64 `json:"start_s"`
	EndS   float64 `json:"end_s"`
	Last   bool    `json:"last"`
}

// Segment is one written segment.
type Segment struct {
	N         int     `json:"n"`
	DurationS float64 `json:"duration_s"`
	Bytes     int64   `json:"bytes"`
}

// Track is what a span wrote of one variant.
type Track struct {
	Variant  string    `json:"variant"`
	InitHash string    `json:"init_sha256"` // equal across the spans of a variant, or they do not join
	Segments []Segment `json:"segments"`
}

// Part is what encoding a span wrote: its tracks (the audio with the first span, whole), the
// poster when the span holds its moment, and its thumbnail tiles, numbered from the video's
// start.
type Part struct {
	Probe  Probe   `json:"probe"` // of the original, from which assembly plans as the span did
	Span   Span    `json:"span"`
	Tracks []Track `json:"tracks"`
	Poster bool    `json:"poster"`
	Tiles  []int   `json:"tiles"`
}

// Files are the part's files, relative to the output directory.
func (p Part) Files() []string {
	var files []string
	for _, t := range p.Tracks {
		files = append(files, initPath(t.Variant))
		for _, s := range t.Segments {
			files = append(files, SegmentName(t.Variant, s.N))
		}
	}
	if p.Poster {
		files = append(files, PosterName)
	}
	for _, n := range p.Tiles {
		files = append(files, tileName(n))
	}
	return files
}

// tilePattern names ffmpeg's thumbnail tiles in thumbnailTiles, by number.
const tilePattern = "tile_%05d.jpg"

func tileName(n int) string { return thumbnailTiles + "/" + fmt.Sprintf(tilePattern, n) }

// readTrack reads what ffmpeg wrote of a variant in dir: its segments from ffmpeg's playlist
// (then removed) and the hash of its init segment.
func readTrack(dir, variant string) (Track, error) {
	t := Track{Variant: variant}
	// ffmpeg numbers the init segments of several variants (init_0.mp4, init_1.mp4, ...).
	written, err := filepath.Glob(filepath.Join(dir, StreamDir, variant, "init*.mp4"))
	if err == nil && len(written) == 1 {
		err = os.Rename(written[0], filepath.Join(dir, initPath(variant)))
	}
	if err != nil {
		return Track{}, transient(err)
	}
	init, err := os.ReadFile(filepath.Join(dir, initPath(variant))) //nolint:gosec // a file of the job's own work directory
	if err != nil {
		return Track{}, fmt.Errorf("ffmpeg left no init segment of %s: %w", variant, err)
	}
	sum := sha256.Sum256(init)
	t.InitHash = hex.EncodeToString(sum[:])
	playlist := filepath.Join(dir, StreamDir, variant, ffmpegPlaylist)
	data, err := os.ReadFile(playlist) //nolint:gosec // a file of the job's own work directory
	if err != nil {
		return Track{}, fmt.Errorf("ffmpeg left no playlist of %s: %w", variant, err)
	}
	var duration float64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if d, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			d, _, _ = strings.Cut(d, ",")
			if duration, err = strconv.ParseFloat(d, 64); err != nil {
				return Track{}, fmt.Errorf("ffmpeg's playlist of %s: %q: %w", variant, line, err)
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(line, segmentPattern, &n); err != nil {
			return Track{}, fmt.Errorf("ffmpeg's playlist of %s names %q", variant, line)
		}
		fi, err := os.Stat(filepath.Join(dir, SegmentName(variant, n)))
		if err != nil {
			return Track{}, fmt.Errorf("ffmpeg left no %s: %w", SegmentName(variant, n), err)
		}
		t.Segments = append(t.Segments, Segment{N: n, DurationS: duration, Bytes: fi.Size()})
	}
	if len(t.Segments) == 0 {
		return Track{}, fmt.Errorf("ffmpeg wrote no segment of %s", variant)
	}
	return t, os.Remove(playlist)
}

// firstSegment is the number of the segment that starts at startS.
func firstSegment(startS float64, segmentS int) int {
	return int(math.Round(startS / float64(segmentS)))
}
