// The runtime configuration: config.json beside index.html, written by Terraform at deploy
// time. Nothing of it is built in, so one build serves every stack.

const REQUIRED = ['api_url', 'region', 'user_pool_id', 'user_pool_client_id', 'cdn_base_url'];

export class ConfigError extends Error {
  name = 'ConfigError';
}

/** Loads and checks config.json; throws a ConfigError that says what is wrong. */
export async function loadConfig() {
  const url = new URL('config.json', document.baseURI);
  let res;
  try {
    res = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch (err) {
    throw new ConfigError(`Cannot load the app's configuration ${url}: ${err.message}`);
  }
  if (!res.ok) {
    throw new ConfigError(`Cannot load the app's configuration ${url}: HTTP ${res.status}. The deployment writes it beside index.html.`);
  }
  let raw;
  try {
    raw = await res.json();
  } catch {
    throw new ConfigError(`The app's configuration ${url} is not valid JSON.`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`The app's configuration ${url} must be a JSON object.`);
  }

  const missing = REQUIRED.filter((k) => typeof raw[k] !== 'string' || raw[k].trim() === '');
  if (missing.length) {
    throw new ConfigError(`The app's configuration ${url} lacks ${missing.join(', ')}: each must be a non-empty string.`);
  }
  const endpoint = raw.cognito_endpoint ?? null; // optional: null is Cognito's own endpoint
  if (endpoint !== null && (typeof endpoint !== 'string' || endpoint.trim() === '')) {
    throw new ConfigError(`The app's configuration ${url}: cognito_endpoint must be a URL or null.`);
  }
  const bad = [['api_url', raw.api_url], ['cdn_base_url', raw.cdn_base_url], ['cognito_endpoint', endpoint]]
    .filter(([, v]) => v !== null && !isHttpUrl(v))
    .map(([k]) => k);
  if (bad.length) {
    throw new ConfigError(`The app's configuration ${url}: ${bad.join(', ')} must be absolute http(s) URLs.`);
  }

  return Object.freeze({
    apiUrl: raw.api_url.trim().replace(/\/+$/, ''),
    region: raw.region.trim(),
    userPoolId: raw.user_pool_id.trim(),
    userPoolClientId: raw.user_pool_client_id.trim(),
    cognitoEndpoint: endpoint?.trim() || null,
    cdnBaseUrl: raw.cdn_base_url.trim().replace(/\/+$/, ''),
  });
}

function isHttpUrl(v) {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}
