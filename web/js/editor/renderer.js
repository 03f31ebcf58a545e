// Canvas rendering of the image and the polygons with a pan/zoom viewport. One draw per
// animation frame at most; the image is drawn once per frame through the transform; polygon
// paths are cached (Path2D per polygon, one combined even-odd path for the unselected ones).

const STYLE = {
  fill: 'rgba(0, 214, 255, 0.18)', stroke: '#19d3ff',
  selFill: 'rgba(255, 210, 60, 0.22)', selStroke: '#ffc400',
  handle: '#ffffff', handleEdge: '#1b2733', handleSel: '#ff6a00', draft: '#7CFF6B',
};

export class Renderer {
  constructor(canvas, state) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.state = state;
    this.image = null;
    this.width = 1;
    this.height = 1;
    this.scale = 1;
    this.tx = 0;
    this.ty = 0;
    this.dpr = window.devicePixelRatio || 1;
    this.pending = false;
    this.paths = new WeakMap();     // polygon object -> Path2D
    this.combined = null;           // {polygons, selectedId, path}
    this.cursor = null;             // image coords, for the draft line
    this.frames = 0;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(canvas);
  }

  destroy() { this.resizeObserver.disconnect(); this.image = null; }

  setImage(image, width, height) {
    this.image = image;
    this.width = width;
    this.height = height;
    this.fit();
  }

  resize() {
    const r = this.canvas.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.max(1, Math.round(r.width * this.dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * this.dpr));
    if (!this.fitted) this.fit(); else this.requestDraw();
  }

  fit() {
    const r = this.canvas.getBoundingClientRect();
    if (!r.width || !r.height) return;
    this.fitted = true;
    this.scale = Math.min(r.width / this.width, r.height / this.height) * 0.96;
    this.tx = (r.width - this.width * this.scale) / 2;
    this.ty = (r.height - this.height * this.scale) / 2;
    this.requestDraw();
  }

  // Screen (CSS px relative to the canvas) <-> image pixels.
  toImage(sx, sy) { return { x: (sx - this.tx) / this.scale, y: (sy - this.ty) / this.scale }; }
  toScreen(x, y) { return { x: x * this.scale + this.tx, y: y * this.scale + this.ty }; }

  zoomAt(sx, sy, factor) {
    const s = Math.min(64, Math.max(0.02, this.scale * factor));
    const f = s / this.scale;
    this.tx = sx - (sx - this.tx) * f;
    this.ty = sy - (sy - this.ty) * f;
    this.scale = s;
    this.requestDraw();
  }

  panBy(dx, dy) { this.tx += dx; this.ty += dy; this.requestDraw(); }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  pathOf(poly) {
    let p = this.paths.get(poly);
    if (!p) {
      p = new Path2D();
      const pts = poly.points;
      if (pts.length) {
        p.moveTo(pts[0].x, pts[0].y);
        for (let i = 1; i < pts.length; i++) p.lineTo(pts[i].x, pts[i].y);
        p.closePath();
      }
      this.paths.set(poly, p);
    }
    return p;
  }

  // Paths of the unselected objects: one even-odd Path2D per object (outer ring + holes, so
  // overlapping objects do not cancel each other's fill), filled and stroked one at a time.
  // Rebuilt only when the polygons or the selection change.
  unselectedPaths() {
    const st = this.state;
    const c = this.combined;
    if (c && c.polygons === st.polygons && c.selectedId === st.selectedId) return c;
    const groups = new Map();
    for (const poly of st.polygons) {
      const owner = poly.type === 'internal' ? poly.parent_id : poly.id;
      if (st.selectedId !== null && owner === st.selectedId) continue;
      const path = this.pathOf(poly);
      let g = groups.get(owner);
      if (!g) { g = { path: new Path2D(), box: null }; groups.set(owner, g); }
      g.path.addPath(path);
      if (poly.type !== 'internal' || !g.box) g.box = poly._bbox;
    }
    this.combined = { polygons: st.polygons, selectedId: st.selectedId, groups: [...groups.values()] };
    return this.combined;
  }

  // The selected group's rings, with the dragged vertex moved.
  selectedRings() {
    const st = this.state;
    if (st.selectedId === null) return [];
    return st.group(st.selectedId).map((poly) => {
      if (st.drag && st.drag.id === poly.id) {
        const points = poly.points.slice();
        points[st.drag.index] = { x: st.drag.x, y: st.drag.y };
        return { poly, points };
      }
      return { poly, points: poly.points };
    });
  }

  draw() {
    const { ctx, dpr, scale } = this;
    this.frames++;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * this.tx, dpr * this.ty);
    if (this.image) {
      ctx.imageSmoothingEnabled = scale < 2;
      ctx.drawImage(this.image, 0, 0, this.width, this.height);
    }
    const lw = 1.5 / scale;
    if (this.showPolygons !== false) {
      const { groups } = this.unselectedPaths();
      // Only the objects in view (zoomed in, most are not).
      const r = this.canvas.getBoundingClientRect();
      const v0 = this.toImage(-4, -4);
      const v1 = this.toImage(r.width + 4, r.height + 4);
      const visible = groups.filter(({ box: b }) => !b || (b.x1 >= v0.x && b.x0 <= v1.x && b.y1 >= v0.y && b.y0 <= v1.y)).map((g) => g.path);
      ctx.fillStyle = STYLE.fill;
      for (const g of visible) ctx.fill(g, 'evenodd');
      ctx.lineWidth = lw;
      ctx.strokeStyle = STYLE.stroke;
      // One stroke per object, not one of a path holding every ring: Skia's stroker is
      // superlinear in the subpaths of one path (500 objects: ~260 ms per frame in headless
      // chromium for the combined path, ~15 ms for the same rings stroked one object at a time).
      for (const g of visible) ctx.stroke(g);
    }
    const rings = this.selectedRings();
    if (rings.length) {
      const sel = new Path2D();
      for (const r of rings) sel.addPath(this.state.drag && this.state.drag.id === r.poly.id ? ringPath(r.points) : this.pathOf(r.poly));
      ctx.fillStyle = STYLE.selFill;
      ctx.fill(sel, 'evenodd');
      ctx.lineWidth = 2 / scale;
      ctx.strokeStyle = STYLE.selStroke;
      ctx.stroke(sel);
      this.drawHandles(rings);
    }
    if (this.state.draft) this.drawDraft();
  }

  // Vertex handles of the selected object; contours from a model have a vertex every pixel or
  // two, so handles closer than MIN_GAP screen px to the previous one are skipped (hit tests
  // still use every vertex). The selected vertex is always drawn.
  drawHandles(rings) {
    const { ctx, scale } = this;
    const v = this.state.vertex;
    const size = 6 / scale;
    const minGap2 = (10 / scale) ** 2;
    ctx.lineWidth = 1 / scale;
    ctx.strokeStyle = STYLE.handleEdge;
    for (const r of rings) {
      ctx.fillStyle = STYLE.handle;
      let last = null;
      for (const p of r.points) {
        if (last && (p.x - last.x) ** 2 + (p.y - last.y) ** 2 < minGap2) continue;
        last = p;
        ctx.fillRect(p.x - size / 2, p.y - size / 2, size, size);
        ctx.strokeRect(p.x - size / 2, p.y - size / 2, size, size);
      }
      if (v && v.id === r.poly.id && r.points[v.index]) {
        const p = r.points[v.index];
        ctx.fillStyle = STYLE.handleSel;
        ctx.fillRect(p.x - size * 0.75, p.y - size * 0.75, size * 1.5, size * 1.5);
        ctx.strokeRect(p.x - size * 0.75, p.y - size * 0.75, size * 1.5, size * 1.5);
      }
    }
  }

  drawDraft() {
    const { ctx, scale } = this;
    const pts = this.state.draft;
    ctx.lineWidth = 2 / scale;
    ctx.strokeStyle = STYLE.draft;
    ctx.setLineDash([6 / scale, 4 / scale]);
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    if (this.cursor && pts.length) ctx.lineTo(this.cursor.x, this.cursor.y);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = STYLE.draft;
    const size = 6 / scale;
    for (const p of pts) ctx.fillRect(p.x - size / 2, p.y - size / 2, size, size);
  }
}

function ringPath(points) {
  const p = new Path2D();
  points.forEach((q, i) => (i ? p.lineTo(q.x, q.y) : p.moveTo(q.x, q.y)));
  p.closePath();
  return p;
}
