// Per-kernel profile of one ResNet-20 training step (batch 32, 32x32x3) with gradflow's kernels.
//   npx tsx --conditions=source --experimental-wasm-relaxed-simd bench/profile.ts [--batch N] [--top N] [--threads N]
// Sums tf.profile's kernelTimeMs by kernel name and by (name, input shapes); medians of 3 steps.
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../src/index.js';
import { resnetCifar } from '../test/models.js';

const args = process.argv.slice(2);
const arg = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const B = arg('--batch', 32);
const TOP = arg('--top', 10);
const FILTER = args.includes('--grep') ? new RegExp(args[args.indexOf('--grep') + 1] ?? '') : null;

await useWasmBackend({ threads: arg('--threads', 1) });
const model = resnetCifar(3);
model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
const x = tf.randomUniform([B, 32, 32, 3]);
const y = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32'), 10);
for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
const runs: Map<string, number>[] = [];
const shapeRuns: Map<string, number>[] = [];
let total = 0;
const calls = new Map<string, number>();
for (let r = 0; r < 3; r++) {
  const byName = new Map<string, number>();
  const byShape = new Map<string, number>();
  const t0 = performance.now();
  const prof = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  total += performance.now() - t0;
  for (const k of prof.kernels) {
    if (k.name.endsWith('__op')) continue; // op scopes wrap the kernels they call: not kernels
    const ms = k.kernelTimeMs as number;
    byName.set(k.name, (byName.get(k.name) ?? 0) + ms);
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s?.join(',') ?? ''}]`).join(' ')}`;
    byShape.set(key, (byShape.get(key) ?? 0) + ms);
    if (r === 0) calls.set(key, (calls.get(key) ?? 0) + 1).set(k.name, (calls.get(k.name) ?? 0) + 1);
  }
  runs.push(byName);
  shapeRuns.push(byShape);
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
function table(rs: Map<string, number>[], title: string): void {
  const keys = new Set(rs.flatMap((m) => [...m.keys()]));
  const rows = [...keys].map((k) => [k, med(rs.map((m) => m.get(k) ?? 0))] as const);
  const sum = rows.reduce((p, [, v]) => p + v, 0);
  rows.sort((a, b) => b[1] - a[1]);
  console.log(
    `\n${title} (kernel total ${sum.toFixed(0)} ms; step with profiling ${(total / 3).toFixed(0)} ms)`,
  );
  console.log('| kernel | calls | ms | share |');
  console.log('|---|---:|---:|---:|');
  for (const [k, v] of (FILTER ? rows.filter(([k]) => FILTER.test(k)) : rows).slice(0, TOP))
    console.log(`| ${k} | ${calls.get(k) ?? 0} | ${v.toFixed(1)} | ${((100 * v) / sum).toFixed(1)}% |`);
}
table(runs, `ResNet-20 step, batch ${B}, by kernel`);
table(shapeRuns, `ResNet-20 step, batch ${B}, by kernel and input shapes`);
tf.dispose([x, y]);
process.exit(0);
