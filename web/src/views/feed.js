// The public feed, newest first, loaded page by page as the sentinel below the list comes
// into view (its button does the same for keyboards and for browsers that scroll little).

import { describeError } from '../api.js';
import { alertBox, formatDuration, h, isAbort } from '../dom.js';

const PAGE_SIZE = 12;

export function renderFeed(main, _param, { api, signal }) {
  const list = h('ul', { id: 'feed', class: 'cards' });
  const error = alertBox('feed-error');
  const more = h('button', { type: 'button', class: 'button-quiet' }, 'Load more');
  const end = h('p', { class: 'hint', hidden: true }, 'That is everything.');
  const sentinel = h('div', { id: 'feed-more', class: 'sentinel' }, more, end);
  const empty = h('p', { class: 'note', hidden: true }, 'No public videos yet.');
  const status = h('p', { id: 'feed-status', class: 'visually-hidden', role: 'status' });
  main.append(h('h1', null, 'Latest videos'), error, empty, list, sentinel, status);

  let cursor = null;
  let done = false;
  let loading = false;

  async function loadPage() {
    if (loading || done) return;
    loading = true;
    more.disabled = true;
    error.textContent = '';
    let ok = false;
    try {
      const page = await api.feed({ cursor, limit: PAGE_SIZE }, signal);
      list.append(...page.items.map(card));
      cursor = page.next_cursor;
      done = !cursor;
      ok = true;
      empty.hidden = list.children.length > 0;
      status.textContent = `${list.children.length} videos shown.`;
    } catch (err) {
      if (isAbort(err)) return;
      error.textContent = describeError(err); // the button stays, to try again
    } finally {
      loading = false;
      more.disabled = false;
      more.hidden = done;
      end.hidden = !done || !list.children.length;
    }
    // Observe again: the observer then reports the sentinel's state afresh, so a page that
    // did not fill the screen is followed by the next without waiting for a scroll.
    if (ok && !done && observer) {
      observer.unobserve(sentinel);
      observer.observe(sentinel);
    }
  }

  more.addEventListener('click', loadPage);
  const observer = 'IntersectionObserver' in window
    ? new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadPage();
    }, { rootMargin: '400px 0px' })
    : null;
  loadPage();
  return () => observer?.disconnect();
}

function card(item) {
  const placeholder = () => h('span', { class: 'poster-placeholder', 'aria-hidden': 'true' }, '▶');
  let poster = placeholder();
  if (item.poster_url) {
    poster = h('img', { src: item.poster_url, alt: '', loading: 'lazy', decoding: 'async', width: 320, height: 180 });
    // A cached feed can outlive a media deleted elsewhere: no broken image then.
    poster.addEventListener('error', () => poster.replaceWith(placeholder()), { once: true });
  }
  const meta = [formatDuration(item.duration_s), `${item.likes} ${item.likes === 1 ? 'like' : 'likes'}`].filter(Boolean).join(' · ');
  return h('li', { dataset: { mediaId: item.media_id } },
    h('a', { class: 'card', href: `#/watch/${encodeURIComponent(item.media_id)}` },
      h('span', { class: 'poster' }, poster),
      h('span', { class: 'card-title' }, item.title || 'Untitled'),
      h('span', { class: 'card-meta' }, meta)));
}
