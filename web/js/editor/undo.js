// Undo/redo of whole-document snapshots. Polygons are immutable objects, so a snapshot is just
// the array of references (structural sharing): cheap even with hundreds of polygons.
export class UndoStack {
  constructor(limit = 300) {
    this.limit = limit;
    this.past = [];
    this.future = [];
  }

  // Remember `snapshot` (the state before an edit); a new edit drops the redo history.
  push(snapshot) {
    this.past.push(snapshot);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  get canUndo() { return this.past.length > 0; }
  get canRedo() { return this.future.length > 0; }

  undo(current) {
    if (!this.past.length) return null;
    this.future.push(current);
    return this.past.pop();
  }

  redo(current) {
    if (!this.future.length) return null;
    this.past.push(current);
    return this.future.pop();
  }

  clear() { this.past = []; this.future = []; }
}
