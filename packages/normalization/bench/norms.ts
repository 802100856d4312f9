/**
 * Forward+backward time of each norm at ResNet-like shapes on the wasm backend, relative to a
 * 3×3 conv2d (same channels in and out) at the same shape — a norm should cost at most 0.3× the
 * conv it follows. Not a test: prints ratios measured side by side in one run, medians after
 * warm-up.
 *
 *   npx tsx --conditions=source bench/norms.ts            (from packages/normalization)
 *   BENCH_SECONDS=0.5 npx tsx --conditions=source bench/norms.ts   (shorter)
 *
 * The conv is timed on wasm (with @gradflow/backend-wasm's kernels when they are registered; the
 * stock backend has no Conv2DBackpropFilter) and on cpu, and both are printed.
 */
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '@gradflow/backend-wasm';
import { BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RMSNorm } from '../src/index.js';

const SHAPES: [number, number, number, number][] = [
  [32, 32, 32, 16],
  [32, 16, 16, 32],
  [32, 8, 8, 64],
];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
/** The cpu conv backward is slow (tens of seconds at batch 32): it is timed at batch 4 and scaled ×8 (it is linear in the batch). */
const CPU_BATCH = 4;
const CPU_CONV = process.env.BENCH_CPU !== '0';

/** Median milliseconds of `step` after warm-up, repeating for about SECONDS (at least 3 runs). */
function time(step: () => void): number {
  for (let i = 0; i < 2; i++) step();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start < SECONDS * 1000 && samples.length < 50)) {
    const t0 = performance.now();
    step();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** Milliseconds of one run after one warm-up (for the slow cpu conv). */
function timeOnce(step: () => void): number {
  step();
  const t0 = performance.now();
  step();
  return performance.now() - t0;
}

/**
 * One forward+backward pass of `f` w.r.t. x and `vars`. The cpu and wasm backends run kernels
 * synchronously, so no read-back is needed (and none is done: reading a 2 MB tensor back from
 * the wasm heap costs more than the whole pass in this setup, and would swamp the comparison).
 */
function fwdBwd(
  f: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  dy: tf.Tensor,
  vars: tf.Variable[],
): () => void {
  // engine.gradients takes the upstream gradient dy directly, so no loss op is timed.
  return () => {
    const { value, grads } = tf.engine().gradients(() => f(x), [x, ...vars], dy);
    tf.dispose([value, ...grads]);
  };
}

function convStep(shape: number[]): () => void {
  const c = shape[3]!;
  const x = tf.randomNormal(shape);
  const dy = tf.randomNormal(shape);
  const w = tf.variable(tf.randomNormal([3, 3, c, c], 0, 0.1));
  return fwdBwd((t) => tf.conv2d(t as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), x, dy, [w]);
}

function normStep(make: () => tf.layers.Layer, shape: number[]): () => void {
  const layer = make();
  layer.apply(tf.input({ batchShape: shape }));
  const x = tf.randomNormal(shape);
  const dy = tf.randomNormal(shape);
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  return fwdBwd((t) => layer.apply(t, { training: true }) as tf.Tensor, x, dy, vars);
}

const NORMS: [string, () => tf.layers.Layer][] = [
  ['batch_norm', () => new BatchNorm()],
  ['layer_norm', () => new LayerNorm()],
  ['group_norm (8)', () => new GroupNorm({ groups: 8 })],
  ['instance_norm', () => new InstanceNorm({ affine: true })],
  ['rms_norm', () => new RMSNorm()],
  ['tfjs batchNormalization', () => tf.layers.batchNormalization()],
];

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const cpuConv = SHAPES.map((s) =>
    CPU_CONV
      ? tf.tidy(() => timeOnce(convStep([CPU_BATCH, ...s.slice(1)]))) * (s[0]! / CPU_BATCH)
      : Number.NaN,
  );
  const info = await useWasmBackend();
  const wasmConvAvailable = tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined;
  console.log(
    `wasm: simd ${info.simd}, threads ${info.kernelThreads}, gradflow kernels: ${info.kernels.join(', ') || 'none'}`,
  );
  console.log(
    `each row: forward+backward (training mode), median ms; ratio = norm / conv3x3 at the same shape (target <= 0.3)\n`,
  );
  for (const [i, shape] of SHAPES.entries()) {
    const wasmConv = wasmConvAvailable ? tf.tidy(() => time(convStep(shape))) : Number.NaN;
    const ref = Number.isFinite(wasmConv) ? wasmConv : cpuConv[i]!;
    console.log(
      `shape [${shape.join(', ')}]  conv3x3: wasm ${wasmConvAvailable ? wasmConv.toFixed(2) + ' ms' : 'n/a (no Conv2DBackpropFilter)'}, cpu ${CPU_CONV ? `${cpuConv[i]!.toFixed(0)} ms (batch ${CPU_BATCH} ×${shape[0]! / CPU_BATCH})` : 'skipped'}`,
    );
    for (const [name, make] of NORMS) {
      const ms = tf.tidy(() => time(normStep(make, shape)));
      const ratio = ms / ref;
      console.log(
        `  ${name.padEnd(24)} ${ms.toFixed(2).padStart(8)} ms   ${ratio.toFixed(3)}x conv (${Number.isFinite(wasmConv) ? 'wasm' : 'cpu'})${ratio <= 0.3 ? '' : '   > 0.3'}`,
      );
    }
  }
}

await main();
