// Metrics table of the objects in the editor (area, perimeter, … from the current geometry),
// scaled by a µm-per-pixel factor: lengths × s, areas × s².
import { h, clear, fmtNum } from '../ui.js';
import { objectMetrics } from './geometry.js';

export function metricsTable(state, { imageId, onPick }) {
  const key = `seghub.umpx.image.${imageId}`;
  const scaleInput = h('input#umpx', { type: 'number', min: 0, step: 'any', placeholder: '1 (pixels)', style: { width: '110px' },
    value: localStorage.getItem(key) || '', testid: 'umpx-input' });
  const tbody = h('tbody', { testid: 'metrics-body' });
  const headRow = h('tr');
  const summary = h('div.small.muted', { testid: 'metrics-summary' });
  const units = h('div.small.muted');
  const rows = new Map();
  let timer = null;

  function unit() {
    const s = parseFloat(scaleInput.value);
    return s > 0 ? { s, len: 'µm', area: 'µm²' } : { s: 1, len: 'px', area: 'px²' };
  }

  function render() {
    const u = unit();
    const th = (label, title) => h('th.num', { title }, label);
    clear(headRow, th('#', 'Object number'), th('Area', `Area in ${u.area} (holes subtracted)`), th('Perim.', `Perimeter in ${u.len}`),
      th('Ø eq.', `Equivalent diameter in ${u.len}`), th('Circ.', 'Circularity 4πA/P²'), th('Solid.', 'Solidity: area / convex hull area'),
      th('Feret', `Maximum Feret diameter in ${u.len}`));
    units.textContent = `Lengths in ${u.len}, areas in ${u.area}.`;
    rows.clear();
    let total = 0;
    const objects = state.externals();
    const trs = objects.map((p, i) => {
      const m = objectMetrics(p.points, state.holesOf(p.id).map((q) => q.points), u.s);
      total += m.area;
      const tr = h('tr', { testid: 'metrics-row', dataset: { id: String(p.id) }, class: p.id === state.selectedId ? 'selected' : '',
        style: { cursor: 'pointer' }, onclick: () => onPick(p.id) },
      h('td.num', { title: m.holes ? `${m.holes} hole(s)` : '' }, `${i + 1}${m.holes ? '°' : ''}`),
      h('td.num', fmtNum(m.area, 1)), h('td.num', fmtNum(m.perimeter, 1)), h('td.num', fmtNum(m.equivalentDiameter, 1)),
      h('td.num', fmtNum(m.circularity, 3)), h('td.num', fmtNum(m.solidity, 3)), h('td.num', fmtNum(m.feretMax, 1)));
      rows.set(p.id, tr);
      return tr;
    });
    clear(tbody, trs.length ? trs : h('tr', h('td.muted', { colspan: 7 }, 'No objects. Press N to draw one.')));
    summary.textContent = `${objects.length} object${objects.length === 1 ? '' : 's'} · total area ${fmtNum(total, 1)} ${u.area}` +
      (objects.length ? ` · mean ${fmtNum(total / objects.length, 1)} ${u.area}` : '');
  }

  function schedule() { clearTimeout(timer); timer = setTimeout(render, 120); }

  function highlight() {
    for (const [id, tr] of rows) tr.classList.toggle('selected', id === state.selectedId);
    const tr = rows.get(state.selectedId);
    if (tr) tr.scrollIntoView({ block: 'nearest' });
  }

  scaleInput.addEventListener('input', () => {
    const s = parseFloat(scaleInput.value);
    if (s > 0) localStorage.setItem(key, String(s)); else localStorage.removeItem(key);
    render();
  });
  state.onChange((kind) => (kind === 'select' ? highlight() : schedule()));
  render();

  return h('div', { style: { display: 'flex', flexDirection: 'column', minHeight: 0, flex: 1 } },
    h('div.section', h('div.inline', h('label', { for: 'umpx' }, 'µm per pixel'), scaleInput), summary, units),
    h('div.table-wrap', h('table', { testid: 'metrics-table' }, h('thead', headRow), tbody)));
}
