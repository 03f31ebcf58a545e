// Projects list: create, open; cards show the queue counts (live from queueStats).
import { api } from '../api.js';
import { h, clear, openDialog, fmtDate } from '../ui.js';
import { navigate } from '../router.js';
import * as ws from '../ws.js';

export function queueLine(q) {
  if (!q) return h('span.queue-line');
  const parts = ['queued', 'processing', 'done', 'failed']
    .filter((k) => q[k])
    .map((k) => h('span', { class: `badge ${k}` }, `${q[k]} ${k}`));
  return h('span.queue-line', parts.length ? parts : h('span.muted', 'no segmentation yet'));
}

export async function newProjectDialog() {
  return openDialog('New project', (close) => {
    const name = h('input#np-name', { type: 'text', required: true, testid: 'new-project-name' });
    const desc = h('textarea#np-desc', { rows: 3, style: { width: '100%' }, testid: 'new-project-description' });
    const err = h('p.error-text', { role: 'alert' });
    const form = h('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const p = await api('/api/projects', { method: 'POST', body: { name: name.value.trim(), description: desc.value.trim() }, quiet: true });
          close(p);
        } catch (ex) { err.textContent = ex.message; }
      },
    },
    h('div.field', h('label', { for: 'np-name' }, 'Name'), name),
    h('div.field', h('label', { for: 'np-desc' }, 'Description (optional)'), desc),
    err,
    h('div.buttons',
      h('button.btn', { type: 'button', onclick: () => close() }, 'Cancel'),
      h('button.btn.btn-primary', { type: 'submit', testid: 'new-project-submit' }, 'Create')));
    setTimeout(() => name.focus(), 0);
    return form;
  }, { testid: 'new-project-dialog' });
}

export async function projectsView(root) {
  const list = h('div.project-grid', { testid: 'project-list' });
  const pager = h('div.pager');
  const perPage = 24;
  let page = 1;
  const cards = new Map();

  async function load() {
    const r = await api('/api/projects', { query: { page, per_page: perPage } });
    cards.clear();
    if (!r.projects.length) {
      clear(list, h('div.empty.panel', { style: { gridColumn: '1 / -1' } },
        h('p', 'No projects yet. A project holds the images of one experiment.'),
        h('button.btn.btn-primary', { type: 'button', onclick: create }, 'Create your first project')));
    } else {
      clear(list, r.projects.map((p) => {
        const q = h('div', queueLine(p.queue));
        cards.set(p.id, { el: q, queue: { ...(p.queue || {}) } });
        return h('a.panel.project-card', { href: `#/projects/${p.id}`, testid: 'project-card', dataset: { id: p.id } },
          h('h2', p.name),
          p.description ? h('div.muted.small', p.description) : null,
          h('div.small', `${p.image_count ?? 0} images · `, h('span.badge', p.role),
            p.owner && p.role !== 'owner' ? h('span.muted', ` shared by ${p.owner.name || p.owner.email}`) : null),
          q,
          h('div.muted.small', `Updated ${fmtDate(p.updated_at)}`));
      }));
    }
    const pages = Math.max(1, Math.ceil((r.total || 0) / perPage));
    clear(pager, pages > 1 ? [
      h('button.btn.btn-small', { type: 'button', disabled: page <= 1, onclick: () => { page--; load(); } }, '‹ Previous'),
      h('span.muted', `Page ${page} of ${pages}`),
      h('button.btn.btn-small', { type: 'button', disabled: page >= pages, onclick: () => { page++; load(); } }, 'Next ›'),
    ] : []);
  }

  async function create() {
    const p = await newProjectDialog();
    if (p && p.id) navigate(`/projects/${p.id}`);
  }

  root.append(
    h('div.page-head',
      h('div', h('h1', 'Projects'), h('p.muted', { style: { margin: 0 } }, 'Your experiments and the ones shared with you.')),
      h('div.actions', h('button.btn.btn-primary', { type: 'button', onclick: create, testid: 'new-project' }, '+ New project'))),
    list, pager);
  await load().catch(() => {});

  const offs = [
    ws.on('queueStats', (d) => {
      const c = cards.get(d.projectId);
      if (c) { Object.assign(c.queue, { queued: d.queued, processing: d.processing }); clear(c.el, queueLine(c.queue)); }
    }),
    ws.on('reconnected', () => load().catch(() => {})),
  ];
  return () => offs.forEach((f) => f());
}
