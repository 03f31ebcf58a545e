// The document being edited: immutable polygons (every edit makes new objects and a new
// array), selection, the vertex being dragged, the polygon being drawn, undo/redo, dirty flag.
import { UndoStack } from './undo.js';
import { bbox, area } from './geometry.js';

export class EditorState {
  constructor(polygons = [], version = 0) {
    this.polygons = polygons.map(freeze);
    this.saved = this.polygons;     // identity of the last saved/loaded array
    this.version = version;
    this.selectedId = null;         // id of the selected external polygon
    this.vertex = null;             // {id, index}: selected vertex (of the selected group)
    this.drag = null;               // {id, index, x, y}: vertex being dragged (preview)
    this.draft = null;              // [{x,y}]: polygon being drawn
    this.undoStack = new UndoStack();
    this.listeners = new Set();
  }

  onChange(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  emit(kind) { this.listeners.forEach((fn) => fn(kind)); }

  get dirty() { return this.polygons !== this.saved; }

  byId(id) { return this.polygons.find((p) => p.id === id) || null; }
  holesOf(id) { return this.polygons.filter((p) => p.type === 'internal' && p.parent_id === id); }
  externals() { return this.polygons.filter((p) => p.type !== 'internal'); }
  // The external polygon plus its holes: the rings that form one object.
  group(id) { const p = this.byId(id); return p ? [p, ...this.holesOf(id)] : []; }

  commit(next, kind = 'edit') {
    this.undoStack.push(this.polygons);
    this.polygons = next;
    this.emit(kind);
  }

  markSaved(version) {
    this.saved = this.polygons;
    this.version = version;
    this.emit('saved');
  }

  replaceAll(polygons, version) {
    this.polygons = polygons.map(freeze);
    this.saved = this.polygons;
    this.version = version;
    this.selectedId = null;
    this.vertex = null;
    this.undoStack.clear();
    this.emit('load');
  }

  select(id) {
    const p = id === null ? null : this.byId(id);
    const ext = p && p.type === 'internal' ? p.parent_id : id;
    if (ext === this.selectedId) return;
    this.selectedId = ext;
    this.vertex = null;
    this.emit('select');
  }

  selectVertex(id, index) { this.vertex = id === null ? null : { id, index }; this.emit('select'); }

  setPoints(id, points) {
    return this.polygons.map((p) => (p.id === id ? freeze({ ...p, points, area: area(points) }) : p));
  }

  moveVertex(id, index, x, y) {
    const p = this.byId(id);
    if (!p) return;
    const points = p.points.slice();
    points[index] = { x, y };
    this.commit(this.setPoints(id, points));
  }

  insertVertex(id, afterIndex, x, y) {
    const p = this.byId(id);
    if (!p) return;
    const points = p.points.slice();
    points.splice(afterIndex + 1, 0, { x, y });
    this.commit(this.setPoints(id, points));
    this.vertex = { id, index: afterIndex + 1 };
    this.emit('select');
  }

  // Deletes the selected vertex (a ring keeps >= 3 points). Returns false when refused.
  deleteVertex() {
    const v = this.vertex;
    const p = v && this.byId(v.id);
    if (!p || p.points.length <= 3) return false;
    const points = p.points.filter((_, i) => i !== v.index);
    this.vertex = null;
    this.commit(this.setPoints(v.id, points));
    return true;
  }

  // Deletes the selected object (with its holes).
  deleteSelected() {
    const id = this.selectedId;
    if (id === null) return false;
    this.selectedId = null;
    this.vertex = null;
    this.commit(this.polygons.filter((p) => p.id !== id && !(p.type === 'internal' && p.parent_id === id)));
    return true;
  }

  addPolygon(points) {
    // The server wants integer ids (it rejects "polygon N: id must be an integer"): take the
    // next one after the largest in use.
    const id = this.polygons.reduce((m, q) => (Number.isInteger(q.id) && q.id > m ? q.id : m), 0) + 1;
    const p = freeze({ id, points, type: 'external', class: 'object', confidence: 1, area: area(points) });
    this.commit([...this.polygons, p]);
    this.selectedId = id;
    this.vertex = null;
    this.emit('select');
    return id;
  }

  undo() { this.swap(this.undoStack.undo(this.polygons)); }
  redo() { this.swap(this.undoStack.redo(this.polygons)); }
  swap(next) {
    if (!next) return;
    this.polygons = next;
    if (this.selectedId !== null && !this.byId(this.selectedId)) this.selectedId = null;
    if (this.vertex && (!this.byId(this.vertex.id) || this.byId(this.vertex.id).points.length <= this.vertex.index)) this.vertex = null;
    this.emit('edit');
  }

  // What the server needs (drops cached fields such as bbox).
  toJson() {
    return this.polygons.map((p) => {
      const { _bbox, metrics, ...rest } = p;
      return rest;
    });
  }
}

function freeze(p) {
  const q = { ...p, points: p.points.map((pt) => (Array.isArray(pt) ? { x: pt[0], y: pt[1] } : { x: pt.x, y: pt.y })) };
  Object.defineProperty(q, '_bbox', { value: bbox(q.points), enumerable: false });
  return q;
}
