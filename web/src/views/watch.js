// The watch page: the player (HLS or DASH, a quality menu, a scrub bar with thumbnails),
// likes and comments. The player's libraries load only here, through player.js.

import { describeError } from '../api.js';
import { applyCdnCookies } from '../cdn.js';
import { alertBox, field, formatDate, formatDuration, h, isAbort } from '../dom.js';
import { createPlayer } from '../player.js';
import { cueAt, loadThumbnails } from '../thumbnails.js';

const COMMENTS_PAGE = 50;

export async function renderWatch(main, id, ctx) {
  const { api, signal } = ctx;
  const heading = h('h1', null, 'Loading…');
  const error = alertBox('watch-error');
  main.append(heading, error);

  let media;
  try {
    media = await api.getMedia(id, signal);
  } catch (err) {
    if (isAbort(err)) return undefined;
    heading.textContent = err.status === 404 ? 'Video not found' : 'Cannot load the video';
    error.textContent = err.status === 404
      ? 'There is no such video, or it is not shared with you. Private videos need their owner to be signed in.'
      : describeError(err);
    return undefined;
  }
  heading.textContent = media.title || 'Untitled';
  const isOwner = Boolean(ctx.auth.user && media.owner === ctx.auth.user.sub);

  // The owner's view carries a status; viewers only ever get ready media.
  if (media.status && media.status !== 'ready') {
    main.append(h('p', { class: 'note' }, `This video is ${media.status.replace('_', ' ')}.`,
      media.error ? ` ${media.error}` : '', ' ', h('a', { href: '#/mine' }, 'See it in My media'), '.'));
    return undefined;
  }

  const teardown = [];
  const video = h('video', {
    id: 'player', controls: true, playsInline: true, preload: 'metadata',
    width: media.width || 1280, height: media.height || 720,
  });
  const playerSection = h('section', { class: 'player-wrap', 'aria-label': 'Player' }, video);
  main.append(playerSection);

  if (!media.hls_url && !media.dash_url) {
    error.textContent = 'This video has no stream to play yet.';
  } else {
    // Before anything asks the CDN for the media: the cookies let the player's requests in.
    applyCdnCookies(ctx.config, media);
    if (media.poster_url) video.poster = media.poster_url;
    teardown.push(mountPlayer(playerSection, video, media, error, signal));
  }

  if (media.description) main.append(h('p', { class: 'description' }, media.description));
  main.append(
    h('p', { class: 'facts' }, [
      formatDuration(media.duration_s),
      media.published_at ? `Published ${formatDate(media.published_at)}` : formatDate(media.created_at),
      isOwner ? h('a', { href: '#/mine' }, 'Edit in My media') : null,
    ].filter(Boolean).flatMap((x, i) => (i ? [' · ', x] : [x]))),
    socialSection(media, ctx),
  );
  return () => teardown.forEach((fn) => fn());
}

// ---- player, quality menu, scrub bar

