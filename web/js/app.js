// Entry point: routes, top bar (user, live-connection state, sign out), the banner for an
// upload that a reload interrupted, and invite links.
import { api } from './api.js';
import { h, clear, toast } from './ui.js';
import { route, start, navigate } from './router.js';
import { ensureUser, peekUser, onUserChange, signOut } from './session.js';
import * as ws from './ws.js';
import { interruptedUpload, clearInterruptedUpload, uploadInProgress } from './upload.js';
import { signinView } from './views/signin.js';
import { projectsView } from './views/projects.js';
import { projectView } from './views/project.js';
import { editorView } from './views/editor.js';
import { pdView } from './views/pd.js';
import { monitoringView } from './views/monitoring.js';

const authed = (view) => async (root, params, query) => ((await ensureUser()) ? view(root, params, query) : undefined);

async function acceptShare(root, { token }) {
  if (!(await ensureUser())) return;
  try {
    const p = await api(`/api/share-links/${encodeURIComponent(token)}/accept`, { method: 'POST' });
    toast(`You joined “${p.name}”`, 'ok');
    navigate(`/projects/${p.id}`, { replace: true });
  } catch (e) {
    root.append(h('div.empty.panel', h('p', `This invite link does not work: ${e.message}`), h('a.btn', { href: '#/projects' }, 'Projects')));
  }
}

route('/signin', signinView, { nav: 'signin' });
route('/projects', authed(projectsView), { nav: 'projects' });
route('/projects/:id', authed(projectView), { nav: 'projects' });
route('/images/:id', authed(editorView), { nav: 'projects' });
route('/share/:token', acceptShare, { nav: 'projects' });
const publicPage = (view) => (root, params, query) => { peekUser(); return view(root, params, query); };
route('/pd', publicPage(pdView), { nav: 'pd' });
route('/monitoring', publicPage(monitoringView), { nav: 'monitoring' });

// Top bar.
const userEl = document.getElementById('user-name');
const signoutBtn = document.getElementById('signout');
const connEl = document.getElementById('conn-status');
signoutBtn.addEventListener('click', () => signOut());
onUserChange((u) => {
  userEl.textContent = u ? u.name || u.email : '';
  signoutBtn.hidden = !u;
  connEl.hidden = !u;
});
ws.on('status', (s) => {
  connEl.className = `conn ${s === 'open' ? 'live' : 'down'}`;
  connEl.textContent = s === 'open' ? 'Live' : 'Reconnecting…';
  connEl.dataset.state = s;
});

// An upload that a reload (or a closed tab) interrupted.
function showInterruptedBanner() {
  const p = interruptedUpload();
  if (!p) return;
  const area = document.getElementById('banner-area');
  const names = p.names.slice(0, 12).join(', ') + (p.names.length > 12 ? ` and ${p.names.length - 12} more` : '');
  const banner = h('div.banner.warn', { role: 'alert', testid: 'interrupted-upload' },
    h('div', h('strong', `An upload was interrupted: ${p.names.length} file${p.names.length === 1 ? '' : 's'} did not finish`),
      p.projectName ? ` (project “${p.projectName}”)` : '', '. Upload them again: ', h('span.mono', names)),
    h('span.spacer'),
    p.projectId ? h('a.btn.btn-small', { href: `#/projects/${p.projectId}` }, 'Open project') : null,
    h('button.btn.btn-small', { type: 'button', onclick: () => { clearInterruptedUpload(); banner.remove(); } }, 'Dismiss'));
  clear(area, banner);
}

window.addEventListener('beforeunload', (e) => {
  if (uploadInProgress()) { e.preventDefault(); e.returnValue = ''; }
});

// A history-style invite URL (/share/<token>) served by the SPA fallback.
const m = /^\/share\/([^/]+)$/.exec(location.pathname);
if (m) history.replaceState(null, '', `/#/share/${m[1]}`);
if (!location.hash) history.replaceState(null, '', '#/projects');
showInterruptedBanner();
start();
