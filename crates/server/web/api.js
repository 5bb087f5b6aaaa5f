// The page's only way to the server: the public REST API under /api/v1, authenticated with
// the X-User-Id / X-Auth-Token headers. The login token lives in localStorage, never in a URL.

const KEY = 'liftoff.session';

export function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    return s && s.userId && s.authToken ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
}

/** An API answer other than `success: true`, carrying the server's own error text. */
export class ApiError extends Error {
  constructor(status, body) {
    super(errorText(body, status));
    this.status = status;
    this.body = body;
  }
}

function errorText(body, status) {
  if (body && typeof body === 'object') {
    // Login failures put the readable reason in `message`; everything else in `error`.
    if (typeof body.message === 'string' && body.message) return body.message;
    if (typeof body.error === 'string' && body.error) return body.error;
  }
  return `Request failed (HTTP ${status})`;
}

// Called when the server no longer accepts the stored token.
let onLoggedOut = () => {};
export function setLoggedOutHandler(fn) {
  onLoggedOut = fn;
}

export async function call(method, endpoint, { query, body, anonymous } = {}) {
  const url = new URL(`/api/v1/${endpoint}`, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = { Accept: 'application/json' };
  const session = loadSession();
  if (session && !anonymous) {
    headers['X-User-Id'] = session.userId;
    headers['X-Auth-Token'] = session.authToken;
  }
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { error: 'The server cannot be reached.' });
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok || !data || data.success === false) {
    if (resp.status === 401 && session && !anonymous) {
      saveSession(null);
      onLoggedOut();
    }
    throw new ApiError(resp.status, data);
  }
  return data;
}

export const get = (endpoint, query) => call('GET', endpoint, { query });
export const post = (endpoint, body) => call('POST', endpoint, { body });
export const put = (endpoint, body) => call('PUT', endpoint, { body });

export async function login(user, password) {
  const data = await call('POST', 'login', { body: { user, password }, anonymous: true });
  const session = { userId: data.data.userId, authToken: data.data.authToken, username: data.data.me?.username };
  saveSession(session);
  return session;
}

export async function logout() {
  try {
    await post('logout');
  } catch {
    // The token is forgotten locally whatever the server says.
  }
  saveSession(null);
}

export const INCOMING = 'webhook-incoming';
export const OUTGOING = 'webhook-outgoing';

/** A regular expression matching `text` literally, for the `query` parameter's `$regex`. */
export function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
