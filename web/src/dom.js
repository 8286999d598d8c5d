// DOM helpers. Elements are built from properties, never from HTML strings, so that user
// content (titles, descriptions, comments) cannot inject markup, and nothing needs the
// inline styles the Content-Security-Policy forbids.

/**
 * h('button', { type: 'button', class: 'x', onclick: fn, 'aria-label': 'Close' }, 'text', child)
 * Keys starting with "on" add listeners, "class" sets className, "dataset" merges data-*,
 * known properties are assigned (after the children, so that a select's value can name one
 * of its options), anything else (aria-*, role, for) becomes an attribute.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'style') {
      throw new Error('h(): no inline styles (CSP); use a class');
    } else if (key in el && !key.includes('-') && key !== 'form' && key !== 'list') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  return el;
}

/** A label and its control, wrapped in a div.field; id is the control's. */
export function field(labelText, control, hint) {
  const children = [h('label', { htmlFor: control.id }, labelText), control];
  if (hint) {
    const hintEl = h('p', { class: 'hint', id: `${control.id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    children.push(hintEl);
  }
  return h('div', { class: 'field' }, children);
}

/** An empty role=alert paragraph; set its textContent to show an error. */
export function alertBox(id, className = 'alert') {
  return h('p', { id, class: className, role: 'alert' });
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const hrs = Math.floor(seconds / 3600);
  const mm = hrs ? String(m).padStart(2, '0') : String(m);
  return `${hrs ? `${hrs}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function formatDate(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleString() : '';
}

/** Whether err is the rejection of an aborted fetch or upload (a view was left). */
export function isAbort(err) {
  return err?.name === 'AbortError';
}
