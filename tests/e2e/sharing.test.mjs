// End-to-end browser test of sharing and permissions in the seghub web UI against a real
// `seghub serve`, with two users in two browser contexts: A registers, creates and renames a
// project, uploads two images (and one corrupt file, reported per file), shares the project with
// B as viewer (B sees it read-only: no upload, editor with Save disabled, the server refuses
// B's saves), promotes B to editor (B saves an edit), starts a segmentation and cancels it, and
// deletes the project (gone for both). Also: a wrong password shows an error on the sign-in page.
// Screenshots of every step go to ./screenshots (the ctest work dir), prefixed "sharing-".
//
//   SEGHUB_BINARY=build/seghub SEGHUB_SHARED_DIR=../shared node --test tests/e2e/sharing.test.mjs
// Env: SEGHUB_URL (use a running server), CHROMIUM (browser path), SEGHUB_E2E_SCREENSHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, REPO } from './server.mjs';

const SHARED = process.env.SEGHUB_SHARED_DIR || path.join(REPO, '../shared');
const DATA = path.join(SHARED, 'data');
// Two small real images (256×256 nuclei).
const IMAGES = [
  'nuclei/dsb2018/images/0114f484a16c152baa2d82fdd43740880a762c93f436c8988ac461c5c9dbe7d5.png',
  'nuclei/dsb2018/images/0999dab07b11bc85fb8464fc36c947fbd8b5d6ec49817361cb780659ca805eac.png',
].map((p) => path.join(DATA, p));
const SHOTS = process.env.SEGHUB_E2E_SCREENSHOTS || path.join(process.cwd(), 'screenshots');
const MODEL = 'unet_spherohq';
const PASSWORD_A = 'owner password 4711';
const PASSWORD_B = 'viewer password 0815';

let server;
let browser;
let pageA;
let pageB;
let shot = 0;
const consoleErrors = [];

async function snap(page, name) {
  shot++;
  const file = path.join(SHOTS, `sharing-${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const tid = (id) => `[data-testid="${id}"]`;

async function newPage(who) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${who}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${who}: pageerror: ${e.message}`));
  return page;
}

// Calls the API from inside the page through the app's own module (same cookie and token).
function apiStatus(page, url, init = {}) {
  return page.evaluate(async ({ url, init }) => {
    const { api } = await import('/js/api.js');
    try { await api(url, { ...init, quiet: true }); return 200; } catch (e) { return e.status; }
  }, { url, init });
}

async function register(page, name, email, password) {
  await page.goto(`${server.base}/`);
  await page.waitForSelector(tid('auth-form'));
  await page.click(tid('tab-register'));
  await page.fill(tid('auth-name'), name);
  await page.fill(tid('auth-email'), email);
  await page.fill(tid('auth-password'), password);
  await page.click(tid('auth-submit'));
  await page.waitForSelector(tid('new-project'));
  assert.match(await page.textContent(tid('user-name')), new RegExp(name));
}

async function shareWith(page, email, role) {
  await page.click(tid('share-project'));
  await page.waitForSelector(tid('share-dialog'));
  await page.fill(tid('share-email'), email);
  await page.selectOption(tid('share-role'), role);
  await page.click(tid('share-submit'));
  await page.waitForFunction(({ email, role }) => [...document.querySelectorAll('[data-testid="share-row"]')]
    .some((r) => r.textContent.includes(email) && r.querySelector('.badge').textContent === role), { email, role });
}

async function closeDialog(page) {
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
}

before(async () => {
  for (const f of IMAGES) assert.ok(fs.existsSync(f), `missing test data ${f}`);
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const f of fs.readdirSync(SHOTS)) if (f.startsWith('sharing-') && f.endsWith('.png')) fs.rmSync(path.join(SHOTS, f));
  // One image in the segmenter at a time: the second stays queued long enough to be cancelled.
  server = await startServer({ extraArgs: ['--max-in-flight', '1'] });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new'],
  });
  pageA = await newPage('A');
  pageB = await newPage('B');
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    if (process.exitCode) console.log(server.logs.join('').slice(-5000));
    await server.stop();
  }
});

