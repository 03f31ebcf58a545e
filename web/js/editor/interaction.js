// Mouse and keyboard for the editor canvas: select (click), drag vertices, add a vertex
// (double-click an edge), delete (Delete/Backspace), draw (N, clicks, Enter/Esc), pan (drag,
// space+drag, middle button), zoom (wheel around the cursor), undo/redo, save.
import { pointInRing, segmentDistance2 } from './geometry.js';

const HIT_PX = 8;
const DRAG_PX = 4;

export function attachInteraction(canvas, state, renderer, { onSave, onStatus, readOnly = false } = {}) {
  let mode = 'idle';        // idle | pending | pan | vertex | draw
  let start = null;         // {sx, sy, tx, ty}
  let spaceHeld = false;
  let drawing = false;

  const local = (e) => { const r = canvas.getBoundingClientRect(); return { sx: e.clientX - r.left, sy: e.clientY - r.top }; };
  const tol = () => HIT_PX / renderer.scale;

  function objectAt(x, y) {
    let best = null;
    let bestArea = Infinity;
    for (const p of state.externals()) {
      const b = p._bbox;
      if (x < b.x0 || x > b.x1 || y < b.y0 || y > b.y1) continue;
      if (!pointInRing(x, y, p.points)) continue;
      if (state.holesOf(p.id).some((h) => pointInRing(x, y, h.points))) continue;
      const a = (b.x1 - b.x0) * (b.y1 - b.y0);
      if (a < bestArea) { bestArea = a; best = p; }
    }
    return best;
  }

  function vertexAt(x, y) {
    if (state.selectedId === null) return null;
    const t2 = tol() ** 2;
    let best = null;
    for (const poly of state.group(state.selectedId)) {
      poly.points.forEach((p, index) => {
        const d = (p.x - x) ** 2 + (p.y - y) ** 2;
        if (d <= t2 && (!best || d < best.d)) best = { id: poly.id, index, d };
      });
    }
    return best;
  }

  function edgeAt(x, y, polys) {
    const t2 = tol() ** 2;
    let best = null;
    for (const poly of polys) {
      const b = poly._bbox;
      if (x < b.x0 - tol() || x > b.x1 + tol() || y < b.y0 - tol() || y > b.y1 + tol()) continue;
      const pts = poly.points;
      for (let i = 0; i < pts.length; i++) {
        const r = segmentDistance2(x, y, pts[i], pts[(i + 1) % pts.length]);
        if (r.d2 <= t2 && (!best || r.d2 < best.d2)) best = { id: poly.id, index: i, ...r };
      }
    }
    return best;
  }

  const selectedPolys = () => (state.selectedId === null ? [] : state.group(state.selectedId));

  function setDrawing(on) {
    drawing = on;
    state.draft = on ? [] : null;
    canvas.classList.toggle('drawing', on);
    onStatus && onStatus(on ? 'Drawing: click to add points, Enter to finish, Esc to cancel' : '');
    renderer.requestDraw();
  }

  function finishDraft() {
    if (!drawing) return;
    const pts = state.draft || [];
    setDrawing(false);
    if (pts.length >= 3) {
      state.addPolygon(pts);
      onStatus && onStatus('');   // the default hint again, now counting the new object
    } else onStatus && onStatus('A polygon needs at least 3 points');
  }

  function onPointerDown(e) {
    if (e.button !== 0 && e.button !== 1) return;
    canvas.focus();
    const { sx, sy } = local(e);
    const p = renderer.toImage(sx, sy);
    start = { sx, sy, tx: renderer.tx, ty: renderer.ty };
    canvas.setPointerCapture(e.pointerId);
    if (e.button === 1 || spaceHeld) { mode = 'pan'; canvas.classList.add('panning'); return; }
    if (drawing) {
      const pts = state.draft;
      if (pts.length >= 3) {
        const f = renderer.toScreen(pts[0].x, pts[0].y);
        if (Math.hypot(f.x - sx, f.y - sy) <= HIT_PX) { finishDraft(); mode = 'idle'; return; }
      }
      pts.push({ x: p.x, y: p.y });
      renderer.requestDraw();
      mode = 'idle';
      return;
    }
    const v = readOnly ? null : vertexAt(p.x, p.y);
    if (v) {
      state.selectVertex(v.id, v.index);
      const pt = state.byId(v.id).points[v.index];
      state.drag = { id: v.id, index: v.index, x: pt.x, y: pt.y, moved: false };
      mode = 'vertex';
      return;
    }
    mode = 'pending';
  }

  function onPointerMove(e) {
    const { sx, sy } = local(e);
    if (drawing) { renderer.cursor = renderer.toImage(sx, sy); renderer.requestDraw(); }
    if (!start) return;
    if (mode === 'pending' && Math.hypot(sx - start.sx, sy - start.sy) > DRAG_PX) { mode = 'pan'; canvas.classList.add('panning'); }
    if (mode === 'pan') {
      renderer.tx = start.tx + (sx - start.sx);
      renderer.ty = start.ty + (sy - start.sy);
      renderer.requestDraw();
    } else if (mode === 'vertex') {
      const p = renderer.toImage(sx, sy);
      state.drag.x = Math.max(0, Math.min(renderer.width, p.x));
      state.drag.y = Math.max(0, Math.min(renderer.height, p.y));
      state.drag.moved = true;
      renderer.requestDraw();
    }
  }

  function onPointerUp(e) {
    const { sx, sy } = local(e);
    if (mode === 'vertex') {
      const d = state.drag;
      state.drag = null;
      if (d.moved) state.moveVertex(d.id, d.index, d.x, d.y);
      else renderer.requestDraw();
    } else if (mode === 'pending') {
      const p = renderer.toImage(sx, sy);
      // A click on the selected object's outline keeps it (double-click adds a vertex there).
      if (!edgeAt(p.x, p.y, selectedPolys())) {
        const hit = objectAt(p.x, p.y);
        state.select(hit ? hit.id : null);
      }
    }
    mode = 'idle';
    start = null;
    canvas.classList.remove('panning');
  }

  function onDblClick(e) {
    if (drawing || readOnly) return;
    const { sx, sy } = local(e);
    const p = renderer.toImage(sx, sy);
    const sel = selectedPolys();
    const hit = edgeAt(p.x, p.y, sel.length ? sel : state.polygons);
    if (!hit) return;
    if (!sel.length) state.select(hit.id);
    state.insertVertex(hit.id, hit.index, hit.x, hit.y);
  }

  function onWheel(e) {
    e.preventDefault();
    const { sx, sy } = local(e);
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    renderer.zoomAt(sx, sy, Math.exp(-dy * 0.0015));
  }

  function onKeyDown(e) {
    const t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    if (document.querySelector('dialog[open]')) return;
    const mod = e.ctrlKey || e.metaKey;
    const k = e.key.toLowerCase();
    if (mod && k === 's') { e.preventDefault(); onSave && onSave(); return; }
    if (readOnly && mod && (k === 'z' || k === 'y')) { e.preventDefault(); return; }
    if (mod && ((k === 'z' && e.shiftKey) || k === 'y')) { e.preventDefault(); state.redo(); return; }
    if (mod && k === 'z') { e.preventDefault(); state.undo(); return; }
    if (mod) return;
    if (e.key === ' ') { if (!spaceHeld) { spaceHeld = true; canvas.style.cursor = 'grab'; } e.preventDefault(); return; }
    if (k === 'n') { e.preventDefault(); if (!readOnly) setDrawing(true); return; }
    if (e.key === 'Enter' && drawing) { e.preventDefault(); finishDraft(); return; }
    if (e.key === 'Escape') {
      if (drawing) setDrawing(false);
      else state.select(null);
      return;
    }
    if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      if (readOnly) return;
      if (drawing) { state.draft.pop(); renderer.requestDraw(); return; }
      if (state.vertex) {
        if (!state.deleteVertex()) onStatus && onStatus('A polygon keeps at least 3 points — delete the polygon instead');
      } else state.deleteSelected();
      return;
    }
    if (k === 'f' || k === '0') { renderer.fit(); return; }
    if (e.key === '+' || e.key === '=') { renderer.zoomAt(canvas.clientWidth / 2, canvas.clientHeight / 2, 1.25); return; }
    if (e.key === '-') { renderer.zoomAt(canvas.clientWidth / 2, canvas.clientHeight / 2, 0.8); }
  }

  function onKeyUp(e) {
    if (e.key === ' ') { spaceHeld = false; canvas.style.cursor = ''; }
  }

  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerUp);
  canvas.addEventListener('dblclick', onDblClick);
  canvas.addEventListener('wheel', onWheel, { passive: false });
  window.addEventListener('keydown', onKeyDown);
  window.addEventListener('keyup', onKeyUp);
  return {
    startDrawing: () => { if (!readOnly) setDrawing(true); },
    finishDrawing: finishDraft,
    detach() {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('keyup', onKeyUp);
    },
  };
}
