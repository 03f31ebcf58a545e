// Share a project: current members, add by e-mail with a role, remove, create an invite link.
import { api } from '../api.js';
import { h, clear, openDialog, toast } from '../ui.js';

export function shareDialog(project) {
  return openDialog(`Share “${project.name}”`, (close) => {
    const list = h('tbody');
    const email = h('input#sh-email', { type: 'email', required: true, placeholder: 'colleague@lab.org', testid: 'share-email' });
    const role = h('select#sh-role', { testid: 'share-role' },
      h('option', { value: 'viewer' }, 'Viewer (read and export)'),
      h('option', { value: 'editor' }, 'Editor (also upload, segment, edit)'));
    const err = h('p.error-text', { role: 'alert' });
    const linkOut = h('div.small.mono', { style: { wordBreak: 'break-all' } });

    async function load() {
      const r = await api(`/api/projects/${project.id}/shares`);
      clear(list, r.shares.length ? r.shares.map((s) => h('tr', { testid: 'share-row' },
        h('td', s.user.name || s.user.email, h('div.muted.small', s.user.email)),
        h('td', h('span.badge', s.role)),
        h('td', h('button.btn.btn-small.btn-danger', { type: 'button', 'aria-label': `Remove ${s.user.email}`,
          onclick: async () => { await api(`/api/projects/${project.id}/shares/${s.id}`, { method: 'DELETE' }); load(); } }, 'Remove'))))
        : h('tr', h('td.muted', { colspan: 3 }, 'Not shared with anyone yet.')));
    }
    load().catch(() => {});

    return [
      h('table', h('thead', h('tr', h('th', 'Member'), h('th', 'Role'), h('th', ''))), list),
      h('form', { style: { marginTop: '14px' }, onsubmit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        try {
          await api(`/api/projects/${project.id}/shares`, { method: 'POST', body: { email: email.value.trim(), role: role.value }, quiet: true });
          email.value = '';
          toast('Shared', 'ok');
          load();
        } catch (ex) { err.textContent = ex.status === 404 ? 'No seghub user has that e-mail.' : ex.message; }
      } },
      h('div.row',
        h('div', { style: { flex: 2 } }, h('label', { for: 'sh-email' }, 'E-mail'), email),
        h('div', { style: { flex: 1.4 } }, h('label', { for: 'sh-role' }, 'Role'), role),
        h('button.btn.btn-primary', { type: 'submit', style: { alignSelf: 'flex-end' }, testid: 'share-submit' }, 'Share')),
      err),
      h('div.row', { style: { marginTop: '6px' } },
        h('button.btn.btn-small', { type: 'button', onclick: async () => {
          const r = await api(`/api/projects/${project.id}/share-links`, { method: 'POST', body: { role: role.value } });
          const url = r.url && r.url.startsWith('http') ? r.url : `${location.origin}/#/share/${r.token}`;
          clear(linkOut, `Invite link (${role.value}): `, h('a', { href: url }, url));
        } }, 'Create invite link'), linkOut),
      h('div.buttons', h('button.btn', { type: 'button', onclick: () => close() }, 'Close')),
    ];
  }, { testid: 'share-dialog' });
}
