// The caller's own media: status, edits of title, description and visibility, and
// deletion behind an in-page confirmation. Items still on their way to ready are
// refreshed every few seconds.

import { describeError } from '../api.js';
import { alertBox, field, formatBytes, formatDate, h, isAbort } from '../dom.js';

const PAGE_SIZE = 50;
const REFRESH_MS = 5000;
const VISIBILITIES = ['private', 'unlisted', 'public']; // the API's Visibility enum
const TERMINAL = new Set(['ready', 'failed']);

export async function renderMine(main, _param, { api, auth, signal }) {
  main.append(h('h1', null, 'My media'));
  if (!auth.user) {
    main.append(h('p', { class: 'note' }, h('a', { href: '#/signin' }, 'Sign in'), ' to see your media.'));
    return undefined;
  }
  const error = alertBox('mine-error');
  const list = h('ul', { id: 'my-media', class: 'mine' });
  const empty = h('p', { class: 'note', hidden: true }, 'Nothing yet: ', h('a', { href: '#/upload' }, 'upload a video'), '.');
  const more = h('button', { type: 'button', class: 'button-quiet', hidden: true }, 'Load more');
  const announce = h('p', { class: 'visually-hidden', role: 'status' });
  main.append(error, empty, list, more, announce);

  const items = new Map(); // media_id -> { media, update(media) }
  let cursor = null;

  async function loadPage() {
    more.disabled = true;
    error.textContent = '';
    try {
      const page = await api.listMine({ cursor, limit: PAGE_SIZE }, signal);
      for (const m of page.items) {
        if (items.has(m.media_id)) continue;
        const item = mediaItem(m, { api, onDeleted });
        items.set(m.media_id, item);
        list.append(item.li);
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      empty.hidden = items.size > 0;
    } catch (err) {
      if (!isAbort(err)) error.textContent = describeError(err);
    } finally {
      more.disabled = false;
    }
  }

  function onDeleted(id) {
    const item = items.get(id);
    items.delete(id);
    const next = item?.li.nextElementSibling ?? item?.li.previousElementSibling;
    item?.li.remove();
    empty.hidden = items.size > 0;
    announce.textContent = 'Deleted.';
    (next?.querySelector('h2') ?? main.querySelector('h1'))?.focus();
  }

  // Refreshes the items still pending, uploaded or processing.
  let refreshing = false;
  const timer = setInterval(async () => {
    if (refreshing) return;
    refreshing = true;
    for (const [id, item] of items) {
      if (TERMINAL.has(item.media.status)) continue;
      try {
        item.update(await api.getMedia(id, signal));
      } catch {
        // The next tick tries again; a deleted item disappears at the next visit.
      }
    }
    refreshing = false;
  }, REFRESH_MS);

  more.addEventListener('click', loadPage);
  await loadPage();
  return () => clearInterval(timer);
}

function mediaItem(media, { api, onDeleted }) {
  const id = media.media_id;
  const uid = (name) => `${name}-${id}`;
  const heading = h('h2', { tabIndex: -1 });
  const statusEl = h('span', { class: 'status' });
  const visibilityEl = h('span', { class: 'visibility' });
  const reason = h('p', { class: 'reason' });
  const watch = h('span', null, ' · ', h('a', { href: `#/watch/${encodeURIComponent(id)}` }, 'Watch'));
  const facts = h('p', { class: 'facts' },
    'Status: ', statusEl, ' · Visibility: ', visibilityEl, ` · ${formatBytes(media.size_bytes)} · ${formatDate(media.created_at)}`, watch);

  const title = h('input', { id: uid('title'), class: 'edit-title', type: 'text', maxLength: 200, required: true, value: media.title });
  const description = h('textarea', { id: uid('description'), class: 'edit-description', rows: 3, maxLength: 5000, value: media.description });
  const visibility = h('select', { id: uid('visibility'), class: 'edit-visibility', value: media.visibility },
    VISIBILITIES.map((v) => h('option', { value: v }, v[0].toUpperCase() + v.slice(1))));
  const save = h('button', { type: 'submit', class: 'edit-save' }, 'Save');
  const saved = h('span', { class: 'save-status', role: 'status' });
  const itemError = alertBox(uid('error'), 'alert item-error');
  const form = h('form', { class: 'edit stack' },
    field('Title', title), field('Description', description), field('Visibility', visibility),
    h('div', { class: 'actions' }, save, saved));

  const del = h('button', { type: 'button', class: 'delete button-danger' }, 'Delete…');
  const confirmBox = h('div', { class: 'confirm', hidden: true },
    h('p', { id: uid('confirm') }, 'Delete this video for good, with its likes and comments?'),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'delete-confirm button-danger', 'aria-describedby': uid('confirm') }, 'Delete for good'),
      h('button', { type: 'button', class: 'delete-cancel button-quiet' }, 'Keep it')));
  const li = h('li', { dataset: { mediaId: id }, class: 'mine-item' },
    heading, facts, reason, form, h('div', { class: 'danger' }, del, confirmBox), itemError);

  let current = media;
  const item = {
    li,
    get media() {
      return current;
    },
    update(m) {
      current = m;
      heading.textContent = m.title || 'Untitled';
      statusEl.textContent = m.status;
      visibilityEl.textContent = m.visibility;
      reason.textContent = m.status === 'failed' && m.error ? `Why it failed: ${m.error}` : '';
      reason.hidden = !reason.textContent;
      watch.hidden = m.status !== 'ready';
    },
  };
  item.update(media);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    itemError.textContent = '';
    saved.textContent = '';
    // Only what changed: the API takes any subset of the three.
    const changes = {};
    if (title.value.trim() !== current.title) changes.title = title.value.trim();
    if (description.value !== current.description) changes.description = description.value;
    if (visibility.value !== current.visibility) changes.visibility = visibility.value;
    if (!Object.keys(changes).length) {
      saved.textContent = 'No changes.';
      return;
    }
    save.disabled = true;
    try {
      const m = await api.updateMedia(id, changes);
      item.update(m);
      title.value = m.title;
      description.value = m.description;
      visibility.value = m.visibility;
      saved.textContent = 'Saved.';
    } catch (err) {
      itemError.textContent = describeError(err);
    } finally {
      save.disabled = false;
    }
  });

  const [confirmBtn, keepBtn] = confirmBox.querySelectorAll('button');
  del.addEventListener('click', () => {
    del.hidden = true;
    confirmBox.hidden = false;
    keepBtn.focus(); // the safe choice first
  });
  keepBtn.addEventListener('click', () => {
    confirmBox.hidden = true;
    del.hidden = false;
    del.focus();
  });
  confirmBtn.addEventListener('click', async () => {
    itemError.textContent = '';
    confirmBtn.disabled = true;
    keepBtn.disabled = true;
    try {
      await api.deleteMedia(id);
      onDeleted(id);
    } catch (err) {
      itemError.textContent = describeError(err);
      confirmBtn.disabled = false;
      keepBtn.disabled = false;
    }
  });
  return item;
}
