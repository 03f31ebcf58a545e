// fetch wrapper for the seghub API: JSON in and out, errors as ApiError (and shown to the
// user unless `quiet`), one POST /api/auth/refresh on a 401 before sending the user to sign in.
import { toast } from './ui.js';

export class ApiError extends Error {
  constructor(status, body) {
    const msg = (body && (body.detail || body.error)) || `HTTP ${status}`;
    super(msg);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
  }
}

// The access token is kept in memory only (the httpOnly cookie is the real credential); it is a
// fallback for servers that set Secure cookies on plain http.
let accessToken = null;
let refreshing = null;
const authListeners = new Set();

export function onAuthRequired(fn) { authListeners.add(fn); }
export function setAccessToken(t) { accessToken = t || null; }
export function getAccessToken() { return accessToken; }

function authHeaders() {
  return accessToken ? { Authorization: `Bearer ${accessToken}` } : {};
}

export function refreshSession() {
  if (!refreshing) {
    refreshing = fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })
      .then(async (r) => {
        if (!r.ok) return false;
        const body = await r.json().catch(() => ({}));
        if (body.access_token) accessToken = body.access_token;
        return true;
      })
      .catch(() => false)
      .finally(() => setTimeout(() => { refreshing = null; }, 0));
  }
  return refreshing;
}

const NO_REFRESH = /^\/api\/auth\/(login|register|refresh|logout)/;

function buildUrl(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

async function parseBody(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) return res.json().catch(() => null);
  const text = await res.text();
  try { return JSON.parse(text); } catch { return text ? { error: text.slice(0, 300) } : null; }
}

// api('/api/projects', {method:'POST', body:{...}}) -> parsed JSON (null for 204).
// Options: body (JSON), form (FormData), query, quiet (no toast), noAuthRedirect, signal.
export async function api(path, opts = {}) {
  const { method = 'GET', body, form, query, quiet = false, noAuthRedirect = false, signal } = opts;
  const url = buildUrl(path, query);
  const send = () => {
    const headers = { Accept: 'application/json', ...authHeaders() };
    let payload;
    if (form) payload = form;
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
    return fetch(url, { method, headers, body: payload, credentials: 'same-origin', signal });
  };
  let res;
  try {
    res = await send();
    if (res.status === 401 && !NO_REFRESH.test(path)) {
      if (await refreshSession()) res = await send();
    }
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    const err = new ApiError(0, { error: `Network error: ${e.message}. Is the server running?` });
    if (!quiet) toast(err.message, 'error');
    throw err;
  }
  const data = await parseBody(res);
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !noAuthRedirect && !NO_REFRESH.test(path)) {
      authListeners.forEach((fn) => fn());
    } else if (!quiet) {
      toast(res.status === 429 ? `Too many requests, try again in ${res.headers.get('Retry-After') || 'a few'} s` : err.message, 'error');
    }
    throw err;
  }
  return data;
}

// GET that returns text (e.g. /metrics).
export async function apiText(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: authHeaders() });
  if (!res.ok) throw new ApiError(res.status, await parseBody(res));
  return res.text();
}

export { authHeaders };
