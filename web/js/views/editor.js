// Image viewer/editor page: canvas with the polygons, toolbar, save (with conflict handling),
// dirty indicator and leave warnings, metrics table.
import { api, ApiError } from '../api.js';
import { h, toast, openDialog } from '../ui.js';
import { setLeaveGuard } from '../router.js';
import { EditorState } from '../editor/state.js';
import { Renderer } from '../editor/renderer.js';
import { attachInteraction } from '../editor/interaction.js';
import { metricsTable } from '../editor/metrics-table.js';

async function loadBitmap(imageId) {
  const res = await fetch(`/api/images/${imageId}/preview`, { credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  const blob = await res.blob();
  if (window.createImageBitmap) {
    try { return await createImageBitmap(blob); } catch { /* fall back to <img> */ }
  }
  const img = new Image();
  img.src = URL.createObjectURL(blob);
  await img.decode();
  return img;
}

async function loadSegmentation(imageId) {
  try {
    return await api(`/api/images/${imageId}/segmentation`, { quiet: true });
  } catch (e) {
    if (e.status === 404) return null;   // not segmented yet: start empty
    throw e;
  }
}

export async function editorView(root, { id }) {
  root.className = 'full';
  let image;
  let seg;
  try {
    [image, seg] = await Promise.all([api(`/api/images/${id}`), loadSegmentation(id)]);
  } catch (e) {
    root.append(h('div.empty.panel', { style: { margin: '20px' } }, h('p', e.message), h('a.btn', { href: '#/projects' }, 'Back to projects')));
    return undefined;
  }
  // Viewers may look but not edit: the server refuses their saves (403), so the editor says so
  // up front and does not let them make changes they could not keep.
  const project = await api(`/api/projects/${image.project_id}`, { quiet: true }).catch(() => null);
  const readOnly = !!(project && project.role === 'viewer');
  const state = new EditorState(seg ? seg.polygons || [] : [], seg ? seg.version : 0);
  const canvas = h('canvas', { tabindex: 0, testid: 'editor-canvas', 'aria-label': `Image ${image.name} with ${state.externals().length} outlined objects. Use the toolbar or keyboard shortcuts to edit.` });
  const hint = h('div.canvas-hint', { testid: 'editor-hint' }, 'Loading image…');
  const dirtyEl = h('span', { testid: 'dirty-indicator', 'aria-live': 'polite' });
  const versionEl = h('span.muted.small', { testid: 'seg-version' });
  const renderer = new Renderer(canvas, state);
  window.__seghubEditor = { state, renderer };   // for tests and debugging
  let saving = false;

  function refreshDirty() {
    dirtyEl.className = state.dirty ? 'dirty' : 'saved';
    dirtyEl.textContent = state.dirty ? '● Unsaved changes' : (state.version ? '✓ Saved' : '');
    dirtyEl.dataset.dirty = String(state.dirty);
    versionEl.textContent = state.version ? `version ${state.version}${seg && seg.model ? ` · ${seg.model}` : ''}` : 'not segmented yet';
    undoBtn.disabled = readOnly || !state.undoStack.canUndo;
    redoBtn.disabled = readOnly || !state.undoStack.canRedo;
    saveBtn.disabled = readOnly || !state.dirty || saving;
    delBtn.disabled = readOnly || state.selectedId === null;
    drawBtn.disabled = readOnly;
  }

  async function save({ overwrite = false } = {}) {
    if (readOnly) { toast('You have view access to this project: edits cannot be saved. Ask the owner for editor access.', 'error', 6000); return; }
    if (saving || (!state.dirty && !overwrite)) return;
    saving = true;
    refreshDirty();
    const polygons = state.polygons;
    try {
      let base = state.version;
      if (overwrite) {
        const latest = await api(`/api/images/${id}/segmentation`, { quiet: true }).catch(() => null);
        base = latest ? latest.version : base;
      }
      const r = await api(`/api/images/${id}/segmentation`, { method: 'PUT', body: { polygons: state.toJson(), base_version: base }, quiet: true });
      seg = r;
      if (state.polygons === polygons) state.markSaved(r.version);
      else { state.saved = polygons; state.version = r.version; }
      toast(`Saved (version ${r.version})`, 'ok', 2500);
    } catch (e) {
      if (e.status === 409) conflict();
      else if (e.status === 403) toast('You no longer have permission to edit this project, so your changes were not saved.', 'error', 8000);
      else toast(`Could not save: ${e.message}`, 'error', 8000);
    } finally {
      saving = false;
      refreshDirty();
    }
  }

  async function reload() {
    const fresh = await loadSegmentation(id);
    seg = fresh;
    state.replaceAll(fresh ? fresh.polygons || [] : [], fresh ? fresh.version : 0);
  }

  async function conflict() {
    const choice = await openDialog('Someone else saved this image', (close) => [
      h('p', 'Another user (or another tab) saved a newer version of these outlines while you were editing. ',
        'Reload to see their version (your unsaved changes are discarded), or overwrite it with yours.'),
      h('div.buttons',
        h('button.btn', { type: 'button', onclick: () => close('keep') }, 'Keep editing'),
        h('button.btn.btn-danger', { type: 'button', onclick: () => close('overwrite'), testid: 'conflict-overwrite' }, 'Overwrite with mine'),
        h('button.btn.btn-primary', { type: 'button', onclick: () => close('reload'), testid: 'conflict-reload' }, 'Reload their version')),
    ], { testid: 'conflict-dialog' });
    if (choice === 'reload') await reload();
    else if (choice === 'overwrite') await save({ overwrite: true });
  }

  const btn = (label, title, onclick, testid) => h('button.btn.btn-small', { type: 'button', title, 'aria-label': title, onclick, testid }, label);
  const undoBtn = btn('↶', 'Undo (Ctrl+Z)', () => state.undo(), 'undo');
  const redoBtn = btn('↷', 'Redo (Ctrl+Shift+Z or Ctrl+Y)', () => state.redo(), 'redo');
  const delBtn = btn('Delete', 'Delete the selected object (Delete)', () => state.deleteSelected(), 'delete-polygon');
  const drawBtn = btn('✎ Draw', 'Draw a new object (N)', () => interaction.startDrawing(), 'draw');
  const saveBtn = h('button.btn.btn-primary.btn-small', { type: 'button', title: readOnly ? 'Read-only: you are a viewer of this project' : 'Save (Ctrl+S)',
    onclick: () => save(), testid: 'save' }, 'Save');
  const readOnlyNotice = readOnly ? h('span.badge.readonly', { testid: 'readonly-notice', role: 'status',
    title: 'You are a viewer of this project: you can look at the outlines and export them, but not change them.' }, 'Read-only · viewer') : null;
  const toggle = h('input', { type: 'checkbox', checked: true, testid: 'toggle-polygons',
    onchange: () => { renderer.showPolygons = toggle.checked; renderer.requestDraw(); } });
  const back = `#/projects/${image.project_id}`;

  const side = h('aside.editor-side', { 'aria-label': 'Objects and metrics' },
    h('div.section', h('h2', { style: { margin: 0 } }, 'Objects'),
      h('div.keys', h('kbd', 'Click'), ' select · ', h('kbd', 'Drag'), ' vertex or pan · ', h('kbd', 'Dbl-click'), ' edge adds vertex · ',
        h('kbd', 'Del'), ' vertex/object · ', h('kbd', 'N'), ' draw, ', h('kbd', 'Enter'), '/', h('kbd', 'Esc'), ' · ',
        h('kbd', 'Space'), '+drag pan · ', h('kbd', 'Wheel'), ' zoom · ', h('kbd', 'F'), ' fit · ',
        h('kbd', 'Ctrl+Z'), '/', h('kbd', 'Ctrl+Y'), ' · ', h('kbd', 'Ctrl+S'), ' save')),
    metricsTable(state, { imageId: id, onPick: (pid) => { state.select(pid); } }));

  root.append(h('div.editor',
    h('div.editor-main',
      h('div.editor-bar',
        h('a.btn.btn-small.btn-quiet', { href: back, testid: 'editor-back' }, '‹ Gallery'),
        h('div.title-block', h('div.title', { title: image.name, testid: 'editor-title' }, image.name), versionEl),
        h('span.spacer'),
        readOnlyNotice,
        drawBtn, delBtn, undoBtn, redoBtn,
        btn('Fit', 'Fit the image (F)', () => renderer.fit(), 'fit'),
        h('label.check', toggle, 'Outlines'),
        dirtyEl, saveBtn),
      h('div.canvas-wrap', canvas, hint)),
    side));

  const interaction = attachInteraction(canvas, state, renderer, {
    readOnly,
    onSave: () => save(),
    onStatus: (msg) => { hint.textContent = msg || defaultHint(); },
  });
  const defaultHint = () => `${image.width}×${image.height} px · ${state.externals().length} object${state.externals().length === 1 ? '' : 's'}${readOnly ? ' · read-only (viewer)' : ''}`;
  const offState = state.onChange(() => { renderer.requestDraw(); refreshDirty(); });
  refreshDirty();

  const beforeUnload = (e) => { if (state.dirty) { e.preventDefault(); e.returnValue = ''; } };
  window.addEventListener('beforeunload', beforeUnload);
  setLeaveGuard(() => !state.dirty || window.confirm('You have unsaved changes to these outlines. Leave without saving?'));

  loadBitmap(id).then((bmp) => {
    renderer.setImage(bmp, bmp.width || image.width, bmp.height || image.height);
    hint.textContent = defaultHint();
    canvas.dataset.ready = 'true';
  }).catch((e) => {
    hint.textContent = `Could not load the image: ${e.message}`;
    renderer.setImage(null, image.width || 1000, image.height || 1000);
    canvas.dataset.ready = 'true';
  });
  canvas.focus();

  return () => {
    offState();
    interaction.detach();
    renderer.destroy();
    window.removeEventListener('beforeunload', beforeUnload);
    if (window.__seghubEditor && window.__seghubEditor.state === state) delete window.__seghubEditor;
  };
}
