package transcode

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Thumbnails for scrubbing: ffmpeg writes one small frame every IntervalS seconds, which are
// laid out here on sprite sheets of SheetColumns x SheetRows tiles, and a WebVTT track names
// each tile's time range and place on its sheet (the "#xywh=" media fragment that players
// such as Video.js, JW Player and Vidstack read for preview thumbnails).
const (
	ThumbnailWidth  = 160 // pixels; the height keeps the video's aspect
	SheetColumns    = 10
	SheetRows       = 10
	ThumbnailsTrack = "thumbnails/thumbnails.vtt"
	thumbnailTiles  = "thumbnails/tiles" // ffmpeg's frames, removed once laid out
)

// ThumbnailPlan is the tiles' spacing and size.
type ThumbnailPlan struct {
	IntervalS     int
	Width, Height int
}

// Thumbnails is what was written for scrubbing, relative to the output directory.
type Thumbnails struct {
	ThumbnailPlan
	Track   string   // the WebVTT track
	Sprites []string // the sprite sheets, in time order
}

// thumbnailPlan is a tile every interval seconds, ThumbnailWidth wide, of a video displayed
// at width x height.
func thumbnailPlan(interval, width, height int) ThumbnailPlan {
	return ThumbnailPlan{IntervalS: interval, Width: ThumbnailWidth, Height: even(float64(ThumbnailWidth) * float64(height) / float64(width))}
}

// layOutThumbnails puts ffmpeg's tiles onto sprite sheets, writes the WebVTT track for a
// video of duration seconds and removes the tiles.
func layOutThumbnails(dir string, plan ThumbnailPlan, duration float64) (Thumbnails, error) {
	tilesDir := filepath.Join(dir, thumbnailTiles)
	defer os.RemoveAll(tilesDir)
	entries, err := os.ReadDir(tilesDir)
	if err != nil {
		return Thumbnails{}, fmt.Errorf("ffmpeg left no thumbnails: %w", err)
	}
	var tiles []string
	for _, e := range entries {
		tiles = append(tiles, filepath.Join(tilesDir, e.Name()))
	}
	slices.Sort(tiles) // tile_00001.jpg, tile_00002.jpg, ...: time order
	// A tile per interval the video reaches into, never one past its end.
	if n := max(1, int(math.Ceil(duration/float64(plan.IntervalS)))); len(tiles) > n {
		tiles = tiles[:n]
	}
	if len(tiles) == 0 {
		return Thumbnails{}, fmt.Errorf("ffmpeg wrote no thumbnail")
	}
	out := Thumbnails{ThumbnailPlan: plan, Track: ThumbnailsTrack}
	var track strings.Builder
	track.WriteString("WEBVTT\n")
	perSheet := SheetColumns * SheetRows
	for first := 0; first < len(tiles); first += perSheet {
		sheetTiles := tiles[first:min(first+perSheet, len(tiles))]
		name := fmt.Sprintf("thumbnails/sprite_%d.jpg", len(out.Sprites)+1)
		if err := writeSheet(filepath.Join(dir, name), sheetTiles, plan); err != nil {
			return Thumbnails{}, err
		}
		out.Sprites = append(out.Sprites, name)
		for i := range sheetTiles {
			n := first + i
			start, end := float64(n*plan.IntervalS), min(float64((n+1)*plan.IntervalS), duration)
			if n == len(tiles)-1 {
				end = duration
			}
			fmt.Fprintf(&track, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n", vttTime(start), vttTime(max(end, start+0.001)),
				filepath.Base(name), (i%SheetColumns)*plan.Width, (i/SheetColumns)*plan.Height, plan.Width, plan.Height)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ThumbnailsTrack), []byte(track.String()), 0o600); err != nil {
		return Thumbnails{}, fmt.Errorf("write the thumbnails track: %w", err)
	}
	return out, nil
}

// writeSheet lays tiles out row by row on one JPEG sheet, as wide as a full row and as tall
// as the rows it needs.
func writeSheet(path string, tiles []string, plan ThumbnailPlan) error {
	rows := (len(tiles) + SheetColumns - 1) / SheetColumns
	cols := min(len(tiles), SheetColumns)
	sheet := image.NewRGBA(image.Rect(0, 0, cols*plan.Width, rows*plan.Height))
	for i, tile := range tiles {
		data, err := os.ReadFile(tile) //nolint:gosec // a file of the job's own work directory
		if err != nil {
			return fmt.Errorf("read thumbnail: %w", err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("decode thumbnail %s: %w", filepath.Base(tile), err)
		}
		at := image.Pt((i%SheetColumns)*plan.Width, (i/SheetColumns)*plan.Height)
		draw.Draw(sheet, image.Rectangle{Min: at, Max: at.Add(image.Pt(plan.Width, plan.Height))}, img, img.Bounds().Min, draw.Src)
	}
	f, err := os.Create(path) //nolint:gosec // a file of the job's own work directory
	if err != nil {
		return fmt.Errorf("write sprite sheet: %w", err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, sheet, &jpeg.Options{Quality: 75}); err != nil {
		return fmt.Errorf("encode sprite sheet: %w", err)
	}
	return f.Close()
}

// vttTime is a WebVTT timestamp, hh:mm:ss.ttt.
func vttTime(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second)).Round(time.Millisecond)
	return fmt.Sprintf("%02d:%02d:%02d.%03d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60, d.Milliseconds()%1000)
}
