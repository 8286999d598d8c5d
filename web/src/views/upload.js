// The upload page: pick a video, send it with live progress, then watch its status until
// the transcoder is done. The upload outlives the page: leaving and coming back shows it.

import { alertBox, field, formatBytes, h } from '../dom.js';
import { Upload } from '../upload.js';

let current = null; // the last Upload started, kept across visits to the page

export function renderUpload(main, _param, { api, auth }) {
  main.append(h('h1', null, 'Upload a video'));
  if (!auth.user) {
    main.append(h('p', { class: 'note' }, h('a', { href: '#/signin' }, 'Sign in'), ' to upload videos.'));
    return undefined;
  }

  const file = h('input', { id: 'upload-file', type: 'file', accept: 'video/*', required: true });
  const title = h('input', { id: 'upload-title', type: 'text', maxLength: 200, autocomplete: 'off' });
  const description = h('textarea', { id: 'upload-description', rows: 3, maxLength: 5000 });
  const visibility = h('select', { id: 'upload-visibility' },
    h('option', { value: '' }, "The stack's default"),
    h('option', { value: 'private' }, 'Private: only you'),
    h('option', { value: 'unlisted' }, 'Unlisted: anyone with the link'),
    h('option', { value: 'public' }, 'Public: in the feed'));
  const submit = h('button', { id: 'upload-submit', type: 'submit' }, 'Upload');
  const cancel = h('button', { id: 'upload-cancel', type: 'button', class: 'button-quiet', disabled: true }, 'Cancel upload');

  const progress = h('progress', { id: 'upload-progress', max: 100, value: 0, 'aria-labelledby': 'upload-progress-label' });
  const percent = h('span', { id: 'upload-percent', class: 'percent' }, '0 %');
  const statusWord = h('span', { id: 'upload-status' });
  const detail = h('span', { id: 'upload-detail' });
  const mediaId = h('code', { id: 'upload-media-id' });
  const error = alertBox('upload-error');
  const watch = h('a', { id: 'upload-watch', href: '#/', hidden: true, class: 'button' }, 'Watch it');
  const sizeNote = h('p', { class: 'hint', id: 'upload-size' });

  const form = h('form', { class: 'stack', id: 'upload-form' },
    field('Video file', file),
    sizeNote,
    field('Title', title, 'Optional: the file name without its extension otherwise.'),
    field('Description', description, 'Optional, up to 5000 characters.'),
    field('Visibility', visibility),
    h('div', { class: 'actions' }, submit, cancel));

  const panel = h('section', { class: 'upload-panel', 'aria-labelledby': 'upload-progress-label' },
    h('h2', { id: 'upload-progress-label' }, 'Progress'),
    h('div', { class: 'progress-row' }, progress, percent),
    // Announced as it changes; the percentage is not, it would chatter.
    h('p', { 'aria-live': 'polite' }, 'Status: ', statusWord, ' ', detail),
    h('p', null, 'Media id: ', mediaId),
    error,
    watch);
  main.append(form, panel);

  file.addEventListener('change', () => {
    const f = file.files?.[0];
    sizeNote.textContent = f ? `${f.name}: ${formatBytes(f.size)}${f.type ? `, ${f.type}` : ''}` : '';
  });

  let unsubscribe = () => {};
  const show = (s) => {
    progress.value = s.percent;
    percent.textContent = `${s.percent} %`;
    statusWord.textContent = s.status;
    detail.textContent = s.detail;
    mediaId.textContent = s.mediaId;
    error.textContent = s.error;
    watch.hidden = s.status !== 'ready';
    watch.href = `#/watch/${encodeURIComponent(s.mediaId)}`;
    submit.disabled = s.cancellable; // while bytes go; a new upload may start once they are sent
    cancel.disabled = !s.cancellable;
  };
  const follow = (upload) => {
    unsubscribe();
    unsubscribe = upload.subscribe(show);
  };
  if (current) follow(current);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = file.files?.[0];
    if (!f || current?.state.cancellable) return;
    current = new Upload(api, f, { title: title.value.trim(), description: description.value, visibility: visibility.value });
    follow(current);
    current.start();
  });
  cancel.addEventListener('click', () => current?.cancel());

  return () => unsubscribe();
}
