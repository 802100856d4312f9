/**
 * Cost of the input pipeline relative to making a batch: each augmentation's time divided by
 * the time of `batches()` producing the batch, measured side by side in one run (medians after
 * warm-up). Not a test: numbers are indicative on a shared machine.
 *
 *   npx tsx --conditions=source bench/pipeline.ts [--reps 20] [--batch 128]
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { batches, colorJitter, cutout, makeDataset, mixup, randomCrop, randomFlip } from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const reps = arg('reps', 20);
const batchSize = arg('batch', 128);

await tf.setBackend('cpu');
const rng = new Rng(1);
const n = 1024;
const data = makeDataset(
  tf.randomUniform([n, 32, 32, 3]),
  tf.oneHot(tf.randomUniform([n], 0, 10, 'int32'), 10).toFloat(),
);
const [x, y] = (() => {
  const first = batches(data, { batchSize }).next().value!;
  return [first.x, first.y];
})();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => tf.Tensor | tf.Tensor[]): number {
  for (let w = 0; w < 3; w++) tf.dispose(fn());
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const out = fn();
    for (const t of [out].flat()) t.dataSync();
    ts.push(performance.now() - t0);
    tf.dispose(out);
  }
  return median(ts);
}

const batch = time(() => {
  const b = batches(data, { batchSize, shuffle: true, seed: rng }).next().value!;
  return [b.x, b.y];
});
const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
  ['randomFlip', () => randomFlip(x, { seed: rng })],
  ['randomCrop(pad 4)', () => randomCrop(x, { padding: 4, seed: rng })],
  ['cutout(16)', () => cutout(x, { size: 16, seed: rng })],
  [
    'mixup(0.2)',
    () => {
      const m = mixup(x, y, { seed: rng });
      return [m.x, m.y];
    },
  ],
  ['colorJitter', () => colorJitter(x, { seed: rng })],
];
console.log(`batch ${batchSize}x32x32x3 on cpu, ${reps} reps; batches() takes ${batch.toFixed(2)} ms`);
console.log('augmentation'.padEnd(20), 'ms'.padStart(8), 'x batch'.padStart(9));
for (const [name, fn] of cases) {
  const t = time(fn);
  console.log(name.padEnd(20), t.toFixed(2).padStart(8), (t / batch).toFixed(2).padStart(9));
}
tf.dispose([x, y]);
data.dispose();