function mountPlayer(section, video, media, error, signal) {
  const formats = [media.hls_url && ['hls', 'HLS'], media.dash_url && ['dash', 'DASH']].filter(Boolean);
  const format = h('select', { id: 'format' }, formats.map(([v, label]) => h('option', { value: v }, label)));
  const quality = h('select', { id: 'quality' }, h('option', { value: 'auto' }, 'Auto'));
  const scrub = h('input', { id: 'scrub', type: 'range', min: 0, max: media.duration_s || 0, step: 'any', value: 0 });
  const tile = h('div', { class: 'tile', hidden: true });
  const tileTime = h('span', { class: 'tile-time' });
  const preview = h('div', { id: 'scrub-preview', class: 'scrub-preview', hidden: true, 'aria-hidden': 'true' }, tile, tileTime);
  section.append(
    h('div', { class: 'scrub-wrap' }, h('label', { htmlFor: 'scrub', class: 'visually-hidden' }, 'Seek'), scrub, preview),
    h('div', { class: 'player-controls' }, field('Format', format), field('Quality', quality)),
  );

  // Quality: Auto and one entry per rendition height; hls.js / dash.js levels replace the
  // API's list once the manifest is read, since those are what can be switched to.
  const fillQuality = (heights) => {
    const keep = quality.value;
    quality.replaceChildren(h('option', { value: 'auto' }, 'Auto'), ...heights.map((ht) => h('option', { value: String(ht) }, `${ht}p`)));
    quality.value = [...quality.options].some((o) => o.value === keep) ? keep : 'auto';
  };
  const fromApi = [...new Set((media.renditions ?? []).map((r) => r.height))].sort((a, b) => b - a);
  fillQuality(fromApi);

  let player = null;
  let generation = 0;
  const handlers = (gen) => ({
    onError: (message) => {
      if (gen === generation) error.textContent = message;
    },
    onLevels: (heights) => {
      if (gen === generation && heights.length) fillQuality(heights);
    },
    onLevel: (height) => {
      if (gen === generation) quality.options[0].textContent = height && quality.value === 'auto' ? `Auto (${height}p)` : 'Auto';
    },
  });
  const stop = () => {
    player?.destroy();
    player = null;
    window.mediastack = { player: null };
  };
  // play: start once the stream's metadata is in (the first start, or a switch of format
  // while it played).
  async function start(wanted, play) {
    const gen = ++generation;
    const at = video.currentTime || 0;
    stop();
    error.textContent = '';
    let p;
    try {
      p = await createPlayer(video, media, wanted, handlers(gen), at);
    } catch (err) {
      // The chunk did not load (offline, a deploy replaced it): say so, do not log.
      if (gen === generation) error.textContent = `The player could not be loaded: ${err.message}. Reload the page.`;
      return;
    }
    if (gen !== generation || signal.aborted) {
      p?.destroy();
      return;
    }
    if (!p) {
      error.textContent = 'This browser can play neither HLS nor DASH.';
      return;
    }
    player = p;
    window.mediastack = { player: p.instance, engine: p.engine };
    format.value = p.format;
    quality.disabled = p.engine === 'native'; // Safari's own HLS picks renditions itself
    quality.title = quality.disabled ? "The browser's own HLS player chooses the quality" : '';
    if (p.heights().length) fillQuality(p.heights());
    if (quality.value !== 'auto') p.setQuality(quality.value);
    if (play) video.addEventListener('loadedmetadata', () => gen === generation && autoplay(video), { once: true });
  }
  format.addEventListener('change', () => start(format.value, !video.paused));
  quality.addEventListener('change', () => {
    if (quality.value === 'auto') quality.options[0].textContent = 'Auto';
    player?.setQuality(quality.value);
  });

  // The first frame on screen, for the browser tests' timings.
  let marked = false;
  const markFirstFrame = () => {
    if (marked) return;
    marked = true;
    performance.mark('mediastack:first-frame');
  };
  if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(markFirstFrame);
  else video.addEventListener('playing', markFirstFrame, { once: true });

  bindScrub(video, scrub, preview, tile, tileTime, media, signal);
  start(formats[0][0], true);
  return () => {
    generation++;
    stop();
  };
}

// Plays with sound where the browser allows it, else muted (which every browser allows; the
// controls unmute); a refusal of both leaves the play button to the user.
function autoplay(video) {
  video.play()
    .catch((err) => {
      if (err?.name !== 'NotAllowedError') return undefined;
      video.muted = true;
      return video.play();
    })
    .catch(() => {});
}

function bindScrub(video, scrub, preview, tile, tileTime, media, signal) {
  let cues = [];
  if (media.thumbnails?.track_url) {
    loadThumbnails(media.thumbnails, signal).then((c) => { cues = c; }, () => {
      // No thumbnails (not transcoded with them, or refused): the bar still seeks.
    });
  }
  const duration = () => (Number.isFinite(video.duration) && video.duration > 0 ? video.duration : Number(media.duration_s) || 0);
  const setMax = () => { scrub.max = String(duration()); };
  video.addEventListener('loadedmetadata', setMax);
  video.addEventListener('durationchange', setMax);

  let dragging = false;
  const valueText = (t) => `${formatDuration(t)} of ${formatDuration(duration())}`;
  scrub.setAttribute('aria-valuetext', valueText(0));
  video.addEventListener('timeupdate', () => {
    if (dragging) return;
    scrub.value = String(video.currentTime);
    scrub.setAttribute('aria-valuetext', valueText(video.currentTime));
  });
  scrub.addEventListener('input', () => {
    const t = Number(scrub.value);
    video.currentTime = t;
    scrub.setAttribute('aria-valuetext', valueText(t));
    show(t);
  });
  scrub.addEventListener('pointerdown', () => { dragging = true; });
  scrub.addEventListener('pointerup', () => { dragging = false; });
  scrub.addEventListener('change', () => { dragging = false; });
  scrub.addEventListener('pointermove', (e) => {
    const rect = scrub.getBoundingClientRect();
    show(Math.min(Math.max((e.clientX - rect.left) / rect.width, 0), 1) * duration());
  });
  scrub.addEventListener('pointerleave', () => {
    if (!scrub.matches(':focus-visible')) preview.hidden = true;
  });
  scrub.addEventListener('focus', () => {
    if (scrub.matches(':focus-visible')) show(Number(scrub.value));
  });
  scrub.addEventListener('blur', () => { preview.hidden = true; });

  // Shows the tile for time t above the bar, at t's place along it.
  function show(t) {
    const max = duration();
    if (!max) return;
    const cue = cueAt(cues, t);
    tile.hidden = !cue;
    if (cue) {
      // CSSOM properties, which the CSP allows, unlike style attributes.
      tile.style.backgroundImage = `url("${cue.url.replace(/["\\\n]/g, encodeURIComponent)}")`;
      tile.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      tile.style.width = `${cue.w}px`;
      tile.style.height = `${cue.h}px`;
    }
    tileTime.textContent = formatDuration(t);
    preview.hidden = false;
    const width = scrub.getBoundingClientRect().width;
    const left = (t / max) * width - preview.offsetWidth / 2;
    preview.style.left = `${Math.min(Math.max(left, 0), Math.max(width - preview.offsetWidth, 0))}px`;
  }
}

