// The upload API (lambda-src/internal/api/openapi.json): JSON over fetch, the ID token as a
// bearer token, errors as ApiError carrying the API's own message ({error, request_id}).

export class ApiError extends Error {
  name = 'ApiError';
  constructor(message, { status = 0, requestId = '', retryAfter = null } = {}) {
    super(message);
    this.status = status; // 0: the API was not reached
    this.requestId = requestId;
    this.retryAfter = retryAfter; // seconds, from Retry-After
  }
}

/**
 * createApi(config, auth) returns the API's operations. auth modes: "required" sends the
 * token and refuses to call without one; "optional" sends it when signed in (the owner's
 * view, liked_by_me); "none" never does, so that public answers stay cacheable at the edge.
 */
export function createApi(config, auth) {
  async function request(method, path, { body, query, mode = 'required', signal } = {}) {
    const url = new URL(config.apiUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v != null && v !== '') url.searchParams.set(k, String(v));
    }
    const headers = { Accept: 'application/json' };
    if (mode !== 'none') {
      const token = await auth.idToken(); // refreshes an expired token first
      if (token) headers.Authorization = `Bearer ${token}`;
      else if (mode === 'required') throw new ApiError('Sign in first.', { status: 401 });
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';

    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (err) {
      if (err?.name === 'AbortError') throw err;
      throw new ApiError(`Cannot reach the API (${url.origin}): ${err.message}`);
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // A proxy's HTML error page, say: reported below by status.
    }
    if (!res.ok) throw errorFrom(res, data);
    return data;
  }

  const id = (v) => encodeURIComponent(v);
  const deleted = deletedHere();
  return {
    createUpload: (body) => request('POST', '/v1/uploads', { body }),
    // completePath is the API's complete_url when it gave one (a path under api_url).
    completeUpload: (mediaId, body, completePath) =>
      request('POST', completePath?.startsWith('/v1/') ? completePath : `/v1/uploads/${id(mediaId)}/complete`, { body }),
    listMine: ({ cursor, limit } = {}, signal) => request('GET', '/v1/media', { query: { cursor, limit }, signal }),
    getMedia: (mediaId, signal) => request('GET', `/v1/media/${id(mediaId)}`, { mode: 'optional', signal }),
    updateMedia: (mediaId, changes) => request('PATCH', `/v1/media/${id(mediaId)}`, { body: changes }),
    deleteMedia: async (mediaId) => {
      await request('DELETE', `/v1/media/${id(mediaId)}`);
      deleted.add(mediaId);
    },
    // The feed is public, so the CDN may serve a copy from before a deletion: what this
    // tab deleted is left out, rather than shown with its poster gone.
    feed: async ({ cursor, limit } = {}, signal) => {
      const page = await request('GET', '/v1/feed', { query: { cursor, limit }, mode: 'none', signal });
      const gone = deleted.ids();
      return { ...page, items: page.items.filter((m) => !gone.has(m.media_id)) };
    },
    like: (mediaId) => request('PUT', `/v1/media/${id(mediaId)}/like`),
    unlike: (mediaId) => request('DELETE', `/v1/media/${id(mediaId)}/like`),
    comments: (mediaId, { cursor, limit } = {}, signal) =>
      request('GET', `/v1/media/${id(mediaId)}/comments`, { query: { cursor, limit }, mode: 'optional', signal }),
    addComment: (mediaId, text) => request('POST', `/v1/media/${id(mediaId)}/comments`, { body: { text } }),
    deleteComment: (mediaId, commentId) => request('DELETE', `/v1/media/${id(mediaId)}/comments/${id(commentId)}`),
  };
}

// The media deleted in this tab, kept in sessionStorage (so a reload remembers them) for
// longer than any public answer may be cached.
const DELETED_KEY = 'mediastack.deleted';
const DELETED_KEEP_MS = 60 * 60 * 1000;

function deletedHere() {
  const read = () => {
    try {
      const now = Date.now();
      return Object.entries(JSON.parse(sessionStorage.getItem(DELETED_KEY) ?? '{}')).filter(([, at]) => now - at < DELETED_KEEP_MS);
    } catch {
      return []; // storage unavailable or garbled: nothing remembered
    }
  };
  return {
    ids: () => new Set(read().map(([mediaId]) => mediaId)),
    add(mediaId) {
      try {
        sessionStorage.setItem(DELETED_KEY, JSON.stringify(Object.fromEntries([...read(), [mediaId, Date.now()]])));
      } catch {
        // Private mode without storage: the stale copy may show until it expires.
      }
    },
  };
}

function errorFrom(res, data) {
  const requestId = data?.request_id || res.headers.get('X-Request-Id') || '';
  let message = typeof data?.error === 'string' && data.error ? data.error : `HTTP ${res.status} ${res.statusText}`.trim();
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
  if (res.status === 429) {
    message = `Over quota: ${message.replace(/[^.!?]$/, '$&.')}`;
    if (retryAfter != null) {
      const at = new Date(Date.now() + retryAfter * 1000).toLocaleTimeString();
      message += ` You can retry after ${at}.`;
    }
  } else if (res.status === 401) {
    message = `Your session was refused (${message}). Sign in again.`;
  }
  return new ApiError(message, { status: res.status, requestId, retryAfter });
}

// Retry-After is seconds or an HTTP date.
function parseRetryAfter(v) {
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}

/** A message for the user: the API's words, with its request id for support. */
export function describeError(err) {
  if (err instanceof ApiError && err.requestId) return `${err.message} (request ${err.requestId})`;
  return err?.message || String(err);
}
