import type { RunDocument } from './document.js';
import { fmt, markdownTable } from './format.js';
import { RUNNER_LABELS, type RunnerId, type SpeedResult } from '../speed/types.js';

const VERDICT_MARK = { held: 'HELD', 'did not hold': 'DID NOT HOLD', inconclusive: 'INCONCLUSIVE' } as const;

export function renderMarkdown(doc: RunDocument): string {
  const out: string[] = [];
  out.push(`# gradflow benchmark report`, '');
  out.push(
    `Mode \`${doc.mode}\`, seed ${doc.seed}, ${doc.environment.cpu} (${doc.environment.cores} cores), Node ${doc.environment.node}.`,
  );
  out.push(`Started ${doc.startedAt}, finished ${doc.finishedAt}. Command: \`${doc.command}\`.`, '');

  if (doc.experiments.length > 0) {
    out.push('## Summary', '');
    out.push(
      markdownTable(
        ['experiment', 'verdict', 'finding'],
        doc.experiments.map((e) => [
          e.title,
          e.result ? VERDICT_MARK[e.result.verdict] : `error: ${e.error}`,
          e.result?.finding ?? '',
        ]),
      ),
      '',
    );
  }
  for (const e of doc.experiments) {
    out.push(`## ${e.title}`, '');
    out.push(`*${e.citation}.* **Claim:** ${e.claim}`, '');
    out.push(`**Rule (fixed before running):** ${e.rule}`, '');
    if (!e.result) {
      out.push(`**Error:** ${e.error}`, '');
      continue;
    }
    out.push(`**Setup:** ${e.result.setup} (${e.seconds.toFixed(1)} s)`, '');
    if (e.result.deviations.length > 0)
      out.push('**Deviations from the paper:**', '', ...e.result.deviations.map((d) => `- ${d}`), '');
    out.push(`**Verdict: ${VERDICT_MARK[e.result.verdict]}.** ${e.result.finding}`, '');
    for (const t of e.result.tables) out.push(`*${t.caption}*`, '', markdownTable(t.columns, t.rows), '');
    for (const c of e.result.charts) out.push(`![${c.title}](charts/${c.id}.svg)`, '');
  }
  if (doc.speed) out.push(...renderSpeed(doc), '');
  return out.join('\n');
}

function renderSpeed(doc: RunDocument): string[] {
  const speed = doc.speed!;
  const out = ['## Speed: training-step throughput', ''];
  if (speed.peakGemmGflops) {
    const simd = speed.simdPeakGflops
      ? ` (SIMD multiply-add peak of the core: ${fmt(speed.simdPeakGflops)} GFLOP/s)`
      : '';
    out.push(
      `Measured WASM SIMD GEMM (512³, 1 thread) on this machine: **${fmt(speed.peakGemmGflops)} GFLOP/s**${simd}.`,
      '',
    );
  }
  out.push(
    'Examples per second (median after warm-up); the ratio column is gradflow wasm (1 thread) over each alternative.',
    '',
    speedTable(speed),
    '',
  );
  for (const note of speed.notes) out.push(`- ${note}`);
  for (const c of doc.charts) out.push('', `![${c.title}](charts/${c.id}.svg)`);
  return out;
}

/** The throughput table (report.md and the end of a run's terminal output). */
export function speedTable(speed: SpeedResult): string {
  const runners = (Object.keys(RUNNER_LABELS) as RunnerId[]).filter((r) =>
    speed.rows.some((row) => row.results[r]),
  );
  const rows = speed.rows.map((row) => {
    const ours = row.results.gradflow_wasm_1t?.examplesPerSecond;
    const cells = runners.map((r) => {
      const m = row.results[r];
      if (!m) return '';
      if (m.examplesPerSecond === undefined) return m.note ?? 'n/a';
      const ratio = ours && r !== 'gradflow_wasm_1t' ? ` (${fmt(ours / m.examplesPerSecond)}x)` : '';
      return `${fmt(m.examplesPerSecond)}${ratio}${m.batch ? ` at b${m.batch}` : ''}`;
    });
    const gflops = ours ? (row.gflopPerStep * ours) / row.batch : undefined;
    const ofPeak =
      gflops && speed.peakGemmGflops
        ? `${fmt(gflops)} (${fmt((100 * gflops) / speed.peakGemmGflops)}%)`
        : gflops
          ? fmt(gflops)
          : '';
    return [
      `${row.model} ${row.inputShape.join('x')} b${row.batch}`,
      fmt(row.gflopPerStep),
      ...cells,
      ofPeak,
    ];
  });
  return markdownTable(
    ['model', 'GFLOP/step', ...runners.map((r) => RUNNER_LABELS[r]), 'ours GFLOP/s (% of peak)'],
    rows,
  );
}
