// Live updates: one WebSocket to /api/ws with auto-reconnect (exponential backoff with jitter),
// project subscriptions re-sent after every reconnect, and a 'reconnected' event so views
// re-read what they show (the server also replays queueStats on connect).
import { getAccessToken } from './api.js';

const handlers = new Map();   // event name -> Set(fn)
const subscriptions = new Set();
let socket = null;
let wanted = false;
let attempts = 0;
let everOpened = false;
let retryTimer = null;
let state = 'idle';

function emit(event, data) {
  for (const fn of handlers.get(event) || []) {
    try { fn(data); } catch (e) { console.error('ws handler', event, e); }
  }
  for (const fn of handlers.get('*') || []) {
    try { fn(event, data); } catch (e) { console.error('ws handler *', e); }
  }
}

function setState(s) {
  state = s;
  emit('status', s);
}

export function wsState() { return state; }

// on('segmentation-update', fn) -> unsubscribe function. Special events: 'status'
// ('connecting'|'open'|'closed'), 'reconnected', '*' (every server event: fn(name, data)).
export function on(event, fn) {
  if (!handlers.has(event)) handlers.set(event, new Set());
  handlers.get(event).add(fn);
  return () => handlers.get(event).delete(fn);
}

function sendJson(obj) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
}

export function subscribe(projectId) {
  subscriptions.add(projectId);
  sendJson({ subscribe: projectId });
}

export function unsubscribe(projectId) {
  subscriptions.delete(projectId);
  sendJson({ unsubscribe: projectId });
}

function url() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = getAccessToken();
  return `${proto}//${location.host}/api/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

function open() {
  clearTimeout(retryTimer);
  if (!wanted) return;
  setState('connecting');
  let ws;
  try { ws = new WebSocket(url()); } catch { scheduleRetry(); return; }
  socket = ws;
  ws.onopen = () => {
    const wasReconnect = everOpened;
    everOpened = true;
    attempts = 0;
    setState('open');
    for (const id of subscriptions) sendJson({ subscribe: id });
    if (wasReconnect) emit('reconnected', {});
  };
  ws.onmessage = (m) => {
    let msg;
    try { msg = JSON.parse(m.data); } catch { return; }
    if (msg && msg.event) emit(msg.event, msg.data || {});
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    setState('closed');
    scheduleRetry();
  };
  ws.onerror = () => { /* onclose follows */ };
}

function scheduleRetry() {
  if (!wanted) return;
  const base = Math.min(30000, 1000 * 2 ** Math.min(attempts, 5));
  attempts++;
  retryTimer = setTimeout(open, base / 2 + Math.random() * base / 2);
}

export function connect() {
  if (wanted) return;
  wanted = true;
  open();
}

export function disconnect() {
  wanted = false;
  everOpened = false;
  clearTimeout(retryTimer);
  if (socket) { const s = socket; socket = null; s.onclose = null; s.close(); }
  setState('idle');
}

// Reconnect now (e.g. after sign-in, when the token changed).
export function reconnect() {
  disconnect();
  connect();
}
