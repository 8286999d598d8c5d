// Entry point: loads config.json, sets up Cognito and the API client, and routes on the
// URL's hash (#/, #/watch/<id>, ...): one index.html under /app/, no server routes.

import { createApi } from './api.js';
import { Auth } from './auth.js';
import { loadConfig } from './config.js';
import { h, isAbort } from './dom.js';
import { renderConfirm, renderSignIn, renderSignUp } from './views/account.js';
import { renderFeed } from './views/feed.js';
import { renderMine } from './views/mine.js';
import { renderNotFound } from './views/notfound.js';
import { renderUpload } from './views/upload.js';
import { renderWatch } from './views/watch.js';

const ROUTES = [
  { name: 'feed', pattern: /^\/?$/, render: renderFeed, title: 'Feed' },
  { name: 'signin', pattern: /^\/signin$/, render: renderSignIn, title: 'Sign in' },
  { name: 'signup', pattern: /^\/signup$/, render: renderSignUp, title: 'Create an account' },
  { name: 'confirm', pattern: /^\/confirm$/, render: renderConfirm, title: 'Confirm your email' },
  { name: 'upload', pattern: /^\/upload$/, render: renderUpload, title: 'Upload' },
  { name: 'mine', pattern: /^\/mine$/, render: renderMine, title: 'My media' },
  { name: 'watch', pattern: /^\/watch\/([^/]+)$/, render: renderWatch, title: 'Watch' },
];
const NOT_FOUND = { name: 'notfound', render: renderNotFound, title: 'Not found' };

const main = document.getElementById('main');
const appError = document.getElementById('app-error');
const flashEl = document.getElementById('flash');

/** Shows a global error (configuration, network) in #app-error; '' clears it. */
function showAppError(message) {
  appError.textContent = message;
}

// Parses "#/watch/abc?x=1" into the route, its path parameter and the query.
function parseHash() {
  const raw = location.hash.startsWith('#') ? location.hash.slice(1) : '';
  const [path, search = ''] = raw.split('?');
  const query = new URLSearchParams(search);
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m) return { route, param: m[1] ? decodeURIComponent(m[1]) : '', query };
  }
  return { route: NOT_FOUND, param: '', query };
}

function installGlobalHandlers() {
  // A failure nothing caught is a bug: say so in the page rather than fail silently.
  // Aborted requests of a view that was left are expected and dropped.
  window.addEventListener('unhandledrejection', (e) => {
    if (isAbort(e.reason)) {
      e.preventDefault();
      return;
    }
    showAppError(`Something went wrong: ${e.reason?.message ?? e.reason}`);
  });
  window.addEventListener('error', (e) => showAppError(`Something went wrong: ${e.message}`));
  // The skip link focuses <main> without touching the hash, which is the router's.
  document.getElementById('skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    main.focus();
  });
}

async function start() {
  installGlobalHandlers();
  const { route } = parseHash();
  document.body.dataset.route = route.name;

  let config;
  try {
    config = await loadConfig();
  } catch (err) {
    showAppError(err.message);
    main.replaceChildren(h('h1', null, 'The app is not configured'), h('p', null, err.message));
    return;
  }

  const auth = new Auth(config);
  const api = createApi(config, auth);
  const header = {
    whoami: document.getElementById('whoami'),
    signin: document.getElementById('nav-signin'),
    signout: document.getElementById('signout'),
  };
  const showUser = () => {
    const email = auth.user?.email ?? '';
    document.body.dataset.user = email;
    header.whoami.textContent = email;
    header.signin.parentElement.hidden = Boolean(auth.user);
    header.signout.hidden = !auth.user;
  };
  auth.addEventListener('change', showUser);
  header.signout.addEventListener('click', () => {
    auth.signOut();
    flash('Signed out.');
    go('#/');
  });

  try {
    await auth.session(); // a stored session, refreshed if its ID token expired
  } catch (err) {
    showAppError(err.message);
  }
  showUser();

  let current = null; // { controller, cleanup }
  let pendingFlash = '';
  let firstRender = true;

  function flash(message) {
    pendingFlash = message;
  }

  // Navigates to hash; re-renders when it is the current one (hashchange would not fire).
  function go(hash) {
    if (location.hash === hash || (hash === '#/' && location.hash === '')) render();
    else location.hash = hash;
  }

  async function render() {
    current?.controller.abort();
    try {
      current?.cleanup?.();
    } catch (err) {
      showAppError(`Something went wrong leaving the page: ${err.message}`);
    }
    const controller = new AbortController();
    current = { controller, cleanup: null };
    const { route, param, query } = parseHash();
    document.body.dataset.route = route.name;
    document.title = `${route.title} · Mediastack`;
    for (const a of document.querySelectorAll('.nav-list a')) {
      if (a.getAttribute('href') === `#/${route.name === 'feed' ? '' : route.name}`) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (!firstRender) appError.textContent = ''; // the first keeps what start-up reported
    flashEl.textContent = pendingFlash;
    pendingFlash = '';
    main.replaceChildren();

    const ctx = { config, api, auth, signal: controller.signal, go, flash, query };
    try {
      const cleanup = await route.render(main, param, ctx);
      if (current.controller === controller) current.cleanup = cleanup ?? null;
      else cleanup?.(); // the user moved on while the view was loading
    } catch (err) {
      if (!isAbort(err)) showAppError(err.message);
    }
    // Move focus to the new page's heading, for keyboards and screen readers; not on
    // the first load, where the browser's own start is expected.
    const heading = main.querySelector('h1');
    if (!firstRender && heading && current.controller === controller) {
      heading.tabIndex = -1;
      heading.focus();
    }
    firstRender = false;
  }

  window.addEventListener('hashchange', render);
  await render();
}

start();
