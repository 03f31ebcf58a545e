// End-to-end browser test of the seghub web UI against a real `seghub serve`:
// register and sign in, create a project, upload three images, segment them with
// unet_spherohq, edit a polygon (move a vertex, save, reload: kept), export COCO and check the
// ZIP, analyse a PD signal. Screenshots of every step go to ./screenshots (the ctest work dir).
//
//   SEGHUB_BINARY=build/seghub SEGHUB_SHARED_DIR=../shared node --test tests/e2e/
// Env: SEGHUB_URL (use a running server), CHROMIUM (browser path), SEGHUB_E2E_SCREENSHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, REPO } from './server.mjs';
import { listZip, readZipEntry } from './zip.mjs';

const SHARED = process.env.SEGHUB_SHARED_DIR || path.join(REPO, '../shared');
const DATA = path.join(SHARED, 'data');
const IMAGES = [
  'spheroids/026f6ae6-fa28-487c-8263-f49babd99dd3.png',
  'spheroids/19687f60-a78f-49e3-ada7-8dfc6a5fab4e.png',
  'spheroids/3d7a9b1c-4e2f-4a8d-9c3e-5f8b2a1d6c4e.png',
].map((p) => path.join(DATA, p));
const PD_SIGNAL = path.join(DATA, 'pd/test_dataa.npy');
const SHOTS = process.env.SEGHUB_E2E_SCREENSHOTS || path.join(process.cwd(), 'screenshots');
const MODEL = 'unet_spherohq';

let server;
let browser;
let page;
let shot = 0;
const consoleErrors = [];

async function snap(name) {
  shot++;
  const file = path.join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const tid = (id) => `[data-testid="${id}"]`;

before(async () => {
  for (const f of [...IMAGES, PD_SIGNAL]) assert.ok(fs.existsSync(f), `missing test data ${f}`);
  fs.mkdirSync(SHOTS, { recursive: true });
  // Only this test's own screenshots (sharing.test.mjs writes sharing-*.png into the same folder).
  for (const f of fs.readdirSync(SHOTS)) if (/^\d+-.*\.png$/.test(f)) fs.rmSync(path.join(SHOTS, f));
  server = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    if (process.exitCode) console.log(server.logs.join('').slice(-5000));
    await server.stop();
  }
});

