// Orthogonal initializer: ours (Householder QR in Float64 on the CPU) vs tfjs's
// tf.initializers.orthogonal (tf.linalg.qr), side by side in one run, medians after warm-up.
//   npx tsx --conditions=source bench/orthogonal.ts [--quick]
import * as tf from '@tensorflow/tfjs';
import { resolveInitializer } from '../src/index.js';

const quick = process.argv.includes('--quick');
const shapes: number[][] = quick
  ? [
      [64, 64],
      [3, 3, 16, 32],
    ]
  : [
      [128, 128],
      [256, 256],
      [512, 512],
      [1024, 1024],
      [3, 3, 64, 64],
      [3, 3, 256, 256],
      [3, 3, 512, 512],
      [1024, 256],
      [256, 1024],
    ];
const repeats = quick ? 3 : 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => tf.Tensor): number {
  const t0 = performance.now();
  const t = fn();
  t.dataSync();
  const dt = performance.now() - t0;
  t.dispose();
  return dt;
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const warn = console.warn;
  console.warn = () => {}; // tfjs warns on every orthogonal call above 2000 elements
  console.log('shape'.padEnd(20), 'ours ms'.padStart(10), 'tfjs ms'.padStart(10), 'tfjs/ours'.padStart(10));
  for (const shape of shapes) {
    const ours = resolveInitializer({ name: 'orthogonal', seed: 1 });
    const theirs = tf.initializers.orthogonal({ gain: 1, seed: 1 });
    const size = shape.reduce((a, b) => a * b, 1);
    // tfjs's QR is O(n^3) tensor ops; skip it where one call would take minutes (512x512 takes ~1 min per call).
    const runTheirs = size <= 70_000;
    time(() => ours.apply(shape));
    if (runTheirs) time(() => theirs.apply(shape));
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < repeats; r++) {
      a.push(time(() => ours.apply(shape)));
      if (runTheirs) b.push(time(() => theirs.apply(shape)));
    }
    const ma = median(a);
    const mb = runTheirs ? median(b) : Number.NaN;
    console.log(
      JSON.stringify(shape).padEnd(20),
      ma.toFixed(1).padStart(10),
      (runTheirs ? mb.toFixed(1) : 'skipped').padStart(10),
      (runTheirs ? (mb / ma).toFixed(1) + 'x' : '').padStart(10),
    );
  }
  console.warn = warn;
}

void main();
