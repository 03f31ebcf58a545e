// Editor pan/zoom benchmark (not a test: prints numbers, no thresholds). Starts `seghub serve`
// like the e2e tests, registers a user, uploads a synthetic 4000×4000 PNG twice, saves 500
// polygons (circles of ~40 points, every fifth with a hole) on one copy and none on the other,
// opens each in the editor and records requestAnimationFrame timestamps in the page during a
// scripted 3 s pan (mouse drag) and a 3 s zoom (wheel). Reports the median and 95th percentile
// frame interval, the share of intervals over 16.7 ms and 33 ms, the renderer's own draw time,
// and the 500-polygon / 0-polygon ratio.
//
//   SEGHUB_BINARY=build/seghub node tests/e2e/bench_editor.mjs [--rounds N] [--json out.json]
// Env: SEGHUB_URL (use a running server), CHROMIUM (browser path), BENCH_SIZE (default 4000),
// BENCH_POLYGONS (default 500).
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const ROUNDS = parseInt(opt('--rounds', '2'), 10);
const JSON_OUT = opt('--json', null);
const SIZE = parseInt(process.env.BENCH_SIZE || '4000', 10);
const NPOLY = parseInt(process.env.BENCH_POLYGONS || '500', 10);
const PHASE_MS = 3000;

// ---- a minimal PNG encoder (8-bit greyscale) ----
const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function encodeGreyPng(width, height, pixel) {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width + 1);
    raw[row] = 0;   // filter: none
    for (let x = 0; x < width; x++) raw[row + 1 + x] = pixel(x, y);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 0; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0))]);
}

// Grey background with texture: two slow waves, a fine grid of blobs, a little hash noise.
function syntheticImage(n) {
  return encodeGreyPng(n, n, (x, y) => {
    const wave = 20 * Math.sin(x / 97) * Math.cos(y / 131);
    const blobs = 25 * Math.max(0, Math.sin(x / 23) * Math.sin(y / 29));
    const noise = ((x * 73856093) ^ (y * 19349663)) & 7;
    return Math.max(0, Math.min(255, Math.round(110 + wave + blobs + noise)));
  });
}

function circle(cx, cy, r, n, wobble) {
  const pts = [];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    const rr = r * (1 + wobble * Math.sin(3 * a + cx));
    pts.push({ x: +(cx + rr * Math.cos(a)).toFixed(2), y: +(cy + rr * Math.sin(a)).toFixed(2) });
  }
  return pts;
}

function syntheticPolygons(count, size) {
  const cols = Math.ceil(Math.sqrt(count));
  const cell = size / cols;
  const polys = [];
  let id = 1;
  for (let k = 0; k < count; k++) {
    const cx = (k % cols + 0.5) * cell;
    const cy = (Math.floor(k / cols) + 0.5) * cell;
    const r = cell * (0.25 + 0.12 * ((k * 37) % 7) / 6);
    const ext = id++;
    polys.push({ id: ext, type: 'external', class: 'object', confidence: 0.9, points: circle(cx, cy, r, 40, 0.06) });
    if (k % 5 === 0) {
      polys.push({ id: id++, type: 'internal', parent_id: ext, class: 'object', confidence: 0.9, points: circle(cx, cy, r * 0.35, 24, 0) });
    }
  }
  return polys;
}

const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))] : NaN);
function summarise(intervals, draws) {
  const s = intervals.slice().sort((a, b) => a - b);
  const d = draws.slice().sort((a, b) => a - b);
  const r = (v) => Math.round(v * 100) / 100;
  return {
    frames: s.length,
    median_ms: r(quantile(s, 0.5)),
    p95_ms: r(quantile(s, 0.95)),
    over_16_7: r(s.filter((v) => v > 16.7).length / (s.length || 1)),
    over_33: r(s.filter((v) => v > 33).length / (s.length || 1)),
    draws: d.length,
    draw_median_ms: r(quantile(d, 0.5)),
    draw_p95_ms: r(quantile(d, 0.95)),
  };
}

