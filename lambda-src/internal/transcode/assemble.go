package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Eyevinn/dash-mpd/mpd"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/mp4"
)

// Assemble joins the parts of a plan that were encoded into dir (a single pass is one part,
// a chunked encode one part per span) into what is published: each variant's HLS playlist,
// the master playlist and the DASH manifest over the same segments, a fast-start MP4 per
// rung by stream copy, and the sprite sheets of the thumbnails.
func (o Options) Assemble(ctx context.Context, dir string, plan Plan, parts []Part) (Output, error) {
	o = o.withDefaults()
	tracks, err := joinTracks(plan, parts)
	if err != nil {
		return Output{}, err
	}
	streams := make([]stream, len(tracks))
	for i, t := range tracks {
		if streams[i], err = describe(dir, t); err != nil {
			return Output{}, err
		}
		if err := writeMediaPlaylist(dir, t); err != nil {
			return Output{}, err
		}
	}
	if err := writeMaster(dir, plan, streams); err != nil {
		return Output{}, err
	}
	if err := writeManifest(dir, plan, streams); err != nil {
		return Output{}, err
	}
	out := Output{Dir: dir, Plan: plan}
	if out.Renditions, err = o.remux(ctx, dir, plan, tracks); err != nil {
		return Output{}, err
	}
	// A truncated original can probe well and then end early without ffmpeg failing.
	top, err := ProbeFile(ctx, o.FFprobe, filepath.Join(dir, out.Renditions[0].Name))
	if err != nil {
		return Output{}, fmt.Errorf("probe the rendition: %w", err)
	}
	if top.DurationS < plan.Probe.DurationS*0.9-0.5 {
		return Output{}, permanentf("original is truncated or damaged: only %.1f s of %.1f s could be decoded", top.DurationS, plan.Probe.DurationS)
	}
	// Thumbnails are a nicety: without them the media is published all the same.
	if out.Thumbnails, err = layOutThumbnails(dir, plan.Thumbnails, plan.Probe.DurationS); err != nil {
		out.Warnings = append(out.Warnings, "no scrubbing thumbnails: "+err.Error())
		out.Thumbnails = Thumbnails{}
		if err := os.RemoveAll(filepath.Join(dir, filepath.Dir(ThumbnailsTrack))); err != nil {
			return Output{}, transient(err)
		}
	}
	if out.Files, err = listFiles(dir); err != nil {
		return Output{}, err
	}
	return out, nil
}

// joinTracks lays the parts' segments end to end, one track per variant of the plan, and
// checks that they join: every span present once, segments numbered without gap or repeat,
// and one init segment per variant (spans encoded by another ffmpeg build would not join).
func joinTracks(plan Plan, parts []Part) ([]Track, error) {
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b Part) int { return a.Span.Index - b.Span.Index })
	for i, p := range parts {
		if p.Span.Index != i {
			return nil, fmt.Errorf("chunk %d of the video is missing", i)
		}
	}
	if len(parts) == 0 || !parts[len(parts)-1].Span.Last {
		return nil, errors.New("the video's last chunk is missing")
	}
	var tracks []Track
	for _, v := range plan.Variants() {
		joined := Track{Variant: v}
		for _, p := range parts {
			for _, t := range p.Tracks {
				if t.Variant != v {
					continue
				}
				if joined.InitHash != "" && t.InitHash != joined.InitHash {
					return nil, fmt.Errorf("%w: chunk %d of %s has another init segment than chunk 0", ErrChunksDiffer, p.Span.Index, v)
				}
				joined.InitHash = t.InitHash
				joined.Segments = append(joined.Segments, t.Segments...)
			}
		}
		for i, s := range joined.Segments {
			if s.N != i {
				return nil, fmt.Errorf("%s: segment %d follows segment %d", v, s.N, i-1)
			}
		}
		if len(joined.Segments) == 0 {
			return nil, fmt.Errorf("no segment of %s was written", v)
		}
		tracks = append(tracks, joined)
	}
	return tracks, nil
}

// stream is what the playlists say of a track.
type stream struct {
	Track
	Codecs     string
	Timescale  uint32
	SampleRate int // audio only
	Peak, Avg  int // bits per second
}

