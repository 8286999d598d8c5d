// Any hash the router does not know.

import { h } from '../dom.js';

export function renderNotFound(main) {
  main.append(
    h('h1', null, 'Page not found'),
    h('p', null, 'Nothing lives at this address. ', h('a', { href: '#/' }, 'Back to the feed'), '.'),
  );
}
