// Small DOM helpers shared by the views: element builder, toasts, dialogs, formatting.

// h('div.cls#id', {attrs}, ...children): builds an element. `on*` attrs become listeners,
// `dataset`/`style` objects are merged, null/false children are skipped.
export function h(tag, attrs = {}, ...children) {
  const [, name = 'div', rest = ''] = /^([a-z0-9-]*)(.*)$/i.exec(tag);
  const el = document.createElement(name || 'div');
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs === null || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'testid') el.dataset.testid = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function toast(message, kind = 'info', ms = 5000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div.toast', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  box.append(t);
  setTimeout(() => t.remove(), ms);
}

// Opens a modal <dialog> with the given body; resolves with the value passed to close(v)
// (undefined on Esc). `build(close)` returns the content nodes.
export function openDialog(title, build, { testid } = {}) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { testid, 'aria-labelledby': 'dlg-title' });
    let result;
    const close = (v) => { result = v; dlg.close(); };
    dlg.append(h('h2#dlg-title', title), ...[].concat(build(close)));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export async function confirmDialog(title, message, { ok = 'OK', danger = false, cancel = 'Cancel' } = {}) {
  const v = await openDialog(title, (close) => [
    h('p', message),
    h('div.buttons',
      h('button.btn', { type: 'button', onclick: () => close(false), testid: 'confirm-cancel' }, cancel),
      h('button.btn', { type: 'button', class: danger ? 'btn btn-danger' : 'btn btn-primary',
        onclick: () => close(true), testid: 'confirm-ok' }, ok)),
  ], { testid: 'confirm-dialog' });
  return v === true;
}

export async function promptDialog(title, label, value = '') {
  return openDialog(title, (close) => {
    const input = h('input', { type: 'text', value, 'aria-label': label, testid: 'prompt-input' });
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); close(input.value.trim()); } },
      h('div.field', h('label', label), input),
      h('div.buttons',
        h('button.btn', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
        h('button.btn.btn-primary', { type: 'submit', testid: 'prompt-ok' }, 'OK')));
    setTimeout(() => input.select(), 0);
    return form;
  }, { testid: 'prompt-dialog' });
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function fmtNum(v, digits = 2) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0)) return v.toExponential(digits);
  return v.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function fmtDate(s) {
  if (!s) return '';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString();
}

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}
