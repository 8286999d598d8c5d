// Playback engines behind one small interface. hls.js and dash.js are imported here
// dynamically, so that they are separate chunks only the watch page downloads.
//
// Order for HLS: hls.js where Media Source Extensions exist (Hls.isSupported), else the
// browser's own HLS (Safari on older iOS), else DASH through dash.js.

const FORBIDDEN_HINT =
  'The CDN refused the video (HTTP 403): the link needs a signed session. Reload the page to get fresh signed cookies, and sign in if the video is not public.';

/**
 * createPlayer attaches an engine for format ("hls" or "dash") to video and resolves
 * { format, engine, instance, heights(), setQuality(value), destroy() }; null when neither
 * format can play here. handlers: onError(message), onLevels(heights), onLevel(height).
 */
export async function createPlayer(video, media, format, handlers, startAt = 0) {
  if (format === 'hls' && media.hls_url) {
    const { default: Hls } = await import('hls.js');
    if (Hls.isSupported()) return hlsPlayer(Hls, video, media.hls_url, handlers, startAt);
    if (video.canPlayType('application/vnd.apple.mpegurl')) return nativePlayer(video, media.hls_url, handlers, startAt);
    if (media.dash_url) return createPlayer(video, media, 'dash', handlers, startAt);
    return null;
  }
  if (format === 'dash' && media.dash_url) {
    const dashjs = await import('dashjs');
    if (dashjs.supportsMediaSource()) return dashPlayer(dashjs, video, media.dash_url, handlers, startAt);
    if (media.hls_url) return createPlayer(video, media, 'hls', handlers, startAt);
  }
  return null;
}

function hlsPlayer(Hls, video, url, { onError, onLevels, onLevel }, startAt) {
  // No worker: hls.js would start one from a blob: URL; without it the CSP stays strict.
  const hls = new Hls({ enableWorker: false, debug: false, startPosition: startAt > 0 ? startAt : -1 });
  let recovered = false;
  const heights = () => [...new Set(hls.levels.map((l) => l.height).filter(Boolean))].sort((a, b) => b - a);
  hls.on(Hls.Events.MANIFEST_PARSED, () => onLevels(heights()));
  hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => onLevel(hls.levels[data.level]?.height ?? null));
  hls.on(Hls.Events.ERROR, (_, data) => {
    if (!data.fatal) return; // hls.js retries those itself
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
      recovered = true;
      hls.recoverMediaError();
      return;
    }
    const status = data.response?.code ?? data.networkDetails?.status;
    if (status === 403) onError(FORBIDDEN_HINT);
    else if (data.type === Hls.ErrorTypes.NETWORK_ERROR) onError(`The video cannot be loaded${status ? ` (HTTP ${status})` : ''}: ${data.details}.`);
    else onError(`The video cannot be played: ${data.details}.`);
  });
  hls.loadSource(url);
  hls.attachMedia(video);
  return {
    format: 'hls',
    engine: 'hls.js',
    instance: hls,
    heights,
    setQuality(value) {
      if (value === 'auto') {
        hls.currentLevel = -1;
        return;
      }
      // The highest bitrate of that height (a ladder has one per height).
      let best = -1;
      hls.levels.forEach((l, i) => {
        if (String(l.height) === value && (best < 0 || l.bitrate > hls.levels[best].bitrate)) best = i;
      });
      if (best >= 0) hls.currentLevel = best;
    },
    destroy: () => hls.destroy(),
  };
}

function nativePlayer(video, url, { onError }, startAt) {
  const onMediaError = () => {
    // The element does not say why; a 403 from the CDN is the usual cause of a signed stack.
    onError(`The video cannot be played (media error ${video.error?.code ?? '?'}). If this stack signs its CDN, the link needs a signed session: reload the page.`);
  };
  video.addEventListener('error', onMediaError);
  if (startAt > 0) video.addEventListener('loadedmetadata', () => { video.currentTime = startAt; }, { once: true });
  video.src = url;
  return {
    format: 'hls',
    engine: 'native',
    instance: null,
    heights: () => [], // Safari chooses the rendition; it offers no API to pick one
    setQuality() {},
    destroy() {
      video.removeEventListener('error', onMediaError);
      video.removeAttribute('src');
      video.load();
    },
  };
}

function dashPlayer(dashjs, video, url, { onError, onLevels, onLevel }, startAt) {
  const player = dashjs.MediaPlayer().create();
  const events = dashjs.MediaPlayer.events;
  player.updateSettings({
    debug: { logLevel: 0 }, // LOG_LEVEL_NONE: errors reach the page through the ERROR event
    streaming: { abr: { autoSwitchBitrate: { video: true } } },
  });
  const reps = () => {
    try {
      return player.getRepresentationsByType('video') ?? [];
    } catch {
      return []; // before the stream is initialised
    }
  };
  const heights = () => [...new Set(reps().map((r) => r.height).filter(Boolean))].sort((a, b) => b - a);
  player.on(events.STREAM_INITIALIZED, () => onLevels(heights()));
  player.on(events.QUALITY_CHANGE_RENDERED, (e) => {
    if (e.mediaType === 'video') onLevel(e.newRepresentation?.height ?? null);
  });
  player.on(events.ERROR, (e) => {
    const status = e.error?.data?.response?.status;
    if (status === 403) onError(FORBIDDEN_HINT);
    else onError(`The video cannot be played${status ? ` (HTTP ${status})` : ''}: ${e.error?.message ?? 'DASH error'}.`);
  });
  player.initialize(video, url, false, startAt > 0 ? startAt : undefined);
  return {
    format: 'dash',
    engine: 'dash.js',
    instance: player,
    heights,
    setQuality(value) {
      const auto = value === 'auto';
      player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
      if (auto) return;
      const rep = reps()
        .filter((r) => String(r.height) === value)
        .sort((a, b) => b.bandwidth - a.bandwidth)[0];
      if (rep) player.setRepresentationForTypeById('video', rep.id, true);
    },
    destroy: () => player.destroy(),
  };
}
