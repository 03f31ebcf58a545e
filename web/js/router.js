// Hash router: '#/projects/abc' -> the route whose pattern matches, with params.
// A view is `async (root, params, query) => cleanup?`; a guard may veto leaving the page.
const routes = [];
let current = null;       // {cleanup}
let guard = null;         // () => boolean (true = may leave)
let lastHash = '';
let ignoreNext = false;

export function route(pattern, view, opts = {}) {
  const keys = [];
  const re = new RegExp('^' + pattern.replace(/:([a-z_]+)/gi, (_, k) => { keys.push(k); return '([^/]+)'; }) + '/?$');
  routes.push({ re, keys, view, ...opts });
}

// Called before leaving the current page; return false to stay (e.g. unsaved edits).
export function setLeaveGuard(fn) { guard = fn; }

export function navigate(path, { replace = false } = {}) {
  const hash = '#' + path;
  if (replace) { history.replaceState(null, '', hash); dispatch(); }
  else if (location.hash === hash) dispatch();
  else location.hash = hash;
}

export function currentPath() {
  return (location.hash.replace(/^#/, '') || '/').split('?')[0];
}

export function currentQuery() {
  const q = location.hash.split('?')[1] || '';
  return Object.fromEntries(new URLSearchParams(q));
}

async function dispatch() {
  if (ignoreNext) { ignoreNext = false; return; }
  if (guard && location.hash !== lastHash && !guard()) {
    ignoreNext = true;
    location.hash = lastHash;   // stay; the guard already told the user why
    return;
  }
  guard = null;
  lastHash = location.hash;
  const path = currentPath();
  const query = currentQuery();
  let match = null;
  let params = {};
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) { match = r; r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); }); break; }
  }
  if (current && typeof current.cleanup === 'function') {
    try { current.cleanup(); } catch (e) { console.error(e); }
  }
  current = null;
  const root = document.getElementById('main');
  root.replaceChildren();
  root.className = '';
  if (!match) { navigate('/projects', { replace: true }); return; }
  document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', a.dataset.nav === match.nav));
  if (match.before && !(await match.before(path))) return;
  const token = {};
  current = token;
  const cleanup = await match.view(root, params, query);
  if (current === token) token.cleanup = cleanup;
  else if (typeof cleanup === 'function') cleanup();
}

export function start() {
  window.addEventListener('hashchange', dispatch);
  dispatch();
}
