// Parser for the Prometheus text exposition format (what GET /metrics returns).
// parse(text) -> [{name, labels:{...}, value}]; helpers to sum and group samples.

export function parsePrometheus(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line[0] === '#') continue;
    let name; let labels = {}; let rest;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (brace >= 0 && (space < 0 || brace < space)) {
      name = line.slice(0, brace);
      const end = closingBrace(line, brace);
      labels = parseLabels(line.slice(brace + 1, end));
      rest = line.slice(end + 1).trim();
    } else {
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const v = rest.split(/\s+/)[0];
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    out.push({ name, labels, value });
  }
  return out;
}

// Index of the '}' that closes the label set (label values may contain '}', e.g. "{id}").
function closingBrace(line, from) {
  let quoted = false;
  for (let i = from + 1; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '}' && !quoted) return i;
  }
  return line.length;
}

function parseLabels(s) {
  const labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = re.exec(s))) labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  return labels;
}

// Sum of the samples named `name` whose labels match `where`, grouped by label `by`
// (or one total when `by` is omitted).
export function sumBy(samples, name, by, where = {}) {
  const groups = new Map();
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(where).every(([k, v]) => s.labels[k] === v)) continue;
    const key = by ? s.labels[by] ?? '' : '';
    groups.set(key, (groups.get(key) || 0) + s.value);
  }
  return by ? groups : (groups.get('') ?? null);
}

// Quantile estimate from cumulative histogram buckets (`name`_bucket, label le), per `by`.
export function histogramQuantile(samples, name, q, by) {
  const per = new Map();
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    const key = by ? s.labels[by] ?? '' : '';
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (!per.has(key)) per.set(key, new Map());
    const m = per.get(key);
    m.set(le, (m.get(le) || 0) + s.value);
  }
  const out = new Map();
  for (const [key, m] of per) {
    const buckets = [...m.entries()].sort((a, b) => a[0] - b[0]);
    const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
    if (!total) { out.set(key, null); continue; }
    const rank = q * total;
    let prevLe = 0; let prevCount = 0; let value = null;
    for (const [le, count] of buckets) {
      if (count >= rank) {
        value = le === Infinity ? prevLe : prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(count - prevCount, 1e-12);
        break;
      }
      prevLe = le; prevCount = count;
    }
    out.set(key, value);
  }
  return out;
}
