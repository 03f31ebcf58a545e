// Starts `seghub serve` on a free port with a temporary data directory, waits for /health,
// and stops it. SEGHUB_URL (an already running server) skips all of that.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitHealthy(base, child, logs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`seghub exited with ${child.exitCode}:\n${logs.join('')}`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`seghub did not become healthy in ${timeoutMs} ms:\n${logs.join('').slice(-4000)}`);
}

// Flags differ between versions: read `serve --help` and use the ones that exist.
function flagsFor(binary, dataDir) {
  const help = execFileSync(binary, ['serve', '--help'], { encoding: 'utf8' });
  const has = (f) => new RegExp(`${f}\\b`).test(help);
  const args = ['serve', '--host', '127.0.0.1'];
  if (has('--data-dir')) args.push('--data-dir', dataDir);
  else if (has('--data')) args.push('--data', dataDir);
  if (has('--models')) args.push('--models', path.join(REPO, 'models'));
  if (has('--web-dir')) args.push('--web-dir', path.join(REPO, 'web'));
  else if (has('--web')) args.push('--web', path.join(REPO, 'web'));
  if (has('--no-warmup')) args.push('--no-warmup');
  return args;
}

// `extraArgs`: more `serve` flags, each pair kept only when this binary's `serve --help` has the
// flag (e.g. ['--max-in-flight', '1'] to keep jobs queued long enough to cancel them).
export async function startServer({ extraArgs = [] } = {}) {
  if (process.env.SEGHUB_URL) return { base: process.env.SEGHUB_URL.replace(/\/$/, ''), stop: async () => {}, logs: [] };
  const binary = process.env.SEGHUB_BINARY || path.join(REPO, 'build/seghub');
  if (!fs.existsSync(binary)) throw new Error(`no seghub binary at ${binary} (set SEGHUB_BINARY)`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'seghub-e2e-'));
  const port = await freePort();
  const args = [...flagsFor(binary, dataDir), '--port', String(port)];
  if (extraArgs.length) {
    const help = execFileSync(binary, ['serve', '--help'], { encoding: 'utf8' });
    for (let i = 0; i < extraArgs.length; i++) {
      const flag = extraArgs[i];
      const value = extraArgs[i + 1] !== undefined && !String(extraArgs[i + 1]).startsWith('--') ? String(extraArgs[++i]) : null;
      if (!new RegExp(`${flag}\\b`).test(help)) continue;
      args.push(flag);
      if (value !== null) args.push(value);
    }
  }
  const logs = [];
  const child = spawn(binary, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SEGHUB_LOG_LEVEL: process.env.SEGHUB_LOG_LEVEL || 'info' } });
  const keep = (d) => { logs.push(d.toString()); if (logs.length > 2000) logs.shift(); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, child, logs, 180000);
  return {
    base, logs, args,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 10000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