// describe reads a track's codec and timescale from its init segment and measures its
// bitrates from its segments.
func describe(dir string, t Track) (stream, error) {
	s := stream{Track: t}
	f, err := os.Open(filepath.Join(dir, initPath(t.Variant))) //nolint:gosec // a file of the job's own work directory
	if err != nil {
		return stream{}, err
	}
	defer f.Close()
	file, err := mp4.DecodeFile(f)
	if err != nil || file.Init == nil || file.Init.Moov == nil || file.Init.Moov.Trak == nil {
		return stream{}, fmt.Errorf("init segment of %s: not an MP4 init segment (%v)", t.Variant, err)
	}
	trak := file.Init.Moov.Trak
	s.Timescale = trak.Mdia.Mdhd.Timescale
	stsd := trak.Mdia.Minf.Stbl.Stsd
	switch {
	case stsd.AvcX != nil && stsd.AvcX.AvcC != nil && len(stsd.AvcX.AvcC.SPSnalus) > 0:
		sps, err := avc.ParseSPSNALUnit(stsd.AvcX.AvcC.SPSnalus[0], false)
		if err != nil {
			return stream{}, fmt.Errorf("init segment of %s: %w", t.Variant, err)
		}
		s.Codecs = avc.CodecString("avc1", sps)
	case stsd.Mp4a != nil:
		s.Codecs, s.SampleRate = "mp4a.40.2", int(stsd.Mp4a.SampleRate) // AAC-LC, as encoded
	default:
		return stream{}, fmt.Errorf("init segment of %s: neither H.264 nor AAC", t.Variant)
	}
	var bytes int64
	var duration float64
	for _, seg := range t.Segments {
		bytes += seg.Bytes
		duration += seg.DurationS
		if seg.DurationS > 0 {
			s.Peak = max(s.Peak, int(math.Ceil(float64(seg.Bytes*8)/seg.DurationS)))
		}
	}
	if duration > 0 {
		s.Avg = int(math.Ceil(float64(bytes*8) / duration))
	}
	return s, nil
}

