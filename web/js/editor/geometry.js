// Pure geometry on rings of {x, y} points (image pixels).

export function signedArea(pts) {
  let a = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) a += (pts[j].x + pts[i].x) * (pts[j].y - pts[i].y);
  return a / 2;
}

export const area = (pts) => Math.abs(signedArea(pts));

export function perimeter(pts) {
  let p = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) p += Math.hypot(pts[i].x - pts[j].x, pts[i].y - pts[j].y);
  return p;
}

export function bbox(pts) {
  let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
  for (const p of pts) {
    if (p.x < x0) x0 = p.x;
    if (p.x > x1) x1 = p.x;
    if (p.y < y0) y0 = p.y;
    if (p.y > y1) y1 = p.y;
  }
  return { x0, y0, x1, y1 };
}

// Ray casting; true when (x, y) is inside the ring.
export function pointInRing(x, y, pts) {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const a = pts[i]; const b = pts[j];
    if ((a.y > y) !== (b.y > y) && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

// Squared distance from p to segment ab, and the parameter t of the closest point.
export function segmentDistance2(px, py, a, b) {
  const dx = b.x - a.x; const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  let t = len2 ? ((px - a.x) * dx + (py - a.y) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  const cx = a.x + t * dx; const cy = a.y + t * dy;
  return { d2: (px - cx) ** 2 + (py - cy) ** 2, t, x: cx, y: cy };
}

// Andrew's monotone chain; returns the hull counter-clockwise.
export function convexHull(pts) {
  const p = pts.map((q) => [q.x, q.y]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p.map(([x, y]) => ({ x, y }));
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  upper.pop();
  lower.pop();
  return lower.concat(upper).map(([x, y]) => ({ x, y }));
}

// Largest distance between two hull points (max Feret diameter).
export function feretMax(hull) {
  let best = 0;
  for (let i = 0; i < hull.length; i++) {
    for (let j = i + 1; j < hull.length; j++) {
      const d = (hull[i].x - hull[j].x) ** 2 + (hull[i].y - hull[j].y) ** 2;
      if (d > best) best = d;
    }
  }
  return Math.sqrt(best);
}

export function centroid(pts) {
  let cx = 0; let cy = 0; let a = 0;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const f = pts[j].x * pts[i].y - pts[i].x * pts[j].y;
    cx += (pts[j].x + pts[i].x) * f;
    cy += (pts[j].y + pts[i].y) * f;
    a += f;
  }
  if (!a) return pts[0] || { x: 0, y: 0 };
  return { x: cx / (3 * a), y: cy / (3 * a) };
}

// Shape metrics of one object (outer ring minus holes), in pixels; `s` = µm per pixel scales
// lengths by s and areas by s².
export function objectMetrics(outer, holes = [], s = 1) {
  const a = Math.max(0, area(outer) - holes.reduce((acc, h) => acc + area(h), 0));
  const p = perimeter(outer);
  const hull = convexHull(outer);
  const hullArea = area(hull);
  return {
    area: a * s * s,
    perimeter: p * s,
    equivalentDiameter: Math.sqrt((4 * a) / Math.PI) * s,
    circularity: p ? Math.min(1, (4 * Math.PI * a) / (p * p)) : 0,
    solidity: hullArea ? a / hullArea : 0,
    feretMax: feretMax(hull) * s,
    holes: holes.length,
  };
}
