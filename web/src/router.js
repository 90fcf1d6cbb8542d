// Client-side routes live in the hash (#/queue, #/changeset/ID), so the server
// serves one page at /review/ whatever the reader opens.

/** The current route: its path segments and its query parameters. */
export function currentRoute() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  return {
    segments: path.split('/').filter(Boolean).map(decodeURIComponent),
    params: new URLSearchParams(query),
  };
}

export function routeHash(segments, params) {
  const query = params ? new URLSearchParams(params).toString() : '';
  return `#/${segments.map(encodeURIComponent).join('/')}${query ? `?${query}` : ''}`;
}

export function navigate(segments, params) {
  const hash = routeHash(segments, params);
  if (window.location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

export function onRouteChange(listener) {
  window.addEventListener('hashchange', listener);
}
