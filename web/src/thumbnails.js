// Scrubbing thumbnails: a WebVTT track whose cues name a tile of a sprite sheet,
// "sprite-0.jpg#xywh=160,0,160,90", relative to the track.

/** Fetches and parses the track; resolves [{ start, end, url, x, y, w, h }] by time. */
export async function loadThumbnails(thumbnails, signal) {
  const res = await fetch(thumbnails.track_url, { signal });
  if (!res.ok) throw new Error(`thumbnail track: HTTP ${res.status}`);
  return parseTrack(await res.text(), thumbnails.track_url, thumbnails.sprite_urls ?? []);
}

/**
 * parseTrack reads the cues. A sprite the API listed in sprite_urls (signed, when the CDN
 * signs) is used by that URL; otherwise the cue's URL resolved against the track.
 */
export function parseTrack(text, trackUrl, spriteUrls = []) {
  const signed = new Map(spriteUrls.map((u) => [new URL(u, trackUrl).pathname, u]));
  const cues = [];
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split('\n').filter(Boolean);
    const timing = lines.findIndex((l) => l.includes('-->'));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [from, to] = lines[timing].split('-->').map((s) => parseTime(s.trim().split(/\s+/)[0]));
    const m = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(lines[timing + 1].trim());
    if (from == null || to == null || !m) continue;
    const resolved = new URL(m[1], trackUrl);
    cues.push({
      start: from, end: to,
      url: signed.get(resolved.pathname) ?? resolved.href,
      x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]),
    });
  }
  return cues.sort((a, b) => a.start - b.start);
}

// "01:02:03.500" or "02:03.500" to seconds.
function parseTime(s) {
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(s ?? '');
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

/** The cue shown at time t: the last one starting at or before it. */
export function cueAt(cues, t) {
  let lo = 0;
  let hi = cues.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid].start <= t) {
      found = cues[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
