// Plot of one PD signal: raw (left axis) and filtered (right axis) with detected regions shaded.
// Uses uPlot from web/node_modules (npm ci in web/); falls back to a plain canvas plot.
let uPlotModule;
async function loadUPlot() {
  if (uPlotModule === undefined) {
    uPlotModule = await import('/node_modules/uplot/dist/uPlot.esm.js').then((m) => m.default).catch(() => null);
    if (uPlotModule && !document.querySelector('link[data-uplot]')) {
      const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/node_modules/uplot/dist/uPlot.min.css' });
      link.dataset.uplot = '1';
      document.head.append(link);
    }
  }
  return uPlotModule;
}

const RAW = '#8a9bb0';
const FILTERED = '#1f5f8b';
const REGION = 'rgba(232, 93, 4, 0.18)';
const REGION_EDGE = 'rgba(232, 93, 4, 0.7)';

// x: sample index. raw and filtered come min/max-downsampled with their own indexes (each keeps
// its own extremes, at different samples): plot both on the union of the indexes, each series
// null where it has no point, so no filtered spike is lost to the raw series' sampling.
function series(signal) {
  const raw = signal.series.raw;
  const filt = signal.series.filtered;
  const rawAt = new Map(raw.index.map((x, i) => [x, raw.value[i]]));
  const filtAt = new Map(filt.index.map((x, i) => [x, filt.value[i]]));
  const xs = [...new Set([...raw.index, ...filt.index])].sort((a, b) => a - b);
  const pick = (m) => xs.map((x) => (m.has(x) ? m.get(x) : null));
  return [xs, pick(rawAt), pick(filtAt)];
}

export async function drawPdPlot(container, signal, width) {
  container.replaceChildren();
  const data = series(signal);
  // The largest |filtered| drawn (1 for a normalised signal): lets tests check no spike is lost.
  container.dataset.filteredPeak = String(Math.max(0, ...data[2].filter((y) => y !== null).map(Math.abs)));
  const regions = signal.regions || [];
  const uPlot = await loadUPlot();
  if (!uPlot) return canvasPlot(container, data, regions, width);
  const opts = {
    width, height: 380,
    scales: { x: { time: false }, raw: {}, filt: {} },
    series: [
      { label: 'sample' },
      { label: 'raw', stroke: RAW, width: 1, scale: 'raw', spanGaps: true },
      { label: 'filtered', stroke: FILTERED, width: 1.2, scale: 'filt', spanGaps: true },
    ],
    axes: [
      { label: 'sample' },
      { scale: 'raw', label: 'raw', stroke: RAW, size: 70 },
      { scale: 'filt', side: 1, label: 'filtered (normalised)', stroke: FILTERED, grid: { show: false }, size: 60 },
    ],
    hooks: {
      drawClear: [(u) => {
        const { ctx } = u;
        const top = u.bbox.top; const hgt = u.bbox.height;
        ctx.save();
        for (const r of regions) {
          const x0 = u.valToPos(r.start, 'x', true);
          const x1 = Math.max(x0 + 4, u.valToPos(r.end, 'x', true));
          ctx.fillStyle = REGION;
          ctx.fillRect(x0, top, x1 - x0, hgt);
          ctx.fillStyle = REGION_EDGE;
          ctx.fillRect(x0, top, 1, hgt);
        }
        ctx.restore();
      }],
    },
  };
  return new uPlot(opts, data, container);
}

// Minimal fallback: two lines (own y ranges) and shaded regions.
function canvasPlot(container, [xs, raw, filt], regions, width) {
  const height = 380;
  const dpr = window.devicePixelRatio || 1;
  const c = document.createElement('canvas');
  c.width = width * dpr; c.height = height * dpr;
  c.style.width = `${width}px`; c.style.height = `${height}px`;
  c.setAttribute('role', 'img');
  c.setAttribute('aria-label', 'raw and filtered signal with detected regions');
  container.append(c);
  const ctx = c.getContext('2d');
  ctx.scale(dpr, dpr);
  const pad = 40;
  const x0 = xs[0] ?? 0; const x1 = xs[xs.length - 1] ?? 1;
  const X = (x) => pad + ((x - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  ctx.fillStyle = REGION;
  for (const r of regions) ctx.fillRect(X(r.start), pad / 2, Math.max(2, X(r.end) - X(r.start)), height - pad);
  const line = (ys, color) => {
    const v = ys.filter((y) => y !== null);
    const lo = Math.min(...v); const hi = Math.max(...v);
    const Y = (y) => height - pad / 2 - ((y - lo) / (hi - lo || 1)) * (height - pad);
    ctx.strokeStyle = color; ctx.lineWidth = 1; ctx.beginPath();
    let started = false;
    ys.forEach((y, i) => { if (y === null) return; if (started) ctx.lineTo(X(xs[i]), Y(y)); else { ctx.moveTo(X(xs[i]), Y(y)); started = true; } });
    ctx.stroke();
  };
  line(raw, RAW);
  line(filt, FILTERED);
  return null;
}
