/**
 * Side-by-side timings of residual-block training steps (forward + backward via
 * tf.variableGrads), medians after warm-up, printed as ratios measured in one run:
 *   1. the same ResNet stage on gradflow's wasm backend vs tfjs cpu;
 *   2. option-A shortcut vs projection shortcut (same backend);
 *   3. a stage with drop-path 0.1 vs without (training mode).
 *
 *   npx tsx --conditions=source bench/blocks.ts [--batch 8] [--size 16] [--reps 5]
 */
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '@gradflow/backend-wasm';
import { residualStage, type ResidualStageOptions } from '../src/index.js';

const arg = (flag: string, fallback: number) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const batch = arg('--batch', 8);
const size = arg('--size', 16);
const reps = arg('--reps', 5);

function stage(options: Partial<ResidualStageOptions>): tf.LayersModel {
  const x = tf.input({ shape: [size, size, 16] });
  const y = residualStage(x, { block: 'basic', blocks: 3, filters: 32, stride: 2, name: 's', ...options });
  return tf.model({ inputs: x, outputs: y });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median ms of a training step of `model`, after 2 warm-up steps. */
function timeStep(model: tf.LayersModel): number {
  const x = tf.randomUniform([batch, size, size, 16], -1, 1, 'float32', 1);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      vars,
    );
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  step();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  x.dispose();
  return median(times);
}

async function on<T>(backend: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  if (backend === 'wasm') await useWasmBackend();
  await tf.setBackend(backend);
  await tf.ready();
  return fn();
}

await tf.setBackend('cpu');
await tf.ready();
const rows: [string, number, number][] = [];
const projection = stage({});
const optionA = stage({ shortcut: 'option_a' });
const dropPath = stage({ dropPath: 0.1 });

const cpu = await on('cpu', () => timeStep(projection));
const wasm = await on('wasm', () => timeStep(projection));
rows.push(['stage step, wasm / cpu', wasm, cpu]);
for (const backend of ['cpu', 'wasm'] as const) {
  const [a, p] = await on(backend, () => [timeStep(optionA), timeStep(projection)]);
  rows.push([`option A / projection (${backend})`, a!, p!]);
  const [d, n] = await on(backend, () => [timeStep(dropPath), timeStep(projection)]);
  rows.push([`drop-path 0.1 / none (${backend})`, d!, n!]);
}

console.log(
  `batch ${batch}, ${size}x${size}x16 -> 3 basic blocks of 32 filters, median of ${reps} after 2 warm-up steps`,
);
for (const [what, a, b] of rows)
  console.log(
    `${what.padEnd(34)} ${a.toFixed(1).padStart(8)} ms / ${b.toFixed(1).padStart(8)} ms = ${(a / b).toFixed(2)}x`,
  );
for (const m of [projection, optionA, dropPath]) m.dispose();
