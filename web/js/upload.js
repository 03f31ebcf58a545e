// Uploads many files to a project: chunks of <= 20 files per request, XMLHttpRequest upload
// progress mapped onto the files of the chunk, failed files with their error, 429 retried after
// Retry-After. Names not yet confirmed by the server are kept in sessionStorage so a reload
// mid-upload can say which files did not finish.
import { authHeaders } from './api.js';

export const CHUNK_FILES = 20;
const PENDING_KEY = 'seghub.pendingUploads';
const ACCEPT = /\.(png|jpe?g|bmp|tiff?|webp)$/i;

export function isImageFile(f) { return ACCEPT.test(f.name) || /^image\//.test(f.type); }

function readPending() {
  try { return JSON.parse(sessionStorage.getItem(PENDING_KEY)) || null; } catch { return null; }
}
function writePending(p) {
  if (p && p.names.length) sessionStorage.setItem(PENDING_KEY, JSON.stringify(p));
  else sessionStorage.removeItem(PENDING_KEY);
}

// What an earlier page left unfinished: {projectId, projectName, names, startedAt} or null.
export function interruptedUpload() {
  const p = readPending();
  return p && !activeUploads ? p : null;
}
export function clearInterruptedUpload() { if (!activeUploads) sessionStorage.removeItem(PENDING_KEY); }

let activeUploads = 0;
export function uploadInProgress() { return activeUploads > 0; }

function sendChunk(url, files, onProgress) {
  return new Promise((resolve) => {
    const form = new FormData();
    for (const f of files) form.append('files', f, f.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      resolve({ status: xhr.status, body, retryAfter: Number(xhr.getResponseHeader('Retry-After')) || 1 });
    };
    xhr.onerror = () => resolve({ status: 0, body: { error: 'network error (connection lost)' } });
    xhr.onabort = () => resolve({ status: 0, body: { error: 'cancelled' } });
    xhr.send(form);
  });
}

// Uploads `files`; `onEvent({type, ...})` gets:
//   {type:'progress', file, fraction}  per file (0..1),
//   {type:'total', loaded, total}      bytes over all files,
//   {type:'done', file, image}          {type:'failed', file, error}
// Resolves with {images, failed}. `refreshAuth` is awaited once on a 401.
export async function uploadFiles(projectId, projectName, files, onEvent, { refreshAuth } = {}) {
  const url = `/api/projects/${encodeURIComponent(projectId)}/images`;
  const total = files.reduce((s, f) => s + f.size, 0) || 1;
  const pending = { projectId, projectName, names: files.map((f) => f.name), startedAt: new Date().toISOString() };
  writePending(pending);
  activeUploads++;
  const images = [];
  const failed = [];
  let sent = 0;
  const settle = (f) => {
    const i = pending.names.indexOf(f.name);
    if (i >= 0) pending.names.splice(i, 1);
    writePending(pending);
  };
  try {
    for (let i = 0; i < files.length; i += CHUNK_FILES) {
      const chunk = files.slice(i, i + CHUNK_FILES);
      const starts = [];
      let acc = 0;
      for (const f of chunk) { starts.push(acc); acc += f.size; }
      const progress = (loaded, reqTotal) => {
        // The request body is a little larger than the files (multipart framing): scale.
        const bytes = Math.min(acc, (loaded / Math.max(reqTotal, 1)) * acc);
        chunk.forEach((f, k) => onEvent({ type: 'progress', file: f,
          fraction: f.size ? Math.max(0, Math.min(1, (bytes - starts[k]) / f.size)) : (bytes >= starts[k] ? 1 : 0) }));
        onEvent({ type: 'total', loaded: sent + bytes, total });
      };
      let res;
      for (let attempt = 0; attempt < 5; attempt++) {
        res = await sendChunk(url, chunk, progress);
        if (res.status === 429) { await new Promise((r) => setTimeout(r, res.retryAfter * 1000)); continue; }
        if (res.status === 401 && refreshAuth && attempt === 0 && (await refreshAuth())) continue;
        break;
      }
      sent += acc;
      onEvent({ type: 'total', loaded: sent, total });
      if (res.status >= 200 && res.status < 300 && res.body) {
        const okImages = res.body.images || [];
        const bad = res.body.failed || [];
        for (const f of chunk) {
          const fail = bad.find((b) => b.filename === f.name);
          if (fail) { failed.push({ filename: f.name, error: fail.error }); onEvent({ type: 'failed', file: f, error: fail.error }); }
          else {
            const img = okImages.find((m) => m.name === f.name) || null;
            if (img) images.push(img);
            onEvent({ type: 'done', file: f, image: img });
          }
          settle(f);
        }
      } else {
        const error = (res.body && (res.body.detail || res.body.error)) || `HTTP ${res.status}`;
        for (const f of chunk) { failed.push({ filename: f.name, error }); onEvent({ type: 'failed', file: f, error }); settle(f); }
      }
    }
  } finally {
    activeUploads--;
    writePending(pending);
  }
  return { images, failed };
}