async function api(base, token, path, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.json !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(init.json); }
  const r = await fetch(`${base}${path}`, { ...init, headers });
  const text = await r.text();
  if (!r.ok) throw new Error(`${init.method || 'GET'} ${path}: ${r.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

// Starts recording rAF timestamps and the renderer's draw durations in the page.
async function startRecording(page) {
  await page.evaluate(() => {
    const rec = { t: [], draws: [], on: true };
    window.__bench = rec;
    const { renderer } = window.__seghubEditor;
    if (!renderer.__benchWrapped) {
      const draw = renderer.draw.bind(renderer);
      renderer.draw = () => { const t0 = performance.now(); draw(); if (window.__bench && window.__bench.on) window.__bench.draws.push(performance.now() - t0); };
      renderer.__benchWrapped = true;
    }
    const tick = (ts) => { if (!rec.on) return; rec.t.push(ts); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
}
async function stopRecording(page) {
  return page.evaluate(() => {
    const rec = window.__bench;
    rec.on = false;
    const iv = [];
    for (let i = 1; i < rec.t.length; i++) iv.push(rec.t[i] - rec.t[i - 1]);
    return { intervals: iv, draws: rec.draws };
  });
}

async function openEditor(page, base, imageId) {
  await page.goto(`${base}/#/images/${imageId}`);
  await page.waitForSelector('[data-testid="editor-canvas"][data-ready="true"]', { timeout: 120000 });
  await page.waitForTimeout(500);
  await page.evaluate(() => window.__seghubEditor.renderer.fit());
  await page.waitForTimeout(300);
}

async function pan(page, box) {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  const t0 = Date.now();
  let i = 0;
  while (Date.now() - t0 < PHASE_MS) {
    const a = i++ / 12;
    await page.mouse.move(cx + 180 * Math.cos(a), cy + 120 * Math.sin(2 * a));
  }
  await page.mouse.up();
}

async function zoom(page, box) {
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.55);
  const t0 = Date.now();
  while (Date.now() - t0 < PHASE_MS) {
    const inward = Math.floor((Date.now() - t0) / 750) % 2 === 0;   // in, out, in, out
    await page.mouse.wheel(0, inward ? -60 : 60);
  }
}

async function measure(page, base, imageId) {
  await openEditor(page, base, imageId);
  const box = await page.locator('[data-testid="editor-canvas"]').boundingBox();
  const out = {};
  for (const [name, fn] of [['pan', pan], ['zoom', zoom]]) {
    await page.evaluate(() => window.__seghubEditor.renderer.fit());
    await page.waitForTimeout(300);
    await startRecording(page);
    await fn(page, box);
    out[name] = await stopRecording(page);
  }
  out.polygons = await page.evaluate(() => window.__seghubEditor.state.polygons.length);
  return out;
}

