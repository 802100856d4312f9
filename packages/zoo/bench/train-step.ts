/**
 * Training-step time of zoo models on cpu and on gradflow's wasm backend, measured side by side
 * in one run (medians after warm-up), printed as ratios. Not a test: numbers are indicative on
 * a shared machine.
 *
 *   npx tsx --conditions=source bench/train-step.ts [--reps 5] [--only resnet20,mlp_relu]
 */
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '@gradflow/backend-wasm';
import { createModel } from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(arg('reps') ?? 5);
const only = arg('only')?.split(',');

const CASES: { name: string; inputShape: number[]; batch: number; options?: Record<string, unknown> }[] = [
  { name: 'resnet20', inputShape: [32, 32, 3], batch: 4 },
  { name: 'plain20', inputShape: [32, 32, 3], batch: 4 },
  { name: 'densenet_bc_100', inputShape: [16, 16, 3], batch: 8 },
  { name: 'unet', inputShape: [32, 32, 1], batch: 4, options: { baseFilters: 16 } },
  { name: 'mlp_relu', inputShape: [784], batch: 64 },
  { name: 'lstm_classifier', inputShape: [28, 28], batch: 32 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeStep(backend: 'cpu' | 'wasm', c: (typeof CASES)[number]): Promise<number> {
  await tf.setBackend(backend);
  const model = createModel(c.name, {
    inputShape: c.inputShape,
    classifierActivation: 'linear',
    numClasses: 10,
    ...c.options,
  });
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomUniform([c.batch, ...c.inputShape]);
  const outShape = (model.outputs[0]!.shape.slice(1) as number[]).map((d) => d ?? 1);
  const y = tf.tidy(() =>
    tf.oneHot(tf.randomUniform([c.batch, ...outShape.slice(0, -1)], 0, 10, 'int32'), 10).toFloat(),
  );
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    );
    loss!.dataSync();
    loss!.dispose();
  };
  step(); // warm-up (kernel compilation, V8 tier-up)
  step();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return median(times);
}

const info = await useWasmBackend();
console.log(`wasm: simd ${info.simd}, threads ${info.threads}; ${reps} reps, medians after 2 warm-up steps`);
console.log('model'.padEnd(18), 'cpu ms'.padStart(10), 'wasm ms'.padStart(10), 'cpu/wasm'.padStart(10));
for (const c of CASES) {
  if (only && !only.includes(c.name)) continue;
  const cpu = await timeStep('cpu', c);
  const wasm = await timeStep('wasm', c);
  console.log(
    c.name.padEnd(18),
    cpu.toFixed(1).padStart(10),
    wasm.toFixed(1).padStart(10),
    (cpu / wasm).toFixed(2).padStart(10),
  );
}