test('seghub web UI end to end', { timeout: 570000 }, async (t) => {
  const base = server.base;
  const email = `e2e-${Date.now()}@example.org`;
  const password = 'correct horse battery 42';
  let projectUrl;

  await t.test('register, sign out, sign in', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector(tid('auth-form'));
    await page.click(tid('tab-register'));
    await page.fill(tid('auth-name'), 'E2E Biologist');
    await page.fill(tid('auth-email'), email);
    await page.fill(tid('auth-password'), password);
    await snap('register');
    await page.click(tid('auth-submit'));
    await page.waitForSelector(tid('new-project'));
    assert.match(await page.textContent(tid('user-name')), /E2E Biologist/);
    await page.click(tid('signout'));
    await page.waitForSelector(tid('auth-form'));
    await page.fill(tid('auth-email'), email);
    await page.fill(tid('auth-password'), password);
    await page.click(tid('auth-submit'));
    await page.waitForSelector(tid('new-project'));
    await snap('projects-empty');
  });

  await t.test('create a project', async () => {
    await page.click(tid('new-project'));
    await page.fill(tid('new-project-name'), 'Spheroid growth E2E');
    await page.fill(tid('new-project-description'), 'Three spheroid images, segmented by the browser test');
    await snap('new-project-dialog');
    await page.click(tid('new-project-submit'));
    await page.waitForSelector(tid('project-title'));
    assert.equal(await page.textContent(tid('project-title')), 'Spheroid growth E2E');
    projectUrl = page.url();
  });

  await t.test('upload three images', async () => {
    await page.setInputFiles(tid('upload-input'), IMAGES);
    await page.waitForSelector(`${tid('upload-panel')}[data-state="finished"]`, { timeout: 120000 });
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="image-tile"]').length === n, IMAGES.length);
    const failed = await page.$$(tid('upload-failed-item'));
    assert.equal(failed.length, 0, `upload failures: ${await page.textContent(tid('upload-failed'))}`);
    assert.match(await page.textContent(tid('upload-total-text')), /100 %/);
    // Thumbnails load.
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="image-tile"] img')]
      .every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 30000 });
    await snap('uploaded');
  });

  await t.test(`segment with ${MODEL}`, async () => {
    await page.waitForFunction((m) => [...document.querySelectorAll('[data-testid="model-select"] option')].some((o) => o.value === m), MODEL);
    await page.selectOption(tid('model-select'), MODEL);
    // A scale out of range is refused in the page, before any request.
    await page.fill(tid('scale'), '40');
    let early = null;
    const onRequest = (r) => { if (r.method() === 'POST' && r.url().endsWith('/segment')) early = r; };
    page.on('request', onRequest);
    await page.click(tid('segment-all'));
    await page.waitForFunction(() => [...document.querySelectorAll('#toasts .toast.error')]
      .some((t) => /scale/i.test(t.textContent)), null, { timeout: 5000 });
    page.off('request', onRequest);
    assert.equal(early, null, 'a refused scale still posted a request');
    // A valid one travels in the request body and the server takes it.
    await page.fill(tid('scale'), '1');
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/segment'));
    await page.click(tid('segment-all'));
    assert.equal((await posted).postDataJSON().scale, 1);
    await page.waitForFunction(() => document.querySelector('[data-testid="status-badge"][data-status="queued"], [data-testid="status-badge"][data-status="processing"], [data-testid="status-badge"][data-status="done"]'));
    await snap('segmenting');
    await page.waitForFunction(() => {
      const b = [...document.querySelectorAll('[data-testid="status-badge"]')];
      return b.length === 3 && b.every((x) => ['done', 'failed'].includes(x.dataset.status));
    }, null, { timeout: 300000, polling: 500 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="polygon-count"]').length === 3, null, { timeout: 15000 }).catch(() => {});
    await snap('segmented');
    const statuses = await page.$$eval(tid('status-badge'), (els) => els.map((e) => e.dataset.status));
    assert.deepEqual(statuses, ['done', 'done', 'done'], `statuses: ${statuses}`);
  });

  let imageUrl;
  let moved;
  await t.test('polygons appear in the editor; move a vertex and save', async () => {
    // Open the image with the most objects.
    const counts = await page.$$eval(tid('image-tile'), (tiles) => tiles.map((tile) => {
      const c = tile.querySelector('[data-testid="polygon-count"]');
      return { id: tile.dataset.id, n: c ? parseInt(c.textContent, 10) : 0 };
    }));
    counts.sort((a, b) => b.n - a.n);
    assert.ok(counts[0].n > 0, `no image has polygons: ${JSON.stringify(counts)}`);
    await page.click(`${tid('image-tile')}[data-id="${counts[0].id}"] ${tid('open-image')}`);
    await page.waitForSelector(`${tid('editor-canvas')}[data-ready="true"]`, { timeout: 60000 });
    imageUrl = page.url();
    const n = await page.evaluate(() => window.__seghubEditor.state.externals().length);
    assert.ok(n > 0, 'the editor shows no polygons');
    assert.equal(await page.$$eval(tid('metrics-row'), (r) => r.length), n);
    await page.waitForTimeout(300);
    await snap('editor');

    // Select the largest object through its metrics row, then drag one of its vertices.
    const target = await page.evaluate(() => {
      const { state } = window.__seghubEditor;
      const ext = state.externals().slice().sort((a, b) => b.points.length - a.points.length)[0];
      return { id: ext.id, index: Math.floor(ext.points.length / 4), count: ext.points.length };
    });
    await page.click(`${tid('metrics-row')}[data-id="${target.id}"]`);
    const from = await page.evaluate(({ id, index }) => {
      const { state, renderer } = window.__seghubEditor;
      const pts = state.byId(id).points;
      const s = renderer.toScreen(pts[index].x, pts[index].y);
      const r = renderer.canvas.getBoundingClientRect();
      return { sx: r.left + s.x, sy: r.top + s.y, pts, scale: renderer.scale };
    }, target);
    await page.mouse.move(from.sx, from.sy);
    await page.mouse.down();
    await page.mouse.move(from.sx + 15, from.sy + 10, { steps: 5 });
    await page.mouse.move(from.sx + 30, from.sy + 20, { steps: 5 });
    await page.mouse.up();
    // Contour vertices can be a pixel apart: the grabbed vertex is the selected one.
    const grabbed = await page.evaluate(() => window.__seghubEditor.state.vertex);
    assert.ok(grabbed && grabbed.id === target.id, `no vertex of the object was grabbed: ${JSON.stringify(grabbed)}`);
    moved = await page.evaluate(({ id, index }) => {
      const p = window.__seghubEditor.state.byId(id).points[index];
      return { x: p.x, y: p.y };
    }, grabbed);
    const orig = from.pts[grabbed.index];
    const expect = { x: orig.x + 30 / from.scale, y: orig.y + 20 / from.scale };
    assert.ok(Math.hypot(moved.x - expect.x, moved.y - expect.y) < 1.5,
      `vertex at (${moved.x}, ${moved.y}), expected about (${expect.x}, ${expect.y})`);
    assert.equal(await page.getAttribute(tid('dirty-indicator'), 'data-dirty'), 'true');
    await snap('editor-vertex-moved');
    await page.keyboard.press('Control+s');
    await page.waitForSelector(`${tid('dirty-indicator')}[data-dirty="false"]`);
    await snap('editor-saved');
    moved.target = target;
  });

  await t.test('reload: the moved vertex is kept', async () => {
    await page.goto(imageUrl);
    await page.reload();
    await page.waitForSelector(`${tid('editor-canvas')}[data-ready="true"]`, { timeout: 60000 });
    const after = await page.evaluate(({ id, x, y }) => {
      const { state } = window.__seghubEditor;
      const p = state.byId(id);
      if (p) return { found: true, version: state.version, pts: p.points };
      // The server may renumber polygons: look for the vertex anywhere.
      return { found: false, version: state.version, pts: state.polygons.flatMap((q) => q.points) };
    }, { id: moved.target.id, x: moved.x, y: moved.y });
    const near = after.pts.some((p) => Math.hypot(p.x - moved.x, p.y - moved.y) < 1.0);
    assert.ok(near, `the moved vertex (${moved.x.toFixed(1)}, ${moved.y.toFixed(1)}) is not in the saved polygons`);
    assert.ok(after.version >= 2, `version after save is ${after.version}`);
    await snap('editor-reloaded');
  });

  await t.test('export COCO and check the ZIP', async () => {
    await page.goto(projectUrl);
    await page.waitForSelector(tid('export-project'));
    await page.click(tid('export-project'));
    await page.waitForSelector(tid('export-dialog'));
    for (const f of ['coco', 'yolo', 'geojson', 'imagej', 'csv', 'xlsx', 'json']) {
      await page.setChecked(tid(`export-format-${f}`), f === 'coco');
    }
    await snap('export-dialog');
    await page.click(tid('export-start'));
    await page.waitForSelector(`${tid('export-download')}:not([hidden])`, { timeout: 180000 });
    await snap('export-done');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(tid('export-download'))]);
    const zipPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seghub-e2e-zip-')), 'export.zip');
    await download.saveAs(zipPath);
    const entries = listZip(zipPath);
    const names = entries.map((e) => e.name);
    console.log(`export ZIP: ${names.join(', ')}`);
    const coco = entries.find((e) => /coco/i.test(e.name) && e.name.endsWith('.json')) || entries.find((e) => e.name.endsWith('.json'));
    assert.ok(coco, `no COCO JSON in the ZIP: ${names.join(', ')}`);
    const doc = JSON.parse((await readZipEntry(zipPath, coco)).toString('utf8'));
    assert.ok(Array.isArray(doc.images) && doc.images.length === 3, `COCO images: ${doc.images && doc.images.length}`);
    assert.ok(Array.isArray(doc.annotations) && doc.annotations.length > 0, 'COCO has no annotations');
    assert.ok(Array.isArray(doc.categories), 'COCO has no categories');
    await page.keyboard.press('Escape');
  });

  await t.test('interrupted upload is reported after a reload', async () => {
    await page.evaluate(() => sessionStorage.setItem('seghub.pendingUploads', JSON.stringify(
      { projectId: null, projectName: 'Spheroid growth E2E', names: ['late-1.png', 'late-2.png'], startedAt: new Date().toISOString() })));
    await page.reload();
    await page.waitForSelector(tid('interrupted-upload'));
    assert.match(await page.textContent(tid('interrupted-upload')), /2 files did not finish.*late-1\.png/s);
    await snap('interrupted-upload');
    await page.click(`${tid('interrupted-upload')} button`);
  });

  await t.test('PD analysis shows the plot and the regions', async () => {
    await page.click(tid('nav-pd'));
    await page.waitForSelector(tid('pd-form'));
    await page.setInputFiles(tid('pd-file'), PD_SIGNAL);
    await page.click(tid('pd-analyze'));
    await page.waitForSelector(`${tid('pd-plot')}[data-ready="true"]`, { timeout: 120000 });
    await page.waitForSelector(tid('pd-regions'));
    const signals = await page.$$eval(`${tid('pd-signal')} option`, (o) => o.map((x) => x.textContent));
    assert.equal(signals.length, 7, `signals: ${signals}`);
    const total = signals.reduce((a, s) => a + parseInt(/\((\d+) regions\)/.exec(s)[1], 10), 0);
    assert.ok(total > 0, `no PD regions found in any signal: ${signals}`);
    // Show a signal that has regions.
    const withRegions = signals.findIndex((s) => !/\(0 regions\)/.test(s));
    await page.selectOption(tid('pd-signal'), String(withRegions));
    await page.waitForSelector(`${tid('pd-plot')}[data-ready="true"]`);
    assert.ok((await page.$$(tid('pd-region-row'))).length > 0);
    const heads = await page.$$eval(`${tid('pd-regions')} th`, (t) => t.map((x) => x.textContent));
    assert.ok(heads.includes('SNR (σ)'), `no SNR column: ${heads}`);
    // The plot keeps the filtered series' own extremes: it reaches the normalised maximum 1.
    const peak = Number(await page.$eval(tid('pd-plot'), (e) => e.dataset.filteredPeak));
    assert.ok(peak > 0.999, `filtered plot peaks at ${peak}, not 1`);
    assert.ok(await page.$(`${tid('pd-plot')} canvas`), 'no plot canvas');
    await page.waitForTimeout(200);
    await snap('pd');
  });

  await t.test('monitoring shows per-model metrics', async () => {
    await page.click(tid('nav-monitoring'));
    await page.waitForSelector(`${tid('monitoring-model-row')}[data-model="${MODEL}"]`, { timeout: 15000 });
    await page.waitForTimeout(2500);   // a second scrape gives rates
    await snap('monitoring');
  });

  const serious = consoleErrors.filter((e) => !/Failed to load resource/.test(e));
  assert.deepEqual(serious, [], `browser console errors:\n${serious.join('\n')}`);
});
