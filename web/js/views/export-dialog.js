// Export dialog: formats, originals/overlays, µm per pixel; progress from polling
// GET /api/exports/{id} and the export:* WebSocket events; a download link when done.
import { api } from '../api.js';
import { h, openDialog } from '../ui.js';
import * as ws from '../ws.js';

const FORMATS = [
  ['coco', 'COCO JSON'], ['yolo', 'YOLO'], ['geojson', 'GeoJSON'], ['imagej', 'ImageJ ROI'],
  ['csv', 'Metrics CSV'], ['xlsx', 'Metrics Excel'], ['json', 'seghub JSON'],
];

export function exportDialog(project) {
  let offs = [];
  let poll = null;
  const stop = () => { offs.forEach((f) => f()); offs = []; clearInterval(poll); };
  return openDialog(`Export “${project.name}”`, (close) => {
    const boxes = FORMATS.map(([v, label]) => h('label.check', h('input', { type: 'checkbox', value: v,
      checked: v === 'coco' || v === 'csv', testid: `export-format-${v}` }), label));
    const originals = h('input', { type: 'checkbox', testid: 'export-originals' });
    const overlays = h('input', { type: 'checkbox', testid: 'export-overlays' });
    const umpx = h('input#ex-um', { type: 'number', min: 0, step: 'any', placeholder: 'pixels', style: { width: '120px' },
      value: localStorage.getItem(`seghub.umpx.${project.id}`) || '', testid: 'export-umpx' });
    const err = h('p.error-text', { role: 'alert', testid: 'export-error' });
    const bar = h('progress', { max: 1, value: 0, testid: 'export-progress' });
    const stage = h('span.small.muted', { testid: 'export-stage' });
    const link = h('a.btn.btn-primary', { hidden: true, testid: 'export-download', download: '' }, '⬇ Download ZIP');
    const progress = h('div', { hidden: true, style: { marginTop: '10px' } }, bar, h('div.row', stage, h('span.spacer'), link));
    const startBtn = h('button.btn.btn-primary', { type: 'submit', testid: 'export-start' }, 'Start export');
    const cancelBtn = h('button.btn', { type: 'button', hidden: true, testid: 'export-cancel' }, 'Cancel export');
    let exportId = null;
    let finished = false;

    function show(s) {
      if (!s || finished) return;
      if (typeof s.progress === 'number') bar.value = s.progress;
      const st = s.status || '';
      stage.textContent = [st, s.stage || s.message].filter(Boolean).join(' · ');
      if (st === 'done' || st === 'completed') {
        finished = true;
        bar.value = 1;
        stage.textContent = 'Done — your ZIP is ready.';
        link.href = `/api/exports/${exportId}/download`;
        link.hidden = false;
        cancelBtn.hidden = true;
        startBtn.disabled = false;
        startBtn.textContent = 'Export again';
        stop();
        link.focus();
      } else if (st === 'failed' || st === 'cancelled') {
        finished = true;
        err.textContent = st === 'failed' ? `Export failed: ${s.error || s.message || 'unknown error'}` : 'Export cancelled.';
        cancelBtn.hidden = true;
        startBtn.disabled = false;
        stop();
      }
    }

    async function refresh() {
      if (!exportId || finished) return;
      try { show(await api(`/api/exports/${exportId}`, { quiet: true })); } catch { /* next tick */ }
    }

    const form = h('form', { onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      const formats = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      if (!formats.length) { err.textContent = 'Choose at least one format.'; return; }
      const body = { formats, include_originals: originals.checked, include_overlays: overlays.checked };
      const s = parseFloat(umpx.value);
      if (s > 0) { body.um_per_px = s; localStorage.setItem(`seghub.umpx.${project.id}`, String(s)); }
      startBtn.disabled = true;
      try {
        const r = await api(`/api/projects/${project.id}/exports`, { method: 'POST', body, quiet: true });
        exportId = r.id;
        finished = false;
        link.hidden = true;
        progress.hidden = false;
        cancelBtn.hidden = false;
        stage.textContent = r.status || 'queued';
        const match = (d) => d && (d.jobId === exportId || d.id === exportId || d.exportId === exportId);
        offs.push(ws.on('export:progress', (d) => match(d) && show({ status: 'running', ...d })));
        offs.push(ws.on('export:completed', (d) => match(d) && refresh()));
        offs.push(ws.on('export:failed', (d) => match(d) && show({ status: 'failed', error: d.message })));
        offs.push(ws.on('export:cancelled', (d) => match(d) && show({ status: 'cancelled' })));
        poll = setInterval(refresh, 1000);
        refresh();
      } catch (ex) {
        startBtn.disabled = false;
        err.textContent = ex.status === 409 ? 'You already have an export running; wait for it to finish.' : ex.message;
      }
    } },
    h('fieldset', h('legend', 'Formats'), h('div.checks', boxes)),
    h('fieldset', h('legend', 'Include'),
      h('div.row', h('label.check', originals, 'Original images'), h('label.check', overlays, 'Overlay images (outlines drawn)'))),
    h('div.inline', h('label', { for: 'ex-um' }, 'µm per pixel (optional; metrics in µm)'), umpx),
    err, progress,
    h('div.buttons',
      cancelBtn,
      h('button.btn', { type: 'button', onclick: () => close() }, 'Close'),
      startBtn));
    cancelBtn.addEventListener('click', async () => {
      if (exportId) show(await api(`/api/exports/${exportId}/cancel`, { method: 'POST' }).catch(() => null));
    });
    return form;
  }, { testid: 'export-dialog' }).finally(stop);
}