// writeMediaPlaylist writes the HLS media playlist of a track (RFC 8216: version 7 for
// fragmented MP4 with EXT-X-MAP).
func writeMediaPlaylist(dir string, t Track) error {
	target := 1
	for _, s := range t.Segments {
		target = max(target, int(math.Round(s.DurationS)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=%q\n", target, initName)
	for _, s := range t.Segments {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", s.DurationS, fmt.Sprintf(segmentPattern, s.N))
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return writeOutput(dir, PlaylistName(t.Variant), b.String())
}

// writeMaster writes the HLS master playlist: a variant per rung, best first, each with the
// audio rendition group when there is audio.
func writeMaster(dir string, plan Plan, streams []stream) error {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	var audio *stream
	if plan.Probe.HasAudio {
		audio = &streams[len(streams)-1]
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=%q,NAME=\"default\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=%q\n",
			AudioVariant, AudioVariant+"/index.m3u8")
	}
	for i, r := range plan.Rungs {
		s := streams[i]
		peak, avg, codecs := s.Peak, s.Avg, s.Codecs
		attrs := ""
		if audio != nil {
			peak, avg, codecs = peak+audio.Peak, avg+audio.Avg, codecs+","+audio.Codecs
			attrs = fmt.Sprintf(",AUDIO=%q", AudioVariant)
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,RESOLUTION=%dx%d,CODECS=%q%s\n%s/index.m3u8\n",
			peak, avg, r.Width, r.Height, codecs, attrs, Variant(r))
	}
	return writeOutput(dir, MasterPlaylist, b.String())
}

// writeManifest writes the DASH manifest (ISO/IEC 23009-1, live profile: a segment template
// with a timeline per representation): an adaptation set of the rungs, one of the audio.
func writeManifest(dir string, plan Plan, streams []stream) error {
	m := mpd.NewMPD("static")
	m.Profiles = "urn:mpeg:dash:profile:isoff-live:2011"
	m.MediaPresentationDuration = mpd.Seconds2DurPtrFloat64(plan.Probe.DurationS)
	m.MinBufferTime = mpd.Seconds2DurPtr(2 * plan.SegmentS)
	period := mpd.NewPeriod()
	period.Id, period.Start = "0", mpd.Seconds2DurPtr(0)
	video := mpd.NewAdaptationSetWithParams("video", "video/mp4", true, 1)
	video.Id = mpd.Ptr(uint32(0))
	period.AdaptationSets = append(period.AdaptationSets, video)
	for i, r := range plan.Rungs {
		s := streams[i]
		rep := mpd.NewVideoRepresentation(s.Variant, s.Codecs, "", "", s.Peak, r.Width, r.Height)
		rep.SegmentTemplate = segmentTemplate(s)
		video.Representations = append(video.Representations, rep)
	}
	if plan.Probe.HasAudio {
		s := streams[len(streams)-1]
		audio := mpd.NewAdaptationSetWithParams("audio", "audio/mp4", true, 1)
		audio.Id = mpd.Ptr(uint32(1))
		rep := mpd.NewAudioRepresentation(s.Variant, s.Codecs, "", s.Peak, s.SampleRate)
		rep.AudioChannelConfigurations = []*mpd.DescriptorType{mpd.NewDescriptor("urn:mpeg:dash:23003:3:audio_channel_configuration:2011", "2", "")}
		rep.SegmentTemplate = segmentTemplate(s)
		audio.Representations = append(audio.Representations, rep)
		period.AdaptationSets = append(period.AdaptationSets, audio)
	}
	m.Periods = append(m.Periods, period)
	text, err := m.WriteToString("  ", true)
	if err != nil {
		return fmt.Errorf("write the DASH manifest: %w", err)
	}
	return writeOutput(dir, DASHManifest, text)
}

// segmentTemplate names a stream's segments by number, with their exact durations.
func segmentTemplate(s stream) *mpd.SegmentTemplateType {
	st := &mpd.SegmentTemplateType{
		Media:          s.Variant + "/" + strings.Replace(segmentPattern, "%d", "$Number$", 1),
		Initialization: s.Variant + "/" + initName,
	}
	st.StartNumber = mpd.Ptr(uint32(0))
	st.Timescale = mpd.Ptr(s.Timescale)
	timeline := &mpd.SegmentTimelineType{}
	var t uint64
	for _, seg := range s.Segments {
		d := uint64(math.Round(seg.DurationS * float64(s.Timescale)))
		if n := len(timeline.S); n > 0 && timeline.S[n-1].D == d {
			timeline.S[n-1].R++
		} else {
			timeline.S = append(timeline.S, &mpd.S{T: mpd.Ptr(t), D: d})
		}
		t += d
	}
	st.SegmentTimeline = timeline
	return st
}

// remux writes each rung's fast-start MP4 from its segments and the audio's, by stream copy:
// one ffmpeg run for all rungs.
func (o Options) remux(ctx context.Context, dir string, plan Plan, tracks []Track) ([]RenditionFile, error) {
	dir, err := filepath.Abs(dir) // ffmpeg runs in dir and reads work's files
	if err != nil {
		return nil, err
	}
	work := filepath.Join(dir, "remux")
	if err := os.MkdirAll(work, 0o750); err != nil {
		return nil, transient(err)
	}
	defer os.RemoveAll(work)
	args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error"}
	for _, t := range tracks {
		joined := filepath.Join(work, t.Variant+".mp4")
		if err := concatTrack(dir, t, joined); err != nil {
			return nil, err
		}
		args = append(args, "-i", "file:"+joined)
	}
	for i, r := range plan.Rungs {
		args = append(args, "-map", fmt.Sprintf("%d:v:0", i))
		if plan.Probe.HasAudio {
			args = append(args, "-map", fmt.Sprintf("%d:a:0", len(plan.Rungs)))
		}
		args = append(args, "-c", "copy", "-map_metadata", "-1", "-movflags", "+faststart", RenditionName(r))
	}
	if err := runFFmpeg(ctx, o.FFmpeg, dir, work, args); err != nil {
		return nil, err
	}
	var out []RenditionFile
	for _, r := range plan.Rungs {
		fi, err := os.Stat(filepath.Join(dir, RenditionName(r)))
		if err != nil {
			return nil, fmt.Errorf("ffmpeg left no %s: %w", RenditionName(r), err)
		}
		out = append(out, RenditionFile{Rung: r, Name: RenditionName(r), Bytes: fi.Size()})
	}
	return out, nil
}

// concatTrack writes a track as one fragmented MP4: its init segment, then its segments.
func concatTrack(dir string, t Track, dst string) error {
	f, err := os.Create(dst) //nolint:gosec // a file of the job's own work directory
	if err != nil {
		return transient(err)
	}
	defer f.Close()
	names := []string{initPath(t.Variant)}
	for _, s := range t.Segments {
		names = append(names, SegmentName(t.Variant, s.N))
	}
	for _, name := range names {
		src, err := os.Open(filepath.Join(dir, filepath.FromSlash(name))) //nolint:gosec // a file of the job's own work directory
		if err != nil {
			return fmt.Errorf("join %s: %w", t.Variant, err)
		}
		_, err = io.Copy(f, src)
		src.Close()
		if err != nil {
			return transient(fmt.Errorf("join %s: %w", t.Variant, err))
		}
	}
	return f.Close()
}

func writeOutput(dir, name, text string) error {
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return transient(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return transient(fmt.Errorf("write %s: %w", name, err))
	}
	return nil
}
