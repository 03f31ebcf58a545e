// Project page: header actions (rename, share, export, delete), upload, segmentation controls
// (model, threshold, scale, all/selected, cancel), queue summary and the live gallery.
import { api } from '../api.js';
import { h, clear, toast, confirmDialog, promptDialog } from '../ui.js';
import { navigate } from '../router.js';
import * as ws from '../ws.js';
import { uploadPanel } from './upload-panel.js';
import { createGallery } from './gallery.js';
import { shareDialog } from './share-dialog.js';
import { exportDialog } from './export-dialog.js';
import { queueLine } from './projects.js';

let modelsCache = null;
async function loadModels() {
  if (!modelsCache) modelsCache = api('/api/models').catch((e) => { modelsCache = null; throw e; });
  return modelsCache;
}

export async function projectView(root, { id }) {
  let project;
  try { project = await api(`/api/projects/${id}`); } catch (e) {
    root.append(h('div.empty.panel', h('p', e.status === 404 ? 'This project does not exist or is not shared with you.' : e.message),
      h('a.btn', { href: '#/projects' }, 'Back to projects')));
    return undefined;
  }
  const canEdit = project.role === 'owner' || project.role === 'editor';
  const isOwner = project.role === 'owner';
  const queue = { ...(project.queue || {}) };
  const title = h('h1', { testid: 'project-title' }, project.name);
  const queueEl = h('div.queue-bar', { testid: 'queue-summary' });
  const showQueue = () => clear(queueEl, h('span.muted', 'Queue:'), queueLine(queue));
  showQueue();

  // Segmentation controls.
  const modelSel = h('select#seg-model', { testid: 'model-select', style: { minWidth: '190px' } });
  const thr = h('input#seg-thr', { type: 'number', min: 0.05, max: 0.95, step: 0.05, value: 0.5, style: { width: '80px' }, testid: 'threshold' });
  // Empty: the model decides (models with input.object_diameter measure the objects first).
  const scaleIn = h('input#seg-scale', { type: 'number', min: 0.05, max: 16, step: 0.05, placeholder: 'auto', style: { width: '80px' }, testid: 'scale',
    title: 'Resize images by this factor before the model: above 1 for objects smaller than the model was trained on. Empty: the model decides.' });
  const force = h('input', { type: 'checkbox', testid: 'segment-force' });
  const segAll = h('button.btn.btn-primary', { type: 'button', testid: 'segment-all' }, 'Segment all');
  const segSel = h('button.btn.btn-small', { type: 'button', disabled: true, testid: 'segment-selected' }, 'Segment selected');
  const delSel = h('button.btn.btn-small.btn-danger', { type: 'button', disabled: true, testid: 'delete-selected' }, 'Delete selected');
  const cancelBtn = h('button.btn', { type: 'button', testid: 'cancel-segmentation' }, 'Cancel queued');
  let models = {};
  loadModels().then((r) => {
    models = r.models || {};
    const names = Object.keys(models);
    clear(modelSel, names.map((n) => h('option', { value: n, title: models[n].description || '' }, n)));
    const saved = localStorage.getItem('seghub.model');
    modelSel.value = names.includes(saved) ? saved : (r.default_model && names.includes(r.default_model) ? r.default_model : names[0] || '');
    setThreshold();
  }).catch(() => {});
  function setThreshold() {
    const m = models[modelSel.value];
    if (m && m.recommended_threshold) thr.value = m.recommended_threshold;
  }
  modelSel.addEventListener('change', () => { localStorage.setItem('seghub.model', modelSel.value); setThreshold(); });

  const gallery = createGallery(project.id, { actions: canEdit ? [segSel, delSel] : [], onSelectionChange: (sel) => {
    segSel.disabled = !sel.size || !canEdit;
    delSel.disabled = !sel.size || !canEdit;
    segSel.textContent = sel.size ? `Segment selected (${sel.size})` : 'Segment selected';
  } });

  async function refreshQueue() {
    try { Object.assign(queue, await api(`/api/projects/${project.id}/queue`, { quiet: true })); showQueue(); } catch { /* shown later */ }
  }

  async function segment(imageIds) {
    const t = parseFloat(thr.value);
    if (!(t > 0 && t < 1)) { toast('The threshold must be between 0 and 1', 'error'); return; }
    const body = { model: modelSel.value, threshold: t, force: force.checked };
    if (scaleIn.value.trim() !== '' || !scaleIn.validity.valid) {
      const s = parseFloat(scaleIn.value);
      if (!(s > 0 && s <= 16)) { toast('The scale must be above 0 and at most 16 (empty: the model decides)', 'error'); return; }
      body.scale = s;
    }
    if (imageIds) body.image_ids = imageIds;
    const r = await api(`/api/projects/${project.id}/segment`, { method: 'POST', body });
    toast(`${r.queued} image(s) queued${r.skipped ? `, ${r.skipped} skipped (already done — tick “re-segment” to redo)` : ''}`, 'ok');
    gallery.clearSelection();
    await Promise.all([gallery.load(), refreshQueue()]);
  }
  segAll.addEventListener('click', () => segment(null).catch(() => {}));
  segSel.addEventListener('click', () => segment([...gallery.selected]).catch(() => {}));
  cancelBtn.addEventListener('click', async () => {
    const r = await api(`/api/projects/${project.id}/cancel`, { method: 'POST' });
    toast(`${r.cancelled} job(s) cancelled`);
    await Promise.all([gallery.load(), refreshQueue()]);
  });
  delSel.addEventListener('click', async () => {
    const ids = [...gallery.selected];
    if (!(await confirmDialog('Delete images', `Delete ${ids.length} image(s) and their segmentations? This cannot be undone.`, { ok: 'Delete', danger: true }))) return;
    for (const imageId of ids) await api(`/api/images/${imageId}`, { method: 'DELETE' }).catch(() => {});
    gallery.clearSelection();
    await Promise.all([gallery.load(), refreshQueue()]);
  });

  // Header actions.
  const rename = async () => {
    const name = await promptDialog('Rename project', 'New name', project.name);
    if (!name || name === project.name) return;
    project = { ...project, ...(await api(`/api/projects/${project.id}`, { method: 'PATCH', body: { name } })) };
    title.textContent = project.name;
  };
  const del = async () => {
    if (!(await confirmDialog('Delete project', `Delete “${project.name}” with all its images and segmentations? This cannot be undone.`, { ok: 'Delete project', danger: true }))) return;
    await api(`/api/projects/${project.id}`, { method: 'DELETE' });
    toast('Project deleted');
    navigate('/projects');
  };

  root.append(
    h('div.page-head',
      h('div', h('a.small', { href: '#/projects' }, '‹ Projects'), title,
        h('p.muted', { style: { margin: 0 } }, project.description || '', ' ', h('span.badge', project.role))),
      h('div.actions',
        isOwner ? h('button.btn', { type: 'button', onclick: rename, testid: 'rename-project' }, 'Rename') : null,
        isOwner ? h('button.btn', { type: 'button', onclick: () => shareDialog(project), testid: 'share-project' }, 'Share') : null,
        h('button.btn', { type: 'button', onclick: () => exportDialog(project), testid: 'export-project' }, 'Export'),
        isOwner ? h('button.btn.btn-danger', { type: 'button', onclick: del, testid: 'delete-project' }, 'Delete') : null)),
    // (Element.append() writes null as the text "null": only real nodes go in.)
    ...(canEdit ? [uploadPanel(project, () => { gallery.load(); refreshQueue(); })] : []),
    canEdit
      ? h('div.panel.toolbar', { style: { marginBottom: '16px' } },
        h('div.group', h('div', h('label', { for: 'seg-model' }, 'Model'), modelSel),
          h('div', h('label', { for: 'seg-thr' }, 'Threshold'), thr),
          h('div', h('label', { for: 'seg-scale' }, 'Scale'), scaleIn),
          h('label.check', { style: { alignSelf: 'center' } }, force, 'Re-segment done images')),
        h('div.group', segAll, cancelBtn),
        h('div.group', { style: { alignSelf: 'center' } }, queueEl))
      : h('div.panel.toolbar', { style: { marginBottom: '16px' }, testid: 'readonly-project' },
        h('div.group', { style: { alignSelf: 'center' } },
          h('span.badge.readonly', 'Read-only · viewer'),
          h('span.muted', 'You can open, view and export the images and outlines; ask the owner for editor access to upload, segment or edit.')),
        h('div.group', { style: { alignSelf: 'center' } }, queueEl)),
    gallery.element);

  ws.subscribe(project.id);
  await gallery.load().catch(() => {});

  let pollTimer = null;
  const poll = () => {
    // Fallback when the WebSocket is down: re-read while work is pending.
    if (ws.wsState() !== 'open' && (queue.queued || queue.processing)) { gallery.load().catch(() => {}); refreshQueue(); }
  };
  pollTimer = setInterval(poll, 4000);
  let reloadSoon = null;
  const offs = [
    ws.on('segmentation-update', (d) => {
      if (d.projectId !== project.id) return;
      if (!gallery.updateStatus(d.imageId, d.status, d.error) && !reloadSoon) {
        reloadSoon = setTimeout(() => { reloadSoon = null; gallery.load().catch(() => {}); }, 1500);
      }
    }),
    ws.on('queueStats', (d) => {
      if (d.projectId !== project.id) return;
      queue.queued = d.queued; queue.processing = d.processing;
      showQueue();
      if (!d.queued && !d.processing) refreshQueue();
    }),
    ws.on('reconnected', () => { gallery.load().catch(() => {}); refreshQueue(); }),
  ];
  return () => {
    clearInterval(pollTimer);
    clearTimeout(reloadSoon);
    offs.forEach((f) => f());
    ws.unsubscribe(project.id);
  };
}
