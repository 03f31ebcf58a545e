// Drop zone + per-file and total progress for the project page.
import { h, clear, fmtBytes, toast } from '../ui.js';
import { uploadFiles, isImageFile } from '../upload.js';
import { refreshSession } from '../api.js';

const MAX_BYTES = 20 * 1024 * 1024;

// Returns the panel element. `onUploaded(images)` runs after each finished batch.
export function uploadPanel(project, onUploaded) {
  const input = h('input', { type: 'file', multiple: true, accept: 'image/*,.tif,.tiff', hidden: true, testid: 'upload-input',
    onchange: () => { start([...input.files]); input.value = ''; } });
  const zone = h('div.dropzone', { tabindex: 0, role: 'button', testid: 'dropzone',
    'aria-label': 'Upload images: drop files here or press Enter to choose',
    onclick: () => input.click(),
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } },
    ondragover: (e) => { e.preventDefault(); zone.classList.add('over'); },
    ondragleave: () => zone.classList.remove('over'),
    ondrop: (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      start([...(e.dataTransfer.files || [])]);
    } },
  h('strong', 'Drop microscopy images here'), ' or click to choose (PNG, JPEG, TIFF, BMP, WebP; up to 20 MB each)', input);

  const panel = h('div.panel.upload-panel', { hidden: true, testid: 'upload-panel' });
  const wrap = h('div', zone, panel);

  async function start(all) {
    const files = all.filter(isImageFile);
    const skipped = all.filter((f) => !isImageFile(f));
    const tooBig = files.filter((f) => f.size > MAX_BYTES);
    const send = files.filter((f) => f.size <= MAX_BYTES);
    if (!send.length && !tooBig.length && !skipped.length) return;
    const totalBar = h('progress', { max: 1, value: 0, testid: 'upload-total-progress' });
    const totalText = h('span.small.muted', { testid: 'upload-total-text' });
    const list = h('ul.upload-list', { testid: 'upload-list' });
    const failedList = h('ul.upload-list', { testid: 'upload-failed' });
    const rows = new Map();
    for (const f of send) {
      const bar = h('progress', { max: 1, value: 0 });
      const st = h('span.small.muted', 'waiting');
      const li = h('li', { testid: 'upload-item' }, h('span.name', f.name), bar, st);
      rows.set(f, { li, bar, st });
      list.append(li);
    }
    const fail = (name, error) => failedList.append(h('li.failed', { testid: 'upload-failed-item' }, `✕ ${name}: ${error}`));
    skipped.forEach((f) => fail(f.name, 'not an image file this server accepts'));
    tooBig.forEach((f) => fail(f.name, `too large (${fmtBytes(f.size)}; the limit is 20 MB)`));
    const title = h('strong', `Uploading ${send.length} file${send.length === 1 ? '' : 's'}…`);
    const hide = h('button.btn.btn-small.btn-quiet', { type: 'button', hidden: true, testid: 'upload-hide',
      onclick: () => { panel.hidden = true; } }, 'Hide');
    clear(panel, h('div.row', title, h('span.spacer'), totalText, hide), totalBar, list, failedList);
    panel.hidden = false;
    if (!send.length) { title.textContent = 'Nothing uploaded'; return; }
    const totalBytes = send.reduce((s, f) => s + f.size, 0);
    const res = await uploadFiles(project.id, project.name, send, (ev) => {
      const row = ev.file && rows.get(ev.file);
      if (ev.type === 'progress' && row) {
        row.bar.value = ev.fraction;
        if (row.st.textContent === 'waiting' || ev.fraction < 1) row.st.textContent = `${Math.round(ev.fraction * 100)} %`;
      } else if (ev.type === 'total') {
        totalBar.value = ev.loaded / ev.total;
        totalText.textContent = `${fmtBytes(ev.loaded)} of ${fmtBytes(totalBytes)} · ${Math.round((ev.loaded / ev.total) * 100)} %`;
      } else if (ev.type === 'done' && row) {
        row.bar.value = 1;
        row.st.textContent = '✓ done';
        row.li.dataset.state = 'done';
      } else if (ev.type === 'failed' && row) {
        row.li.remove();
        fail(ev.file.name, ev.error);
      }
    }, { refreshAuth: refreshSession });
    const nFail = res.failed.length + tooBig.length + skipped.length;
    title.textContent = `Uploaded ${res.images.length} of ${all.length} file${all.length === 1 ? '' : 's'}` +
      (nFail ? ` — ${nFail} failed (listed below)` : '');
    panel.dataset.state = 'finished';
    hide.hidden = false;
    toast(nFail ? `${nFail} file(s) failed to upload` : `${res.images.length} image(s) uploaded`, nFail ? 'error' : 'ok');
    onUploaded(res.images);
  }

  return wrap;
}
