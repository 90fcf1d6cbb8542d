// The JSON routes of review/webapp (see its doc.go). Every call but signing in
// that changes something carries the session's CSRF token.

const apiRoot = `${import.meta.env.BASE_URL}api`;
let csrfToken = '';

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, serverMessage, options) {
    super(serverMessage || `HTTP ${status}`, options);
    this.name = 'ApiError';
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

async function request(method, path, { body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(`${apiRoot}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (cause) {
    if (cause.name === 'AbortError') throw cause;
    throw new ApiError(0, cause.message, { cause });
  }
  const payload = await readJSON(response);
  if (!response.ok) throw new ApiError(response.status, payload?.error ?? '');
  return payload;
}

async function readJSON(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: text.slice(0, 300) };
  }
}

function remember(me) {
  csrfToken = me?.csrf ?? '';
  return me;
}

export const api = {
  me: (signal) => request('GET', '/me', { signal }).then(remember),
  signIn: (user, password) => request('POST', '/session', { body: { user, password } }).then(remember),
  signOut: () => request('DELETE', '/session').finally(() => remember(null)),
  config: (signal) => request('GET', '/config', { signal }),
  queue: (filters, signal) => {
    const query = new URLSearchParams(filters).toString();
    return request('GET', `/queue${query ? `?${query}` : ''}`, { signal });
  },
  changeset: (id, signal) => request('GET', `/changesets/${encodeURIComponent(id)}`, { signal }),
  /** action: approve, request_changes, reject or approve_elements. */
  decide: (id, action, body) =>
    request('POST', `/changesets/${encodeURIComponent(id)}/${action}`, { body }),
  comment: (id, text) =>
    request('POST', `/changesets/${encodeURIComponent(id)}/comment`, { body: { text } }),
};
