/**
 * Forward+backward throughput of every activation on the wasm backend, ours vs the closest
 * tfjs built-in (op or tfjs-layers activation formula), measured side by side in one run.
 * Not a test: numbers depend on the machine; the ratio is what to read (target: <= 1.1).
 * Also prints the kernels dispatched per forward+backward call (noise-free; on small tensors each
 * costs ~2 µs whatever its size, so at ~1k elements time follows the kernel count). Each timing
 * sample runs `--inner` calls (default: enough for ~64k elements per sample, at least 4).
 *
 *   cd packages/activations && npx tsx --conditions=source bench/activations.ts [--size N] [--reps R] [--only gelu,silu]
 */
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '@gradflow/backend-wasm';
import { ACTIVATIONS, applyActivation, defaultParams, type CanonicalActivationName } from '../src/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SIZE = arg('size', 1 << 18);
const REPS = arg('reps', 15);
const INNER = arg('inner', Math.max(4, Math.round(65536 / SIZE)));
const WARMUP = arg('warmup', 5);
const onlyIndex = process.argv.indexOf('--only');
const ONLY = onlyIndex >= 0 ? new Set(process.argv[onlyIndex + 1]!.split(',')) : undefined;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** ms per forward+backward call of f. */
function timeOne(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, dy: tf.Tensor): number {
  const start = performance.now();
  for (let i = 0; i < INNER; i++) {
    tf.tidy(() => {
      const g = tf.grad(f)(x, dy);
      g.dataSync();
    });
  }
  return (performance.now() - start) / INNER;
}

/**
 * Kernels dispatched by one forward+backward call of f (from `tf.profile`, whose records also
 * include the scopes of `tf.customGrad` ops, which are not kernels).
 */
async function kernelCount(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, dy: tf.Tensor): Promise<number> {
  const info = await tf.profile(() => {
    tf.tidy(() => {
      tf.grad(f)(x, dy);
    });
  });
  return info.kernels.filter((k) => tf.getKernel(k.name, tf.getBackend()) !== undefined).length;
}

async function main(): Promise<void> {
  const info = await useWasmBackend();
  console.log(
    `backend ${tf.getBackend()} simd=${info.simd} threads=${info.threads}; ${SIZE} float32 elements, median of ${REPS} x ${INNER} calls after ${WARMUP} warm-ups`,
  );
  const x = tf.randomUniform([SIZE], -4, 4, 'float32', 1);
  const dy = tf.randomUniform([SIZE], -1, 1, 'float32', 2);
  const rows: string[][] = [
    ['activation', 'built-in', 'kernels', 'ours ms', 'built-in ms', 'ratio', 'ratio of minima'],
  ];
  const names = (Object.keys(ACTIVATIONS) as CanonicalActivationName[]).filter((n) => !ONLY || ONLY.has(n));
  // one global warm-up first: otherwise the first activation measured also pays for tfjs's and
  // V8's tiering-up of the shared code paths, at random on ours or the built-in
  for (const name of names) {
    const spec = ACTIVATIONS[name];
    const params = defaultParams(name);
    timeOne((t) => applyActivation(name, t), x, dy);
    if ('builtin' in spec) timeOne((t) => spec.builtin.op(t, params), x, dy);
  }
  for (const name of names) {
    const spec = ACTIVATIONS[name];
    const params = defaultParams(name);
    const ours = (t: tf.Tensor) => applyActivation(name, t);
    const builtin = 'builtin' in spec ? spec.builtin : undefined;
    const theirs = builtin ? (t: tf.Tensor) => builtin.op(t, params) : undefined;
    const kernels = `${await kernelCount(ours, x, dy)} / ${theirs ? await kernelCount(theirs, x, dy) : '-'}`;
    for (let i = 0; i < WARMUP; i++) {
      timeOne(ours, x, dy);
      if (theirs) timeOne(theirs, x, dy);
    }
    const a: number[] = [];
    const b: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < REPS; r++) {
      // paired and alternating (order flipped every rep), so drifts in machine load hit both alike
      const first = r % 2 === 0;
      const tb1 = theirs && !first ? timeOne(theirs, x, dy) : Number.NaN;
      const ta = timeOne(ours, x, dy);
      const tb = theirs ? (first ? timeOne(theirs, x, dy) : tb1) : Number.NaN;
      a.push(ta);
      if (theirs) {
        b.push(tb);
        ratios.push(ta / tb);
      }
    }
    rows.push([
      name,
      builtin?.label ?? '(none)',
      kernels,
      median(a).toFixed(3),
      theirs ? median(b).toFixed(3) : '-',
      theirs ? median(ratios).toFixed(2) : '-',
      theirs ? (Math.min(...a) / Math.min(...b)).toFixed(2) : '-',
    ]);
  }
  console.log(
    'kernels: ours / built-in per forward+backward call; ms: medians; ratio: median of paired (alternating) ratios; ratio of minima: least noisy on a busy machine',
  );
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  for (const r of rows) console.log(r.map((c, j) => c.padEnd(widths[j]!)).join('  '));
  tf.dispose([x, dy]);
}

await main();
