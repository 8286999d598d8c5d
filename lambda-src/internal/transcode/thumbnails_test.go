package transcode

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A long video's tiles fill full sheets first; the track names each tile's place and time.
func TestThumbnailsAreLaidOutOnSheets(t *testing.T) {
	dir := t.TempDir()
	plan := thumbnailPlan(5, 1280, 720)
	require.Equal(t, ThumbnailPlan{IntervalS: 5, Width: 160, Height: 90}, plan)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, thumbnailTiles), 0o755))
	for i := 1; i <= 106; i++ { // one more than 524 s need: the last is dropped
		var b bytes.Buffer
		require.NoError(t, jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, plan.Width, plan.Height)), nil))
		require.NoError(t, os.WriteFile(filepath.Join(dir, thumbnailTiles, fmt.Sprintf("tile_%05d.jpg", i)), b.Bytes(), 0o644))
	}
	th, err := layOutThumbnails(dir, plan, 524)
	require.NoError(t, err)
	assert.Equal(t, []string{"thumbnails/sprite_1.jpg", "thumbnails/sprite_2.jpg"}, th.Sprites)
	for i, want := range [][2]int{{1600, 900}, {800, 90}} {
		f, err := os.Open(filepath.Join(dir, th.Sprites[i]))
		require.NoError(t, err)
		cfg, err := jpeg.DecodeConfig(f)
		f.Close()
		require.NoError(t, err)
		assert.Equal(t, want, [2]int{cfg.Width, cfg.Height}, th.Sprites[i])
	}
	track, err := os.ReadFile(filepath.Join(dir, ThumbnailsTrack))
	require.NoError(t, err)
	assert.Equal(t, 105, strings.Count(string(track), " --> "))
	assert.Contains(t, string(track), "\n00:00:00.000 --> 00:00:05.000\nsprite_1.jpg#xywh=0,0,160,90\n")
	assert.Contains(t, string(track), "\n00:00:55.000 --> 00:01:00.000\nsprite_1.jpg#xywh=160,90,160,90\n")
	assert.Contains(t, string(track), "\n00:08:40.000 --> 00:08:44.000\nsprite_2.jpg#xywh=640,0,160,90\n", "the last ends with the video")
	_, err = os.Stat(filepath.Join(dir, thumbnailTiles))
	assert.True(t, os.IsNotExist(err), "ffmpeg's tiles are removed")
}

func TestVTTTimes(t *testing.T) {
	assert.Equal(t, "00:00:00.000", vttTime(0))
	assert.Equal(t, "00:01:05.250", vttTime(65.25))
	assert.Equal(t, "02:03:04.005", vttTime(2*3600+3*60+4.005))
}
