// The signed-in user, shared by the views and the top bar.
import { api, setAccessToken, onAuthRequired } from './api.js';
import * as ws from './ws.js';
import { navigate, currentPath } from './router.js';

let user = null;
const listeners = new Set();

export function currentUser() { return user; }
export function onUserChange(fn) { listeners.add(fn); }

export function setSession(body) {
  user = body ? body.user : null;
  setAccessToken(body ? body.access_token : null);
  listeners.forEach((fn) => fn(user));
  if (user) ws.reconnect();
  else ws.disconnect();
}

// True when signed in (asks /api/auth/me once, which refreshes an expired access cookie).
export async function ensureUser() {
  if (user) return true;
  try {
    const r = await api('/api/auth/me', { quiet: true, noAuthRedirect: true });
    user = r.user || r;
    listeners.forEach((fn) => fn(user));
    ws.connect();
    return true;
  } catch {
    const here = currentPath();
    navigate(`/signin${here && here !== '/' && !here.startsWith('/signin') ? `?next=${encodeURIComponent(here)}` : ''}`, { replace: true });
    return false;
  }
}

// Fills in the user when a session exists, without going to the sign-in page (public pages).
export async function peekUser() {
  if (user) return user;
  try {
    const r = await api('/api/auth/me', { quiet: true, noAuthRedirect: true });
    if (!user) { user = r.user || r; listeners.forEach((fn) => fn(user)); ws.connect(); }
  } catch { /* not signed in: fine here */ }
  return user;
}

export async function signOut() {
  try { await api('/api/auth/logout', { method: 'POST', quiet: true }); } catch { /* already gone */ }
  setSession(null);
  navigate('/signin');
}

onAuthRequired(() => {
  if (!user) return;
  setSession(null);
  const here = currentPath();
  navigate(`/signin?next=${encodeURIComponent(here)}`);
});
