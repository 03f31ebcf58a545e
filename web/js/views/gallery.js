// Image gallery of a project: thumbnails, live status badges, selection, paging.
import { api } from '../api.js';
import { h, clear } from '../ui.js';

const STATUS_LABEL = { new: 'not segmented', queued: 'queued', processing: 'processing', done: 'done', failed: 'failed', cancelled: 'cancelled' };

export function createGallery(projectId, { onSelectionChange, perPage = 30, actions = [] } = {}) {
  const grid = h('div.gallery', { testid: 'gallery' });
  const pager = h('div.pager', { testid: 'gallery-pager' });
  const summary = h('span.muted.small', { testid: 'gallery-summary' });
  const tiles = new Map();       // image id -> {tile, image}
  const selected = new Set();
  const state = { page: 1, sort: 'name', order: 'asc', status: '', total: 0 };
  let loadSeq = 0;

  function badge(image) {
    const s = image.status || 'new';
    return h('span', { class: `badge ${s}`, testid: 'status-badge', dataset: { status: s } }, STATUS_LABEL[s] || s);
  }

  function metaLine(image) {
    const seg = image.segmentation;
    return h('div.meta',
      h('div.name', { title: image.name }, image.name),
      h('div.row', { style: { gap: '6px' } }, badge(image),
        seg && image.status === 'done' ? h('span.muted', { testid: 'polygon-count' }, `${seg.polygon_count} objects`) : null),
      image.status === 'failed' && image.error ? h('div.err', { title: image.error }, image.error) : null);
  }

  function tileFor(image) {
    const check = h('input.sel', { type: 'checkbox', checked: selected.has(image.id), 'aria-label': `Select ${image.name}`,
      testid: 'select-image', onchange: () => {
        if (check.checked) selected.add(image.id); else selected.delete(image.id);
        tile.classList.toggle('selected', check.checked);
        onSelectionChange && onSelectionChange(selected);
      } });
    const meta = metaLine(image);
    const tile = h('div.tile', { class: selected.has(image.id) ? 'tile selected' : 'tile', testid: 'image-tile', dataset: { id: image.id, name: image.name } },
      h('a.thumb', { href: `#/images/${image.id}`, title: `Open ${image.name} in the editor`, testid: 'open-image' },
        h('img', { src: `/api/images/${image.id}/thumbnail`, alt: image.name, loading: 'lazy', decoding: 'async' })),
      check, meta);
    tiles.set(image.id, { tile, image, meta });
    return tile;
  }

  async function load() {
    const seq = ++loadSeq;
    const r = await api(`/api/projects/${projectId}/images`, { query: {
      page: state.page, per_page: perPage, sort: state.sort, order: state.order, status: state.status } });
    if (seq !== loadSeq) return;
    state.total = r.total || 0;
    tiles.clear();
    clear(grid, r.images.length ? r.images.map(tileFor)
      : h('div.empty', { style: { gridColumn: '1 / -1' } }, state.status ? 'No images with this status.' : 'No images yet — drop some above.'));
    const pages = Math.max(1, Math.ceil(state.total / perPage));
    if (state.page > pages) { state.page = pages; return load(); }
    summary.textContent = `${state.total} image${state.total === 1 ? '' : 's'}`;
    clear(pager, pages > 1 ? [
      h('button.btn.btn-small', { type: 'button', disabled: state.page <= 1, testid: 'page-prev', onclick: () => { state.page--; load(); } }, '‹ Previous'),
      h('span.muted', `Page ${state.page} of ${pages}`),
      h('button.btn.btn-small', { type: 'button', disabled: state.page >= pages, testid: 'page-next', onclick: () => { state.page++; load(); } }, 'Next ›'),
    ] : []);
  }

  // Live status from segmentation-update; fetch the image when done (polygon count).
  function updateStatus(imageId, status, error) {
    const t = tiles.get(imageId);
    if (!t) return false;
    t.image = { ...t.image, status, error };
    const meta = metaLine(t.image);
    t.meta.replaceWith(meta);
    t.meta = meta;
    if (status === 'done') {
      api(`/api/images/${imageId}`, { quiet: true }).then((img) => {
        const cur = tiles.get(imageId);
        if (!cur) return;
        cur.image = img;
        const m = metaLine(img);
        cur.meta.replaceWith(m);
        cur.meta = m;
      }).catch(() => {});
    }
    return true;
  }

  const sortSel = h('select', { 'aria-label': 'Sort images', testid: 'gallery-sort', onchange: () => {
    [state.sort, state.order] = sortSel.value.split(':'); state.page = 1; load(); } },
  h('option', { value: 'name:asc' }, 'Name A–Z'), h('option', { value: 'created_at:desc' }, 'Newest first'),
  h('option', { value: 'created_at:asc' }, 'Oldest first'), h('option', { value: 'status:asc' }, 'Status'));
  const statusSel = h('select', { 'aria-label': 'Filter by status', testid: 'gallery-filter', onchange: () => {
    state.status = statusSel.value; state.page = 1; load(); } },
  h('option', { value: '' }, 'All statuses'), ...Object.keys(STATUS_LABEL).map((s) => h('option', { value: s }, STATUS_LABEL[s])));
  const selectAll = h('button.btn.btn-small', { type: 'button', testid: 'select-all', onclick: () => {
    const all = [...tiles.keys()].every((id) => selected.has(id));
    for (const [id, t] of tiles) {
      if (all) selected.delete(id); else selected.add(id);
      t.tile.classList.toggle('selected', !all);
      t.tile.querySelector('input.sel').checked = !all;
    }
    onSelectionChange && onSelectionChange(selected);
  } }, 'Select page');
  const head = h('div.row', { style: { marginBottom: '10px' } }, h('h2', { style: { margin: 0 } }, 'Images'), summary,
    h('span.spacer'), ...actions, selectAll, statusSel, sortSel);

  return {
    element: h('section', { 'aria-label': 'Images' }, head, grid, pager),
    load, updateStatus, selected,
    clearSelection() { selected.clear(); onSelectionChange && onSelectionChange(selected); },
    get images() { return [...tiles.values()].map((t) => t.image); },
  };
}