// ---- likes and comments

function socialSection(media, { api, auth, signal }) {
  const me = auth.user;
  const socialError = alertBox('social-error');
  const note = h('p', { class: 'hint', role: 'status' });

  let liked = Boolean(media.liked_by_me); // absent from the owner's view: unknown, shown as not liked
  let likes = media.likes ?? 0;
  const count = h('span', { id: 'like-count' }, String(likes));
  const like = h('button', { id: 'like', type: 'button', class: 'like', 'aria-pressed': String(liked) }, h('span', { 'aria-hidden': 'true' }, '♥ '), 'Like');
  const unit = h('span', null);
  const showLikes = () => {
    like.setAttribute('aria-pressed', String(liked));
    count.textContent = String(likes);
    unit.textContent = likes === 1 ? 'like' : 'likes';
  };
  showLikes();
  like.addEventListener('click', async () => {
    socialError.textContent = '';
    if (!me) {
      note.replaceChildren(h('a', { href: '#/signin' }, 'Sign in'), ' to like videos.');
      return;
    }
    // Optimistic: the API answers 204 without a count.
    liked = !liked;
    likes = Math.max(0, likes + (liked ? 1 : -1));
    showLikes();
    like.disabled = true;
    try {
      await (liked ? api.like(media.media_id) : api.unlike(media.media_id));
    } catch (err) {
      liked = !liked;
      likes = Math.max(0, likes + (liked ? 1 : -1));
      showLikes();
      socialError.textContent = describeError(err);
    } finally {
      like.disabled = false;
    }
  });

  let total = media.comments ?? 0;
  const commentsHeading = h('h2', { id: 'comments-heading' });
  const showTotal = () => { commentsHeading.textContent = `Comments (${total})`; };
  showTotal();
  const list = h('ul', { id: 'comments', class: 'comments', 'aria-labelledby': 'comments-heading' });
  const more = h('button', { type: 'button', class: 'button-quiet', hidden: true }, 'Show more comments');
  let cursor = null;

  const commentItem = (c) => {
    const mine = me && c.author === me.sub;
    const author = mine ? 'You' : c.author === media.owner ? 'The uploader' : `User ${c.author.slice(0, 8)}`;
    const li = h('li', { dataset: { commentId: c.comment_id } },
      h('p', { class: 'comment-meta' }, h('strong', null, author), ` · ${formatDate(c.created_at)}`),
      h('p', { class: 'comment-text' }, c.text));
    // Its author and the media's owner may delete a comment.
    if (me && (mine || media.owner === me.sub)) {
      const del = h('button', { type: 'button', class: 'comment-delete button-quiet', 'aria-label': `Delete comment from ${formatDate(c.created_at)}` }, 'Delete');
      del.addEventListener('click', async () => {
        socialError.textContent = '';
        del.disabled = true;
        try {
          await api.deleteComment(media.media_id, c.comment_id);
          li.remove();
          total = Math.max(0, total - 1);
          showTotal();
          note.textContent = 'Comment deleted.';
          commentText?.focus();
        } catch (err) {
          socialError.textContent = describeError(err);
          del.disabled = false;
        }
      });
      li.append(del);
    }
    return li;
  };

  async function loadComments() {
    more.disabled = true;
    try {
      const page = await api.comments(media.media_id, { cursor, limit: COMMENTS_PAGE }, signal);
      list.append(...page.items.map(commentItem));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      if (!isAbort(err)) socialError.textContent = `Comments could not be loaded: ${describeError(err)}`;
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', loadComments);
  loadComments();

  let commentText = null;
  let form;
  if (me) {
    commentText = h('textarea', { id: 'comment-text', rows: 3, maxLength: 2000, required: true });
    const submit = h('button', { id: 'comment-submit', type: 'submit' }, 'Post comment');
    form = h('form', { class: 'stack comment-form' }, field('Add a comment', commentText), h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      socialError.textContent = '';
      const text = commentText.value.trim();
      if (!text) return;
      submit.disabled = true;
      try {
        const c = await api.addComment(media.media_id, text);
        list.append(commentItem(c)); // oldest first: a new one belongs at the end
        total++;
        showTotal();
        commentText.value = '';
        note.textContent = 'Comment posted.';
      } catch (err) {
        socialError.textContent = describeError(err);
      } finally {
        submit.disabled = false;
      }
    });
  } else {
    form = h('p', { class: 'note' }, h('a', { href: '#/signin' }, 'Sign in'), ' to comment.');
  }

  return h('section', { class: 'social', 'aria-label': 'Likes and comments' },
    h('div', { class: 'likes' }, like, ' ', count, ' ', unit),
    socialError, note, commentsHeading, list, more, form);
}
