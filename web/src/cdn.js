// CloudFront's signed cookies. A player requests variant playlists and segments without the
// master URL's query string, so on a distribution that requires signatures only cookies get
// those requests through. The API hands them out with each media (cdn_cookies); the app sets
// them for that media's path, which works only because the app and the CDN share a host.

const STORE_KEY = 'mediastack.cdnCookies'; // { "/<media_id>/": ["CloudFront-Policy", ...] }

/**
 * Sets media.cdn_cookies for /<media_id>/ when the CDN is this page's host; returns whether
 * it did. Call it before the player requests anything.
 */
export function applyCdnCookies(config, media) {
  const cookies = media?.cdn_cookies;
  if (!cookies || typeof cookies !== 'object') return false;
  if (new URL(config.cdnBaseUrl).host !== location.host) return false;
  const cookiePath = `/${encodeURIComponent(media.media_id)}/`;
  const names = [];
  for (const [name, value] of Object.entries(cookies)) {
    // CloudFront's values are URL-safe base64 (- _ ~), valid in a cookie as they are;
    // anything else could smuggle cookie attributes in, and is skipped.
    if (!/^[A-Za-z0-9-]+$/.test(name) || typeof value !== 'string' || !/^[A-Za-z0-9\-_~=+/.]*$/.test(value)) continue;
    document.cookie = `${name}=${value}; Path=${cookiePath}; Secure; SameSite=Strict`;
    names.push(name);
  }
  const remembered = readStore();
  remembered[cookiePath] = names;
  writeStore(remembered);
  return true;
}

/** Expires every CDN cookie the app set (at sign-out). */
export function clearCdnCookies() {
  for (const [cookiePath, names] of Object.entries(readStore())) {
    for (const name of Array.isArray(names) ? names : []) {
      document.cookie = `${name}=; Path=${cookiePath}; Max-Age=0; Secure; SameSite=Strict`;
    }
  }
  try {
    localStorage.removeItem(STORE_KEY);
  } catch {
    // Storage disabled: nothing was remembered either.
  }
}

function readStore() {
  try {
    const v = JSON.parse(localStorage.getItem(STORE_KEY) ?? '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function writeStore(v) {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(v));
  } catch {
    // Storage full or disabled: the cookies then simply expire on their own.
  }
}
