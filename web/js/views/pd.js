// Partial-discharge analysis: upload a signal file (.npy, .csv or raw float32) to
// POST /api/v1/pd/analyze, plot raw and filtered signal with the detected regions, list them.
import { api } from '../api.js';
import { h, clear, fmtNum, fmtBytes } from '../ui.js';
import { drawPdPlot } from './pd-plot.js';

export async function pdView(root) {
  const file = h('input#pd-file', { type: 'file', accept: '.npy,.csv,.txt,.raw,.bin,.f32', testid: 'pd-file' });
  const threshold = h('input#pd-thr', { type: 'number', min: 0, max: 1, step: 0.05, value: 0.5, style: { width: '90px' }, testid: 'pd-threshold' });
  const minAmp = h('input#pd-amp', { type: 'number', min: 0, max: 1, step: 0.05, value: 0.2, style: { width: '90px' }, testid: 'pd-min-amplitude' });
  const minSnr = h('input#pd-snr', { type: 'number', min: 0, step: 0.5, value: 0, style: { width: '90px' }, testid: 'pd-min-snr' });
  const rate = h('input#pd-rate', { type: 'number', min: 0, step: 'any', placeholder: 'optional', style: { width: '130px' }, testid: 'pd-sample-rate' });
  const submit = h('button.btn.btn-primary', { type: 'submit', testid: 'pd-analyze' }, 'Analyse');
  const status = h('p.small.muted', { role: 'status', testid: 'pd-status' });
  const result = h('div', { testid: 'pd-result' });
  let last = null;
  let plot = null;

  function showSignal(i) {
    const s = last.signals[i];
    const plotBox = h('div.plot', { testid: 'pd-plot' });
    const hasTime = s.sample_rate_hz > 0;
    const rows = (s.regions || []).map((r, k) => h('tr', { testid: 'pd-region-row' },
      h('td.num', k + 1), h('td.num', r.start), h('td.num', r.end), h('td.num', r.length),
      h('td.num', r.peak_index), h('td.num', fmtNum(r.peak_amplitude, 3)), h('td.num', fmtNum(r.max_probability, 3)),
      h('td.num', r.snr == null ? '∞' : fmtNum(r.snr, 1)),
      hasTime ? h('td.num', fmtNum(r.start_s * 1e6, 2)) : null, hasTime ? h('td.num', fmtNum(r.duration_s * 1e6, 2)) : null));
    const table = h('table', { testid: 'pd-regions' },
      h('thead', h('tr', h('th.num', '#'), h('th.num', 'Start'), h('th.num', 'End'), h('th.num', 'Length'),
        h('th.num', 'Peak at'), h('th.num', 'Peak |filtered|'), h('th.num', 'Max probability'),
        h('th.num', { title: 'Peak |filtered| over the noise level (robust sigma of the filtered signal)' }, 'SNR (σ)'),
        hasTime ? h('th.num', 'Start (µs)') : null, hasTime ? h('th.num', 'Duration (µs)') : null)),
      h('tbody', rows.length ? rows : h('tr', h('td.muted', { colspan: 10 }, 'No discharge regions detected in this signal.'))));
    clear(detail,
      h('div.row.small.muted', `${s.num_samples} samples · ${s.num_regions} region${s.num_regions === 1 ? '' : 's'} · raw max |x| ${fmtNum(s.stats.raw.max_abs, 3)}`,
        ' · ', h('span', { style: { color: '#8a9bb0' } }, '— raw'), ' ', h('span', { style: { color: '#1f5f8b' } }, '— filtered'),
        ' ', h('span', { style: { color: '#e85d04' } }, '▮ detected region')),
      plotBox, h('h2', { style: { marginTop: '16px' } }, 'Regions'), table);
    if (plot && plot.destroy) plot.destroy();
    drawPdPlot(plotBox, s, Math.max(600, plotBox.clientWidth || 1100)).then((p) => { plot = p; plotBox.dataset.ready = 'true'; });
  }

  const signalSel = h('select#pd-signal', { testid: 'pd-signal', onchange: () => showSignal(Number(signalSel.value)) });
  const detail = h('div');

  async function analyze(e) {
    e.preventDefault();
    const f = file.files[0];
    if (!f) { status.textContent = 'Choose a signal file first.'; return; }
    const form = new FormData();
    form.append('file', f, f.name);
    form.append('threshold', threshold.value);
    form.append('min_amplitude', minAmp.value);
    if (parseFloat(minSnr.value) > 0) form.append('min_snr', minSnr.value);
    if (parseFloat(rate.value) > 0) form.append('sample_rate', rate.value);
    submit.disabled = true;
    status.className = 'small muted';
    status.textContent = `Analysing ${f.name} (${fmtBytes(f.size)})…`;
    clear(result);
    try {
      last = await api('/api/v1/pd/analyze', { method: 'POST', form, quiet: true, noAuthRedirect: true });
      const total = last.signals.reduce((a, s) => a + s.num_regions, 0);
      status.textContent = `${last.num_signals} signal${last.num_signals === 1 ? '' : 's'}, ${total} region${total === 1 ? '' : 's'} in total · model ${last.model} · ${fmtNum(last.timing_ms && last.timing_ms.total, 0)} ms`;
      clear(signalSel, last.signals.map((s, i) => h('option', { value: i }, `Signal ${i + 1} (${s.num_regions} regions)`)));
      clear(result, h('div.panel',
        last.signals.length > 1 ? h('div.inline', { style: { marginBottom: '8px' } }, h('label', { for: 'pd-signal' }, 'Signal'), signalSel) : null,
        detail));
      showSignal(0);
    } catch (ex) {
      status.textContent = `Analysis failed: ${ex.message}`;
      status.className = 'error-text';
    } finally {
      submit.disabled = false;
    }
  }

  root.append(
    h('div.page-head', h('div', h('h1', 'Partial-discharge analysis'),
      h('p.muted', { style: { margin: 0 } }, 'Upload a signal file (.npy, .csv with one signal per row, or raw float32). The signal is clipped, high-pass filtered and normalised; the PD model marks discharge regions.'))),
    h('form.panel.pd-form', { onsubmit: analyze, testid: 'pd-form' },
      h('div', h('label', { for: 'pd-file' }, 'Signal file'), file),
      h('div', h('label', { for: 'pd-thr' }, 'Probability threshold'), threshold),
      h('div', h('label', { for: 'pd-amp' }, 'Min. amplitude'), minAmp),
      h('div', h('label', { for: 'pd-snr' }, 'Min. SNR (σ, 0 = off)'), minSnr),
      h('div', h('label', { for: 'pd-rate' }, 'Sample rate (Hz)'), rate),
      submit),
    status, result);
  return () => { if (plot && plot.destroy) plot.destroy(); };
}
