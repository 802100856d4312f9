// Initializer speed, ours vs tfjs-layers, side by side in one run, medians after warm-up.
//   npx tsx --conditions=source bench/initializers.ts            (full)
//   npx tsx --conditions=source bench/initializers.ts --quick    (a few seconds)
// Ours samples on the CPU with @gradflow/core's Rng (bit-identical on every backend); tfjs
// samples with its own ops on the active backend (cpu here). Orthogonal: ours is Householder QR
// in Float64 in plain JS, tfjs's is tf.linalg.qr (it warns above 2000 elements).
import * as tf from '@tensorflow/tfjs';
import { resolveInitializer, type InitializerLike } from '../src/index.js';

const quick = process.argv.includes('--quick');
const repeats = quick ? 3 : 7;

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

/** Interleaved runs of both, after one warm-up call each; returns the two medians in ms. */
function pair(a: () => tf.Tensor, b: (() => tf.Tensor) | undefined, n = repeats): [number, number] {
  time(a);
  if (b) time(b);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < n; r++) {
    ta.push(time(a));
    if (b) tb.push(time(b));
  }
  return [median(ta), b ? median(tb) : Number.NaN];
}

function row(label: string, ours: number, theirs: number): void {
  const ratio = Number.isNaN(theirs) ? '' : `${(theirs / ours).toFixed(2)}x`;
  console.log(
    label.padEnd(44),
    ours.toFixed(1).padStart(10),
    (Number.isNaN(theirs) ? 'skipped' : theirs.toFixed(1)).padStart(10),
    ratio.padStart(10),
  );
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const warn = console.warn;
  console.warn = () => {};
  console.log('case'.padEnd(44), 'ours ms'.padStart(10), 'tfjs ms'.padStart(10), 'tfjs/ours'.padStart(10));

  const sampleShapes = quick
    ? [[3, 3, 64, 64]]
    : [
        [512, 512],
        [3, 3, 64, 64],
        [3, 3, 256, 256],
      ];
  const sampling: [InitializerLike, () => ReturnType<typeof tf.initializers.heNormal>, string][] = [
    [
      { name: 'he_normal', seed: 1 },
      () => tf.initializers.randomNormal({ mean: 0, stddev: 0.05, seed: 1 }),
      'he_normal vs randomNormal',
    ],
    [
      { name: 'he_truncated_normal', seed: 1 },
      () => tf.initializers.heNormal({ seed: 1 }),
      'he_truncated_normal vs heNormal',
    ],
    [
      { name: 'glorot_uniform', seed: 1 },
      () => tf.initializers.glorotUniform({ seed: 1 }),
      'glorot_uniform vs glorotUniform',
    ],
  ];
  for (const shape of sampleShapes) {
    for (const [spec, theirs, label] of sampling) {
      const a = resolveInitializer(spec);
      const b = theirs();
      const [ma, mb] = pair(
        () => a.apply(shape),
        () => b.apply(shape),
      );
      row(`${label} ${JSON.stringify(shape)}`, ma, mb);
    }
  }

  const orthoShapes = quick
    ? [
        [64, 64],
        [3, 3, 16, 32],
      ]
    : [
        [128, 128],
        [256, 256],
        [512, 512],
        [3, 3, 64, 64],
        [3, 3, 256, 256],
        [1024, 256],
        [256, 1024],
      ];
  for (const shape of orthoShapes) {
    const ours = resolveInitializer({ name: 'orthogonal', seed: 1 });
    const theirs = tf.initializers.orthogonal({ gain: 1, seed: 1 });
    const size = shape.reduce((x, y) => x * y, 1);
    // tfjs's QR takes ~1 min per call at 512x512; only small shapes run both.
    const runTheirs = size <= 70_000;
    const [ma, mb] = pair(
      () => ours.apply(shape),
      runTheirs ? () => theirs.apply(shape) : undefined,
      runTheirs ? Math.min(repeats, 3) : repeats,
    );
    row(`orthogonal ${JSON.stringify(shape)}`, ma, mb);
  }
  console.warn = warn;
}

void main();