test('seghub web UI: sharing, roles, cancel, delete', { timeout: 570000 }, async (t) => {
  const stamp = Date.now();
  const emailA = `owner-${stamp}@example.org`;
  const emailB = `viewer-${stamp}@example.org`;
  const name = 'Nuclei sharing E2E';
  const renamed = 'Nuclei sharing E2E (renamed)';
  let projectUrl;
  let projectId;
  let imageId;

  await t.test('register both users; a wrong password shows an error', async () => {
    await register(pageA, 'Alice Owner', emailA, PASSWORD_A);
    await register(pageB, 'Bob Colleague', emailB, PASSWORD_B);
    await pageB.click(tid('signout'));
    await pageB.waitForSelector(tid('auth-form'));
    await pageB.fill(tid('auth-email'), emailB);
    await pageB.fill(tid('auth-password'), 'not my password');
    await pageB.click(tid('auth-submit'));
    await pageB.waitForFunction(() => document.querySelector('[data-testid="auth-error"]').textContent.trim() !== '');
    assert.match(await pageB.textContent(tid('auth-error')), /wrong e-mail or password/i);
    assert.ok(await pageB.isVisible(tid('auth-error')), 'the sign-in error is not visible');
    assert.ok(!(await pageB.$(tid('new-project'))), 'signed in with a wrong password');
    await snap(pageB, 'wrong-password');
    await pageB.fill(tid('auth-password'), PASSWORD_B);
    await pageB.click(tid('auth-submit'));
    await pageB.waitForSelector(tid('new-project'));
    await snap(pageB, 'b-signed-in');
  });

  await t.test('A creates a project and renames it', async () => {
    await pageA.click(tid('new-project'));
    await pageA.fill(tid('new-project-name'), name);
    await pageA.fill(tid('new-project-description'), 'Shared between two users by the browser test');
    await pageA.click(tid('new-project-submit'));
    await pageA.waitForSelector(tid('project-title'));
    assert.equal(await pageA.textContent(tid('project-title')), name);
    projectUrl = pageA.url();
    projectId = /#\/projects\/([^/?]+)/.exec(projectUrl)[1];
    await pageA.click(tid('rename-project'));
    await pageA.waitForSelector(tid('prompt-dialog'));
    await pageA.fill(tid('prompt-input'), renamed);
    await snap(pageA, 'rename-dialog');
    await pageA.click(tid('prompt-ok'));
    await pageA.waitForFunction((n) => document.querySelector('[data-testid="project-title"]').textContent === n, renamed);
    // The new name is stored: it survives a reload and shows in the list.
    await pageA.reload();
    await pageA.waitForSelector(tid('project-title'));
    assert.equal(await pageA.textContent(tid('project-title')), renamed);
    await snap(pageA, 'renamed');
  });

  await t.test('A uploads two images; a corrupt file is reported per file', async () => {
    await pageA.setInputFiles(tid('upload-input'), IMAGES);
    await pageA.waitForSelector(`${tid('upload-panel')}[data-state="finished"]`, { timeout: 120000 });
    await pageA.waitForFunction(() => document.querySelectorAll('[data-testid="image-tile"]').length === 2);
    assert.equal((await pageA.$$(tid('upload-failed-item'))).length, 0, await pageA.textContent(tid('upload-panel')));
    await pageA.waitForFunction(() => [...document.querySelectorAll('[data-testid="image-tile"] img')]
      .every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 30000 });
    await snap(pageA, 'uploaded');

    const corrupt = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seghub-e2e-corrupt-')), 'corrupt-scan.png');
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 251;
    fs.writeFileSync(corrupt, garbage);
    await pageA.evaluate(() => { const p = document.querySelector('[data-testid="upload-panel"]'); delete p.dataset.state; });
    await pageA.setInputFiles(tid('upload-input'), [corrupt]);
    await pageA.waitForSelector(`${tid('upload-panel')}[data-state="finished"]`, { timeout: 60000 });
    const failed = await pageA.$$eval(tid('upload-failed-item'), (els) => els.map((e) => e.textContent));
    assert.equal(failed.length, 1, `failed items: ${failed}`);
    assert.match(failed[0], /corrupt-scan\.png: \S/);
    assert.ok(await pageA.isVisible(tid('upload-failed-item')));
    await pageA.waitForTimeout(300);
    assert.equal((await pageA.$$(tid('image-tile'))).length, 2, 'the corrupt file became an image');
    await snap(pageA, 'corrupt-upload');
    imageId = await pageA.getAttribute(tid('image-tile'), 'data-id');
  });

  await t.test('A shares the project with B as viewer', async () => {
    await shareWith(pageA, emailB, 'viewer');
    await snap(pageA, 'shared-viewer');
    await closeDialog(pageA);
  });

  await t.test('B sees the project read-only', async () => {
    await pageB.goto(`${server.base}/#/projects`);
    await pageB.reload();
    const card = `${tid('project-card')}[data-id="${projectId}"]`;
    await pageB.waitForSelector(card);
    const text = await pageB.textContent(card);
    assert.match(text, /Nuclei sharing E2E \(renamed\)/);
    assert.match(text, /viewer/);
    assert.match(text, /shared by Alice Owner/);
    await snap(pageB, 'b-projects-viewer');

    await pageB.click(card);
    await pageB.waitForSelector(tid('project-title'));
    await pageB.waitForFunction(() => document.querySelectorAll('[data-testid="image-tile"]').length === 2);
    assert.equal(await pageB.textContent(tid('project-title')), renamed);
    assert.equal(await pageB.$(tid('upload-input')), null, 'a viewer gets the upload panel');
    assert.equal(await pageB.$(tid('segment-all')), null, 'a viewer gets the segment button');
    assert.equal(await pageB.$(tid('delete-project')), null, 'a viewer gets the delete button');
    assert.ok(await pageB.isVisible(tid('readonly-project')), 'no read-only notice on the project page');
    const strayNull = await pageB.evaluate(() => [...document.querySelector('main, #app, body').querySelectorAll('*')]
      .some((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() === 'null')));
    assert.ok(!strayNull, 'the project page shows a stray "null"');
    // The server refuses a viewer's upload too.
    const up = await pageB.evaluate(async (pid) => {
      const { getAccessToken } = await import('/js/api.js');
      const fd = new FormData();
      fd.append('files', new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' }), 'x.png');
      const r = await fetch(`/api/projects/${pid}/images`, { method: 'POST', body: fd, credentials: 'same-origin',
        headers: getAccessToken() ? { Authorization: `Bearer ${getAccessToken()}` } : {} });
      return r.status;
    }, projectId);
    assert.equal(up, 403, `viewer upload answered ${up}`);
    await snap(pageB, 'b-project-viewer');

    await pageB.click(`${tid('image-tile')}[data-id="${imageId}"] ${tid('open-image')}`);
    await pageB.waitForSelector(`${tid('editor-canvas')}[data-ready="true"]`, { timeout: 60000 });
    await pageB.waitForSelector(tid('readonly-notice'));
    assert.ok(await pageB.isDisabled(tid('save')), 'Save is enabled for a viewer');
    assert.ok(await pageB.isDisabled(tid('draw')), 'Draw is enabled for a viewer');
    // Trying to draw changes nothing.
    await pageB.focus(tid('editor-canvas'));
    await pageB.keyboard.press('n');
    const box = await pageB.locator(tid('editor-canvas')).boundingBox();
    for (const [dx, dy] of [[0.4, 0.4], [0.6, 0.4], [0.5, 0.6]]) await pageB.mouse.click(box.x + box.width * dx, box.y + box.height * dy);
    await pageB.keyboard.press('Enter');
    await pageB.keyboard.press('Control+s');
    const st = await pageB.evaluate(() => ({ dirty: window.__seghubEditor.state.dirty, n: window.__seghubEditor.state.polygons.length }));
    assert.deepEqual(st, { dirty: false, n: 0 });
    assert.equal(await pageB.getAttribute(tid('dirty-indicator'), 'data-dirty'), 'false');
    // And the server refuses a viewer's save.
    const put = await apiStatus(pageB, `/api/images/${imageId}/segmentation`, { method: 'PUT',
      body: { base_version: 0, polygons: [{ id: 1, type: 'external', class: 'object', points: [{ x: 10, y: 10 }, { x: 60, y: 10 }, { x: 30, y: 50 }] }] } });
    assert.equal(put, 403, `viewer save answered ${put}`);
    await snap(pageB, 'b-editor-readonly');
  });

  await t.test('A makes B an editor; B saves an edit', async () => {
    await shareWith(pageA, emailB, 'editor');
    const rows = await pageA.$$(tid('share-row'));
    assert.equal(rows.length, 1, 're-sharing added a second member row');
    await snap(pageA, 'shared-editor');
    await closeDialog(pageA);

    await pageB.reload();
    await pageB.waitForSelector(`${tid('editor-canvas')}[data-ready="true"]`, { timeout: 60000 });
    assert.equal(await pageB.$(tid('readonly-notice')), null, 'an editor still sees the read-only notice');
    await pageB.click(tid('draw'));
    const box = await pageB.locator(tid('editor-canvas')).boundingBox();
    for (const [dx, dy] of [[0.35, 0.35], [0.65, 0.35], [0.65, 0.65], [0.35, 0.65]]) {
      await pageB.mouse.click(box.x + box.width * dx, box.y + box.height * dy);
    }
    await pageB.keyboard.press('Enter');
    await pageB.waitForSelector(`${tid('dirty-indicator')}[data-dirty="true"]`);
    await pageB.waitForSelector(tid('metrics-row'));
    assert.ok(!(await pageB.isDisabled(tid('save'))), 'Save is disabled for an editor with changes');
    await snap(pageB, 'b-editor-drawn');
    await pageB.click(tid('save'));
    await pageB.waitForFunction(() => document.querySelector('[data-testid="dirty-indicator"]').dataset.dirty === 'false'
      || document.querySelector('#toasts .toast.error'));
    const err = await pageB.$('#toasts .toast.error');
    assert.equal(err && await err.textContent(), null, 'saving as editor failed');
    const version = await pageB.evaluate(() => window.__seghubEditor.state.version);
    assert.ok(version >= 1, `version after B's save: ${version}`);
    await snap(pageB, 'b-editor-saved');
    // A sees B's edit.
    const seg = await pageA.evaluate(async (id) => {
      const { api } = await import('/js/api.js');
      return api(`/api/images/${id}/segmentation`, { quiet: true });
    }, imageId);
    assert.equal(seg.version, version);
    assert.equal(seg.polygons.filter((p) => p.type !== 'internal').length, 1);
  });

  await t.test('A starts a segmentation and cancels it', async () => {
    await pageA.goto(projectUrl);
    await pageA.reload();
    await pageA.waitForSelector(tid('segment-all'));
    await pageA.waitForFunction((m) => [...document.querySelectorAll('[data-testid="model-select"] option')].some((o) => o.value === m), MODEL);
    await pageA.selectOption(tid('model-select'), MODEL);
    await pageA.setChecked(tid('segment-force'), true);
    await pageA.click(tid('segment-all'));
    await pageA.click(tid('cancel-segmentation'));
    await snap(pageA, 'cancel-clicked');
    await pageA.waitForFunction(() => {
      const b = [...document.querySelectorAll('[data-testid="status-badge"]')];
      return b.length === 2 && b.every((x) => !['queued', 'processing'].includes(x.dataset.status));
    }, null, { timeout: 120000, polling: 500 });
    const statuses = await pageA.$$eval(tid('status-badge'), (els) => els.map((e) => e.dataset.status));
    for (const s of statuses) assert.ok(['cancelled', 'done'].includes(s), `statuses after cancel: ${statuses}`);
    // After a reload (from the server, not the live updates) nothing is left queued.
    await pageA.reload();
    await pageA.waitForFunction(() => document.querySelectorAll('[data-testid="status-badge"]').length === 2);
    const fresh = await pageA.$$eval(tid('status-badge'), (els) => els.map((e) => e.dataset.status));
    for (const s of fresh) assert.ok(['cancelled', 'done'].includes(s), `statuses after reload: ${fresh}`);
    const queue = await pageA.evaluate(async (pid) => {
      const { api } = await import('/js/api.js');
      return api(`/api/projects/${pid}/queue`, { quiet: true });
    }, projectId);
    assert.equal(queue.queued, 0, JSON.stringify(queue));
    assert.equal(queue.processing, 0, JSON.stringify(queue));
    console.log(`statuses after cancel: ${fresh.join(', ')}; queue ${JSON.stringify(queue)}`);
    await snap(pageA, 'cancelled');
  });

  await t.test('A deletes the project: gone for both', async () => {
    await pageA.click(tid('delete-project'));
    await pageA.waitForSelector(tid('confirm-dialog'));
    await snap(pageA, 'delete-confirm');
    await pageA.click(tid('confirm-ok'));
    await pageA.waitForSelector(tid('new-project'));
    await pageA.waitForFunction((id) => !document.querySelector(`[data-testid="project-card"][data-id="${id}"]`), projectId);
    await snap(pageA, 'deleted-a');

    await pageB.goto(`${server.base}/#/projects`);
    await pageB.reload();
    await pageB.waitForSelector(tid('project-list'));
    await pageB.waitForFunction(() => document.querySelector('[data-testid="project-list"]').children.length > 0);
    assert.equal(await pageB.$(`${tid('project-card')}[data-id="${projectId}"]`), null, 'B still lists the deleted project');
    await snap(pageB, 'deleted-b');
    await pageB.goto(`${server.base}/#/projects/${projectId}`);
    await pageB.waitForSelector('text=does not exist or is not shared with you');
    await snap(pageB, 'deleted-b-direct');
  });

  const serious = consoleErrors.filter((e) => !/Failed to load resource/.test(e));
  assert.deepEqual(serious, [], `browser console errors:\n${serious.join('\n')}`);
});
