// Monitoring: GET /metrics every 2 s, parsed in the browser: queue depth, throughput, latency
// and memory per model, plus server-wide gauges and every other seghub_ metric.
import { apiText } from '../api.js';
import { h, clear, fmtBytes, fmtNum } from '../ui.js';
import { parsePrometheus, sumBy, histogramQuantile } from '../prometheus.js';

const PERIOD_MS = 2000;
const HISTORY = 60;

function sparkline(values) {
  const c = h('canvas.spark', { width: 240, height: 56, 'aria-hidden': 'true' });
  const ctx = c.getContext('2d');
  const max = Math.max(1e-9, ...values);
  ctx.strokeStyle = '#2f6f9f';
  ctx.lineWidth = 2;
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / Math.max(1, HISTORY - 1)) * 240;
    const y = 52 - (v / max) * 48;
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  });
  ctx.stroke();
  return c;
}

const ms = (s) => (s === null || s === undefined || !Number.isFinite(s) ? '–' : `${fmtNum(s * 1000, 1)} ms`);

export async function monitoringView(root) {
  const cards = h('div.stat-grid', { testid: 'monitoring-cards' });
  const models = h('tbody', { testid: 'monitoring-models' });
  const other = h('tbody');
  const updated = h('span.muted.small', { testid: 'monitoring-updated', 'aria-live': 'off' });
  const err = h('p.error-text', { role: 'alert' });
  const history = new Map();   // model -> [req/s]
  let prev = null;
  let timer = null;
  let stopped = false;

  const card = (k, v, testid) => h('div.panel.stat', { testid }, h('div.v', v), h('div.k', k));

  function render(samples, now) {
    const dt = prev ? (now - prev.t) / 1000 : 0;
    const delta = (name, by) => {
      const cur = sumBy(samples, name, by);
      const old = prev ? sumBy(prev.samples, name, by) : null;
      const out = new Map();
      for (const [k, v] of cur) out.set(k, old && dt > 0 ? Math.max(0, v - (old.get(k) || 0)) : null);
      return out;
    };
    const pending = sumBy(samples, 'seghub_inference_pending_requests', 'model');
    const inflight = sumBy(samples, 'seghub_inference_in_flight_requests', 'model');
    const ready = sumBy(samples, 'seghub_model_ready', 'model');
    const mem = sumBy(samples, 'seghub_model_memory_bytes', 'model');
    const memPeak = sumBy(samples, 'seghub_model_memory_peak_bytes', 'model');
    const reqTotal = sumBy(samples, 'seghub_inference_requests_total', 'model');
    const reqDelta = delta('seghub_inference_requests_total', 'model');
    const failDelta = delta('seghub_inference_failures_total', 'model');
    const qSum = delta('seghub_inference_queue_seconds_sum', 'model');
    const qCnt = delta('seghub_inference_queue_seconds_count', 'model');
    const cSum = delta('seghub_inference_compute_seconds_sum', 'model');
    const cCnt = delta('seghub_inference_compute_seconds_count', 'model');
    const q95 = histogramQuantile(samples, 'seghub_inference_queue_seconds', 0.95, 'model');
    const c95 = histogramQuantile(samples, 'seghub_inference_compute_seconds', 0.95, 'model');
    const names = [...new Set([...ready.keys(), ...pending.keys(), ...reqTotal.keys(), ...mem.keys()])].filter(Boolean).sort();

    const rows = names.map((m) => {
      const rate = reqDelta.get(m) === null || reqDelta.get(m) === undefined ? null : reqDelta.get(m) / dt;
      const hist = history.get(m) || [];
      if (rate !== null) { hist.push(rate); if (hist.length > HISTORY) hist.shift(); }
      history.set(m, hist);
      // Mean over the last interval, or since start when nothing ran in it.
      const mean = (s, c, name) => {
        if (c.get(m)) return s.get(m) / c.get(m);
        const cnt = sumBy(samples, `${name}_count`, 'model').get(m);
        return cnt ? sumBy(samples, `${name}_sum`, 'model').get(m) / cnt : null;
      };
      const isReady = ready.get(m) > 0;
      return h('tr', { testid: 'monitoring-model-row', dataset: { model: m } },
        h('td', m), h('td', h('span', { class: `badge ${isReady ? 'done' : 'cancelled'}` }, isReady ? 'ready' : 'not loaded')),
        h('td.num', fmtNum(pending.get(m) ?? 0, 0)), h('td.num', fmtNum(inflight.get(m) ?? 0, 0)),
        h('td.num', rate === null ? '…' : `${fmtNum(rate, 2)}/s`), h('td', sparkline(hist)),
        h('td.num', fmtNum(reqTotal.get(m) ?? 0, 0)),
        h('td.num', failDelta.get(m) ? `${fmtNum(failDelta.get(m) / dt, 2)}/s` : '0'),
        h('td.num', `${ms(mean(qSum, qCnt, 'seghub_inference_queue_seconds'))} / ${ms(q95.get(m))}`),
        h('td.num', `${ms(mean(cSum, cCnt, 'seghub_inference_compute_seconds'))} / ${ms(c95.get(m))}`),
        h('td.num', `${fmtBytes(mem.get(m) ?? 0)} (peak ${fmtBytes(memPeak.get(m) ?? 0)})`));
    });
    clear(models, rows.length ? rows : h('tr', h('td.muted', { colspan: 11 }, 'No model metrics yet.')));

    const totalPending = [...pending.values()].reduce((a, b) => a + b, 0);
    const used = sumBy(samples, 'seghub_memory_used_bytes');
    const budget = sumBy(samples, 'seghub_memory_budget_bytes');
    const httpNow = sumBy(samples, 'seghub_http_requests_total');
    const httpOld = prev ? sumBy(prev.samples, 'seghub_http_requests_total') : null;
    const wsConns = sumBy(samples, 'seghub_websocket_connections');
    const totalRate = [...reqDelta.values()].reduce((a, b) => a + (b || 0), 0) / (dt || 1);
    clear(cards,
      card('Queued inference requests', fmtNum(totalPending, 0), 'metric-queue'),
      card('Inference throughput', prev ? `${fmtNum(totalRate, 2)}/s` : '…', 'metric-throughput'),
      card('Engine memory (used / budget)', used === null ? '–' : `${fmtBytes(used)} / ${fmtBytes(budget)}`, 'metric-memory'),
      card('HTTP requests', httpOld !== null && dt ? `${fmtNum((httpNow - httpOld) / dt, 1)}/s` : fmtNum(httpNow ?? 0, 0), 'metric-http'),
      wsConns !== null ? card('Live connections', fmtNum(wsConns, 0), 'metric-ws') : null);

    const known = /^seghub_(inference_|model_|memory_|http_request)/;
    const rest = samples.filter((s) => s.name.startsWith('seghub_') && !known.test(s.name) && !/_bucket$/.test(s.name));
    clear(other, rest.slice(0, 200).map((s) => h('tr', h('td.mono', s.name),
      h('td.mono', Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`).join(', ')), h('td.num', fmtNum(s.value, 3)))));
    prev = { samples, t: now };
    updated.textContent = `Updated ${new Date(now).toLocaleTimeString()} · every 2 s`;
  }

  async function tick() {
    if (stopped) return;
    try {
      const text = await apiText('/metrics');
      err.textContent = '';
      render(parsePrometheus(text), Date.now());
    } catch (e) {
      err.textContent = `Could not read /metrics: ${e.message}`;
    }
    if (!stopped) timer = setTimeout(tick, PERIOD_MS);
  }

  root.append(
    h('div.page-head', h('div', h('h1', 'Monitoring'), h('p.muted', { style: { margin: 0 } }, 'Live from the server’s Prometheus metrics. '), updated)),
    err, cards,
    h('div.panel', h('h2', 'Models'),
      h('div', { style: { overflowX: 'auto' } }, h('table', { testid: 'monitoring-table' },
        h('thead', h('tr', h('th', 'Model'), h('th', 'State'), h('th.num', 'Queued'), h('th.num', 'Running'), h('th.num', 'Throughput'),
          h('th', 'Last 2 min'), h('th.num', 'Requests'), h('th.num', 'Failures'), h('th.num', 'Queue wait mean / p95'),
          h('th.num', 'Compute mean / p95'), h('th.num', 'Memory'))),
        models))),
    h('details.panel', { style: { marginTop: '16px' } }, h('summary', 'Other seghub metrics'),
      h('table', h('thead', h('tr', h('th', 'Metric'), h('th', 'Labels'), h('th.num', 'Value'))), other)));
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
