// Package streams checks a media's HLS and DASH playlists as players read them: parsed by
// players' libraries, every init segment and segment they name fetched and probed.
package streams

import (
	"bytes"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/Eyevinn/dash-mpd/mpd"
	"github.com/Eyevinn/hls-m3u8/m3u8"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Check parses a media's HLS master playlist and DASH manifest, fetches (with get) every
// init segment and segment they name and probes each one after its init segment with
// ffprobe; both must name the same segments. URLs are resolved against the playlists', so
// get may serve file: URLs as well as a CDN's.
func Check(t testing.TB, get func(url string) []byte, ffprobe, hlsURL, dashURL string) {
	t.Helper()
	resolve := func(base, ref string) string {
		b, err := neturl.Parse(base)
		require.NoError(t, err)
		r, err := b.Parse(ref)
		require.NoError(t, err)
		return r.String()
	}
	probeSegment := func(init, seg []byte, name string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "segment.mp4")
		require.NoError(t, os.WriteFile(path, append(append([]byte{}, init...), seg...), 0o644))
		out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path).CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
		require.NotEmpty(t, bytes.TrimSpace(out), "%s has packets", name)
	}

	pl, kind, err := m3u8.Decode(*bytes.NewBuffer(get(hlsURL)), true)
	require.NoError(t, err)
	require.Equal(t, m3u8.MASTER, kind)
	playlists := map[string]string{} // variant -> media playlist URL
	for _, v := range pl.(*m3u8.MasterPlaylist).Variants {
		playlists[strings.TrimSuffix(v.URI, "/index.m3u8")] = resolve(hlsURL, v.URI)
		for _, a := range v.Alternatives {
			playlists[strings.TrimSuffix(a.URI, "/index.m3u8")] = resolve(hlsURL, a.URI)
		}
	}
	hlsSegments := map[string][]string{}
	for variant, u := range playlists {
		pl, kind, err := m3u8.Decode(*bytes.NewBuffer(get(u)), true)
		require.NoError(t, err)
		require.Equal(t, m3u8.MEDIA, kind)
		media := pl.(*m3u8.MediaPlaylist)
		require.NotNil(t, media.Map, "%s: CMAF needs EXT-X-MAP", variant)
		init := get(resolve(u, media.Map.URI))
		for _, seg := range media.GetAllSegments() {
			segURL := resolve(u, seg.URI)
			hlsSegments[variant] = append(hlsSegments[variant], segURL)
			probeSegment(init, get(segURL), variant+"/"+seg.URI)
		}
	}
	require.NotEmpty(t, hlsSegments)

	manifest, err := mpd.MPDFromBytes(get(dashURL))
	require.NoError(t, err)
	require.Len(t, manifest.Periods, 1)
	dashVariants := 0
	for _, as := range manifest.Periods[0].AdaptationSets {
		for _, rep := range as.Representations {
			dashVariants++
			st := rep.SegmentTemplate
			require.NotNil(t, st, rep.Id)
			expand := func(tmpl string, n int) string {
				return resolve(dashURL, strings.NewReplacer("$RepresentationID$", rep.Id, "$Number$", strconv.Itoa(n)).Replace(tmpl))
			}
			init := get(expand(st.Initialization, 0))
			var names []string
			n := int(*st.StartNumber)
			for _, seg := range st.SegmentTimeline.S {
				for range seg.R + 1 {
					names = append(names, expand(st.Media, n))
					n++
				}
			}
			assert.Equal(t, hlsSegments[rep.Id], names, "%s: DASH names the HLS segments", rep.Id)
			for _, u := range names {
				probeSegment(init, get(u), u)
			}
		}
	}
	assert.Equal(t, len(playlists), dashVariants, "a representation per HLS variant, the audio's included")
}
