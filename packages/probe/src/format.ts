import { InvalidArgumentError, UnsupportedError } from '@gradflow/core';
import { SCHEMA_VERSION } from './types.js';
import type { LayerReport, ProbeReport, ProbeStatus } from './types.js';

/**
 * Short number rendering: 3 significant digits, exponent outside [1e-3, 1e4).
 *
 * @example
 * ```ts
 * const shown = [12.345, 0.000123, 123456, 0, null, Infinity, NaN].map(formatNumber);
 * if (shown.join(' ') !== '12.3 1.23e-4 1.23e+5 0 - Inf NaN') throw new Error(shown.join(' '));
 * ```
 */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
}

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '-' : `${(100 * v).toFixed(1)}%`;

const ANSI = {
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  reset: '\x1b[0m',
};

function defaultColor(): boolean {
  if (typeof process === 'undefined') return false;
  if (process.env?.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env?.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(process.stdout?.isTTY);
}

const STATUS_COLOR: Record<ProbeStatus, keyof typeof ANSI> = {
  healthy: 'green',
  vanishing: 'yellow',
  exploding: 'red',
  saturated: 'yellow',
  dead: 'red',
  nonfinite: 'red',
};

/** Options of {@link formatTable}. */
export interface FormatTableOptions {
  /** ANSI colours; default: when stdout is a TTY and NO_COLOR is unset. */
  color?: boolean;
}

/**
 * The report as an aligned terminal table: one row per layer, then the verdict, evidence and
 * advice. Columns: |g| weight-gradient L2 norm, g/w gradient/weight ratio, dL/dy RMS of the
 * back-propagated signal, activation mean and std, saturated and dead fractions, non-finite count.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const report = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
 * const table = formatTable(report, { color: false }); // console.log(table) in a terminal
 * for (const layer of report.layers) if (!table.includes(layer.name)) throw new Error(table);
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function formatTable(report: ProbeReport, options: FormatTableOptions = {}): string {
  const color = options.color ?? defaultColor();
  const paint = (s: string, c: keyof typeof ANSI) => (color ? `${ANSI[c]}${s}${ANSI.reset}` : s);
  const header = [
    '#',
    'layer',
    'class',
    'output',
    '|g|',
    'g/w',
    'dL/dy rms',
    'act mean',
    'act std',
    'sat',
    'dead',
    'nonfinite',
  ];
  const right = new Set([0, 4, 5, 6, 7, 8, 9, 10, 11]);
  const rows = report.layers.map((l, i) => [
    String(i),
    l.name,
    l.className,
    `[${l.outputShape.join(',')}]`,
    formatNumber(l.gradNorm),
    formatNumber(l.gradToWeight),
    formatNumber(l.outputGradRms),
    formatNumber(l.activation?.mean),
    formatNumber(l.activation?.std),
    pct(l.activation?.saturatedFraction),
    pct(l.activation?.deadFraction),
    String(l.nonFinite.weights + l.nonFinite.weightGrads + l.nonFinite.activations + l.nonFinite.outputGrads),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (right.has(c) ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join('  ');
  const bad = report.verdict.firstBadLayer;
  const flagged = new Set(report.verdict.evidence.map((e) => e.layer).filter((n): n is string => n !== null));
  const out: string[] = [];
  out.push(
    `${paint(report.model.name, 'bold')} (${report.model.className}, ${report.model.params} params) batch ${report.batchSize}, loss ${formatNumber(report.loss)} [${report.lossName}], ${report.training ? 'training' : 'inference'} mode, ${report.backend}`,
  );
  out.push(paint(line(header), 'dim'));
  rows.forEach((r, i) => {
    const text = line(r);
    const name = report.layers[i]!.name;
    out.push(name === bad ? paint(text, 'red') : flagged.has(name) ? paint(text, 'yellow') : text);
  });
  const v = report.verdict;
  out.push('');
  out.push(
    `verdict: ${paint(v.status.toUpperCase(), STATUS_COLOR[v.status])}${bad ? ` (first bad layer: ${bad})` : ''}`,
  );
  out.push(`  ${v.summary}`);
  for (const e of v.evidence) {
    out.push(
      `  - ${e.metric}${e.layer ? ` @ ${e.layer}` : ''}: ${formatNumber(e.value)}${e.threshold !== null ? ` (threshold ${formatNumber(e.threshold)})` : ''}`,
    );
  }
  if (v.advice.length > 0) {
    out.push('advice:');
    for (const a of v.advice) out.push(`  * ${a}`);
  }
  if (report.signalPropagation.length > 0) {
    out.push(
      'signal propagation (per residual block: avg channel squared mean / variance / residual variance):',
    );
    const w = Math.max(...report.signalPropagation.map((b) => b.block.length));
    for (const b of report.signalPropagation) {
      out.push(
        `  ${b.block.padEnd(w)}  ${formatNumber(b.avgChannelSquaredMean).padStart(9)}  ${formatNumber(b.avgChannelVariance).padStart(9)}  ${formatNumber(b.residualVariance).padStart(9)}  ${b.shortcut}`,
      );
    }
  }
  for (const r of report.recurrent) {
    out.push(
      `gradient through time ${r.layer}: |dL/dh_t| t=0..${r.gradNorms.length - 1}: ${r.gradNorms.map(formatNumber).join(' ')} (first/last ${formatNumber(r.firstToLast)})`,
    );
  }
  if (report.jacobian) {
    out.push(
      `input-output Jacobian mean squared singular value: ${formatNumber(report.jacobian.meanSqSingular)} (${report.jacobian.projections} projection(s))`,
    );
  }
  for (const n of report.notes) out.push(paint(`note: ${n}`, 'dim'));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

const STRING_KEYS = new Set([
  'name',
  'className',
  'layer',
  'block',
  'branch',
  'blockInput',
  'status',
  'firstBadLayer',
  'summary',
  'metric',
  'activation',
  'kind',
  'lossName',
  'backend',
  'shortcut',
]);

/**
 * The report as JSON text (schema `SCHEMA_VERSION`, documented in the README). Non-finite
 * numbers are written as the strings "NaN", "Infinity", "-Infinity".
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const report = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
 * const text = toJSON(report); // write it to a file, diff it, load it with fromJSON
 * if (JSON.parse(text).schemaVersion !== SCHEMA_VERSION) throw new Error('schema');
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function toJSON(report: ProbeReport, indent = 2): string {
  return JSON.stringify(
    report,
    (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value),
    indent,
  );
}

/**
 * Parses `toJSON` output back into a report, checking `schemaVersion`.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const report = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
 * const back = fromJSON(toJSON(report));
 * if (back.verdict.status !== report.verdict.status || back.layers.length !== report.layers.length)
 *   throw new Error('round trip');
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function fromJSON(text: string): ProbeReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value: unknown) =>
      !STRING_KEYS.has(key) && (value === 'NaN' || value === 'Infinity' || value === '-Infinity')
        ? Number(value)
        : value,
    );
  } catch (e) {
    throw new InvalidArgumentError(
      'report JSON',
      String(text).slice(0, 40),
      'JSON written by toJSON()',
      String(e),
    );
  }
  const version = (parsed as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== SCHEMA_VERSION) {
    throw new UnsupportedError(
      `probe report schemaVersion ${String(version)} is not supported (this version reads ${SCHEMA_VERSION})`,
      {
        value: version,
        accepted: SCHEMA_VERSION,
      },
    );
  }
  return parsed as ProbeReport;
}

// ---------------------------------------------------------------------------------------------
// HTML + SVG
// ---------------------------------------------------------------------------------------------

const esc = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

interface Series {
  name: string;
  color: string;
  values: (number | null)[];
}

/**
 * A dependency-free line chart on a log10 y axis; non-positive / non-finite points are gaps.
 *
 * @example
 * ```ts
 * const svg = logLineChart({
 *   title: 'Gradient norm per layer',
 *   xLabels: ['dense1', 'dense2', 'dense3'],
 *   series: [{ name: '|g|', color: '#c0392b', values: [1e-5, 1e-3, 0.1] }],
 *   highlight: 0, // mark the first bad layer
 * });
 * if (!svg.startsWith('<svg') || !svg.includes('Gradient norm per layer')) throw new Error(svg.slice(0, 80));
 * ```
 */
export function logLineChart(opts: {
  title: string;
  xLabels: string[];
  series: Series[];
  highlight?: number | null;
  width?: number;
  height?: number;
}): string {
  const W = opts.width ?? 860;
  const H = opts.height ?? 340;
  const m = { l: 60, r: 16, t: 28, b: 112 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const n = opts.xLabels.length;
  const all = opts.series
    .flatMap((s) => s.values)
    .filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  let lo = all.length > 0 ? Math.floor(Math.log10(Math.min(...all))) : -1;
  let hi = all.length > 0 ? Math.ceil(Math.log10(Math.max(...all))) : 1;
  if (hi <= lo) {
    hi = lo + 1;
    lo -= 1;
  }
  // At most 8 decades: values far below (e.g. a BN output's ~1e-16 mean) sit on the bottom edge.
  lo = Math.max(lo, hi - 8);
  const x = (i: number) => m.l + (n <= 1 ? pw / 2 : (i * pw) / (n - 1));
  const y = (v: number) => m.t + ph - ((Math.max(Math.log10(v), lo) - lo) / (hi - lo)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">`,
  );
  parts.push(`<text x="${m.l}" y="18" font-size="14" font-weight="bold">${esc(opts.title)}</text>`);
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let e = lo; e <= hi; e += step) {
    const yy = y(10 ** e).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${m.l - 6}" y="${yy}" font-size="11" text-anchor="end" dominant-baseline="middle">1e${e}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(n / 40));
  opts.xLabels.forEach((label, i) => {
    if (i % every !== 0) return;
    const xx = x(i).toFixed(1);
    parts.push(
      `<text x="${xx}" y="${m.t + ph + 8}" font-size="10" text-anchor="end" transform="rotate(-50 ${xx} ${m.t + ph + 8})">${esc(label.length > 22 ? `${label.slice(0, 21)}…` : label)}</text>`,
    );
  });
  if (opts.highlight !== undefined && opts.highlight !== null && opts.highlight >= 0) {
    const xx = x(opts.highlight).toFixed(1);
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${m.t}" y2="${m.t + ph}" stroke="#d00" stroke-dasharray="4 3"/>`,
    );
  }
  opts.series.forEach((s, k) => {
    let d = '';
    let pen = false;
    const dots: string[] = [];
    s.values.forEach((v, i) => {
      if (v === null) return; // no value for this x (e.g. a layer without weights): bridge it
      if (!Number.isFinite(v) || v <= 0) {
        pen = false;
        return;
      }
      const px = x(i).toFixed(1);
      const py = y(v).toFixed(1);
      d += `${pen ? 'L' : 'M'}${px},${py} `;
      pen = true;
      dots.push(
        `<circle cx="${px}" cy="${py}" r="2.5" fill="${s.color}"><title>${esc(`${s.name} @ ${opts.xLabels[i] ?? i}: ${formatNumber(v)}`)}</title></circle>`,
      );
    });
    if (d) parts.push(`<path d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    parts.push(...dots);
    const lx = m.l + 10 + k * 220;
    parts.push(`<rect x="${lx}" y="${H - 13}" width="10" height="10" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${H - 4}" font-size="11">${esc(s.name)}</text>`);
  });
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function layerRow(l: LayerReport, bad: boolean): string {
  const cells = [
    l.name,
    l.className,
    `[${l.outputShape.join(',')}]`,
    formatNumber(l.gradNorm),
    formatNumber(l.gradToWeight),
    formatNumber(l.outputGradRms),
    formatNumber(l.activation?.mean),
    formatNumber(l.activation?.std),
    pct(l.activation?.saturatedFraction),
    pct(l.activation?.deadFraction),
    String(l.nonFinite.weights + l.nonFinite.weightGrads + l.nonFinite.activations + l.nonFinite.outputGrads),
  ];
  return `<tr${bad ? ' class="bad"' : ''}>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

/**
 * A self-contained HTML page (inline CSS and SVG, no scripts, no network): verdict, evidence and
 * advice; the per-layer gradient-flow chart on a log scale; the signal-propagation plot for
 * residual blocks; gradient-through-time profiles; the layer table.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const report = await probe(model, { x, y }, { loss: 'categorical_crossentropy' });
 * const html = toHTML(report); // save as report.html and open it in a browser
 * if (!html.includes('<svg') || html.includes('<script')) throw new Error('self-contained page');
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function toHTML(report: ProbeReport): string {
  const v = report.verdict;
  const flow = report.layers.filter((l) => l.gradNorm !== null || l.outputGradRms !== null);
  const charts: string[] = [];
  charts.push(
    logLineChart({
      title: 'Gradient flow per layer (input side left, log scale)',
      xLabels: flow.map((l) => l.name),
      highlight: v.firstBadLayer ? flow.findIndex((l) => l.name === v.firstBadLayer) : null,
      series: [
        { name: 'weight-gradient RMS', color: '#1f77b4', values: flow.map((l) => l.gradRms) },
        { name: 'backprop signal RMS dL/dy', color: '#ff7f0e', values: flow.map((l) => l.outputGradRms) },
        { name: 'activation RMS', color: '#7f7f7f', values: flow.map((l) => l.activation?.rms ?? null) },
      ],
    }),
  );
  if (report.signalPropagation.length > 0) {
    const sp = report.signalPropagation;
    charts.push(
      logLineChart({
        title: 'Signal propagation per residual block (Brock, De & Smith 2021)',
        xLabels: sp.map((b) => b.block),
        series: [
          {
            name: 'avg channel squared mean',
            color: '#2ca02c',
            values: sp.map((b) => b.avgChannelSquaredMean),
          },
          { name: 'avg channel variance', color: '#d62728', values: sp.map((b) => b.avgChannelVariance) },
          { name: 'residual branch variance', color: '#9467bd', values: sp.map((b) => b.residualVariance) },
        ],
      }),
    );
  }
  for (const r of report.recurrent) {
    charts.push(
      logLineChart({
        title: `Gradient through time: |dL/dh_t| of ${r.layer}`,
        xLabels: r.gradNorms.map((_, t) => `t=${t}`),
        series: [{ name: '|dL/dh_t|', color: '#8c564b', values: r.gradNorms }],
      }),
    );
  }
  const statusColor =
    v.status === 'healthy'
      ? '#1a7f37'
      : v.status === 'vanishing' || v.status === 'saturated'
        ? '#9a6700'
        : '#cf222e';
  const head = [
    'layer',
    'class',
    'output',
    '|g|',
    'g/w',
    'dL/dy rms',
    'act mean',
    'act std',
    'sat',
    'dead',
    'nonfinite',
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gradflow probe: ${esc(report.model.name)}</title>
<style>
body{font-family:system-ui,-apple-system,sans-serif;margin:24px;color:#222;max-width:1100px}
.status{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;background:${statusColor};font-weight:bold}
table{border-collapse:collapse;font-size:12px;margin-top:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}tr.bad td{background:#ffe5e5}
.note{color:#666;font-size:12px}svg{display:block;margin:16px 0}
</style></head><body>
<h1>gradflow probe: ${esc(report.model.name)}</h1>
<p>${esc(report.model.className)}, ${report.model.params} trainable parameters, batch ${report.batchSize}, loss ${esc(formatNumber(report.loss))} (${esc(report.lossName)}), ${report.training ? 'training' : 'inference'} mode, backend ${esc(report.backend)}, schema v${report.schemaVersion}</p>
<h2>Verdict: <span class="status">${esc(v.status)}</span>${v.firstBadLayer ? ` at <code>${esc(v.firstBadLayer)}</code>` : ''}</h2>
<p>${esc(v.summary)}</p>
${v.evidence.length > 0 ? `<h3>Evidence</h3><ul>${v.evidence.map((e) => `<li>${esc(e.metric)}${e.layer ? ` @ <code>${esc(e.layer)}</code>` : ''}: <b>${esc(formatNumber(e.value))}</b>${e.threshold !== null ? ` (threshold ${esc(formatNumber(e.threshold))})` : ''}</li>`).join('')}</ul>` : ''}
${v.advice.length > 0 ? `<h3>Advice</h3><ul>${v.advice.map((a) => `<li>${esc(a)}</li>`).join('')}</ul>` : ''}
${charts.join('\n')}
${report.jacobian ? `<p>Input-output Jacobian mean squared singular value: <b>${esc(formatNumber(report.jacobian.meanSqSingular))}</b> (${report.jacobian.projections} random projection(s); ~1 is dynamical isometry)</p>` : ''}
<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${report.layers.map((l) => layerRow(l, l.name === v.firstBadLayer)).join('\n')}
</tbody></table>
${report.notes.map((n) => `<p class="note">note: ${esc(n)}</p>`).join('\n')}
</body></html>
`;
}