async function main() {
  const t0 = Date.now();
  const png = syntheticImage(SIZE);
  const pngPath = fs.mkdtempSync(`${os.tmpdir()}/seghub-bench-`) + '/synthetic-4000.png';
  fs.writeFileSync(pngPath, png);
  const polygons = syntheticPolygons(NPOLY, SIZE);
  console.error(`synthetic ${SIZE}×${SIZE} PNG: ${(png.length / 1048576).toFixed(1)} MiB (${Date.now() - t0} ms); ` +
    `${NPOLY} objects, ${polygons.length} rings, ${polygons.reduce((a, p) => a + p.points.length, 0)} points`);

  const server = await startServer();
  const base = server.base;
  let browser;
  try {
    const email = `bench-${Date.now()}@example.org`;
    const password = 'bench password 1234';
    const reg = await api(base, null, '/api/auth/register', { method: 'POST', json: { email, password, name: 'Bench' } });
    const token = reg.access_token;
    const project = await api(base, token, '/api/projects', { method: 'POST', json: { name: 'Editor benchmark' } });
    const ids = [];
    for (const name of ['with-polygons.png', 'no-polygons.png']) {
      const fd = new FormData();
      fd.append('files', new Blob([png], { type: 'image/png' }), name);
      const r = await api(base, token, `/api/projects/${project.id}/images`, { method: 'POST', body: fd });
      if (!r.images || r.images.length !== 1) throw new Error(`upload failed: ${JSON.stringify(r.failed)}`);
      ids.push(r.images[0].id);
    }
    const saved = await api(base, token, `/api/images/${ids[0]}/segmentation`, { method: 'PUT', json: { polygons, base_version: 0 } });
    console.error(`saved version ${saved.version} with ${saved.polygons ? saved.polygons.length : '?'} polygons`);

    browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--headless=new'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60000);
    await page.goto(`${base}/`);
    await page.waitForSelector('[data-testid="auth-form"]');
    await page.fill('[data-testid="auth-email"]', email);
    await page.fill('[data-testid="auth-password"]', password);
    await page.click('[data-testid="auth-submit"]');
    await page.waitForSelector('[data-testid="new-project"]');

    const pooled = { 0: { pan: { intervals: [], draws: [] }, zoom: { intervals: [], draws: [] } }, [NPOLY]: { pan: { intervals: [], draws: [] }, zoom: { intervals: [], draws: [] } } };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so warm-up does not favour one side.
      const order = round % 2 ? [[NPOLY, ids[0]], [0, ids[1]]] : [[0, ids[1]], [NPOLY, ids[0]]];
      for (const [n, id] of order) {
        const m = await measure(page, base, id);
        if (n && m.polygons !== polygons.length) throw new Error(`the editor shows ${m.polygons} polygons, expected ${polygons.length}`);
        for (const k of ['pan', 'zoom']) {
          pooled[n][k].intervals.push(...m[k].intervals);
          pooled[n][k].draws.push(...m[k].draws);
        }
      }
    }
    const results = {};
    for (const n of [0, NPOLY]) results[n] = { pan: summarise(pooled[n].pan.intervals, pooled[n].pan.draws), zoom: summarise(pooled[n].zoom.intervals, pooled[n].zoom.draws) };
    const ratio = {};
    for (const k of ['pan', 'zoom']) {
      ratio[k] = {
        median: +(results[NPOLY][k].median_ms / results[0][k].median_ms).toFixed(2),
        p95: +(results[NPOLY][k].p95_ms / results[0][k].p95_ms).toFixed(2),
        draw_median: +(results[NPOLY][k].draw_median_ms / (results[0][k].draw_median_ms || NaN)).toFixed(2),
      };
    }
    const summary = {
      image: `${SIZE}x${SIZE}`, polygons: NPOLY, rings: polygons.length, rounds: ROUNDS, phase_ms: PHASE_MS,
      viewport: '1280x800', cpus: os.cpus().length, loadavg: os.loadavg().map((v) => +v.toFixed(2)),
      chromium: browser.version(), results: { '0': results[0], [NPOLY]: results[NPOLY] }, ratio,
    };
    console.log(JSON.stringify(summary, null, 2));
    if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(summary, null, 2));
    const row = (label, r) => `| ${label.padEnd(22)} | ${String(r.frames).padStart(6)} | ${r.median_ms.toFixed(1).padStart(6)} | ${r.p95_ms.toFixed(1).padStart(6)} | ${(r.over_16_7 * 100).toFixed(0).padStart(5)} % | ${(r.over_33 * 100).toFixed(0).padStart(5)} % | ${r.draw_median_ms.toFixed(1).padStart(6)} | ${r.draw_p95_ms.toFixed(1).padStart(6)} |`;
    console.log('\n| scenario               | frames | median | p95    | > 16.7 ms | > 33 ms | draw median | draw p95 |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const k of ['pan', 'zoom']) {
      console.log(row(`${k}, 0 polygons`, results[0][k]));
      console.log(row(`${k}, ${NPOLY} polygons`, results[NPOLY][k]));
    }
    console.log(`\nratio ${NPOLY}/0 polygons: pan median ${ratio.pan.median}×, p95 ${ratio.pan.p95}×; zoom median ${ratio.zoom.median}×, p95 ${ratio.zoom.p95}× (frame intervals, ms)`);
  } finally {
    if (browser) await browser.close();
    await server.stop();
    fs.rmSync(pngPath, { force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
