// A/B of a ResNet-20 training step (batch 32) in ONE process, modes interleaved round by round so
// machine noise hits both alike: all gradflow kernels vs the same without this round's fused
// FusedBatchNorm forward/gradient and ReLU, Sum and Mean gradients.
//   npx tsx --conditions=source bench/ab.ts [--rounds N] [--batch N] [--threads N]
import * as tf from '@tensorflow/tfjs';
import {
  registerGradflowKernels,
  stockKernel,
  unregisterGradflowKernels,
  useWasmBackend,
} from '../src/index.js';
import { uninstallGradients } from '../src/gradients.js';
import { resnetCifar } from '../test/models.js';

const args = process.argv.slice(2);
const arg = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const ROUNDS = arg('--rounds', 7);
const B = arg('--batch', 32);
await useWasmBackend({ threads: arg('--threads', 1) });

function all(): void {
  unregisterGradflowKernels();
  registerGradflowKernels();
}
function withoutFused(): void {
  all();
  uninstallGradients();
  const bn = stockKernel('FusedBatchNorm');
  tf.unregisterKernel('FusedBatchNorm', 'wasm');
  if (bn) tf.registerKernel(bn);
}

const model = resnetCifar(3);
model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
const x = tf.randomUniform([B, 32, 32, 3]);
const y = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32'), 10);
const modes = { all, withoutFused } as const;
const times: Record<keyof typeof modes, number[]> = { all: [], withoutFused: [] };
for (let r = 0; r < ROUNDS + 1; r++) {
  for (const name of Object.keys(modes) as (keyof typeof modes)[]) {
    modes[name]();
    await model.trainOnBatch(x, y); // one untimed step after each switch
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    if (r > 0) times[name].push(performance.now() - t0);
  }
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const a = med(times.all);
const w = med(times.withoutFused);
console.log(
  `ResNet-20 step batch ${B}, median of ${ROUNDS} interleaved rounds: all ${a.toFixed(0)} ms, without fused BN/ReLU/Sum/Mean ${w.toFixed(0)} ms (${(w / a).toFixed(2)}x)`,
);
all();
tf.dispose([x, y]);
process.exit(0);
