/**
 * Probe overhead: time of probe() vs one plain training step (forward + backward + SGD update)
 * of the same model on the same batch, measured side by side, medians after warm-up.
 *
 *   npx tsx --conditions=source bench/overhead.ts [--backend cpu|wasm] [--reps N] [--block K]
 *
 * Target (issue 7): probe <= 1.5x a training step. Jacobian estimates are off here (they are
 * extra backward passes by design).
 *
 * Each rep times a block of K consecutive training steps, then a block of K consecutive probes
 * (per-call time = block time / K); medians over reps. Blocks rather than single calls: both
 * allocate megabytes of short-lived JS objects per call (tfjs bookkeeping), V8 scavenges its
 * young generation about once per step + probe pair, and each scavenge takes milliseconds. With
 * single interleaved calls it phase-locks onto one side (the same one in every rep), so the
 * ratio flips between runs depending on which side pays for both; in a block each side pays
 * for the garbage it makes. Default K: 8, or 1 on cpu (seconds per call, GC is noise there).
 */
import * as tf from '@tensorflow/tfjs';
import { probe } from '../src/index.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const backend = arg('backend', 'cpu');
const reps = Number(arg('reps', '15'));
const block = Number(arg('block', backend === 'cpu' ? '1' : '8'));
const warmup = 3;

function mlp(depth: number, width: number) {
  const input = tf.input({ shape: [64] });
  let h: tf.SymbolicTensor = input;
  for (let i = 0; i < depth; i++) {
    h = tf.layers
      .dense({ units: width, activation: 'relu', kernelInitializer: 'heNormal' })
      .apply(h) as tf.SymbolicTensor;
  }
  const out = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function resnet(n: number, width: number, size: number) {
  const input = tf.input({ shape: [size, size, 3] });
  const conv = (x: tf.SymbolicTensor, f: number, s: number) =>
    tf.layers
      .conv2d({
        filters: f,
        kernelSize: 3,
        strides: s,
        padding: 'same',
        useBias: false,
        kernelInitializer: 'heNormal',
      })
      .apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor) => tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor) => tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  let h = relu(bn(conv(input, width, 1)));
  for (let s = 0; s < 3; s++) {
    for (let b = 0; b < n; b++) {
      const f = width * 2 ** s;
      const stride = s > 0 && b === 0 ? 2 : 1;
      let r = relu(bn(conv(h, f, stride)));
      r = bn(conv(r, f, 1));
      let sc = h;
      if (stride !== 1 || h.shape[3] !== f) {
        sc = bn(
          tf.layers
            .conv2d({ filters: f, kernelSize: 1, strides: stride, useBias: false })
            .apply(h) as tf.SymbolicTensor,
        );
      }
      h = relu(tf.layers.add().apply([sc, r]) as tf.SymbolicTensor);
    }
  }
  const p = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, activation: 'softmax' }).apply(p) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, training: boolean) {
  const opt = tf.train.sgd(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = async () => {
    const loss = opt.minimize(
      () =>
        tf.mean(
          tf.metrics.categoricalCrossentropy(y, model.apply(x, { training }) as tf.Tensor),
        ) as tf.Scalar,
      true,
      vars,
    );
    await loss!.data();
    loss!.dispose();
  };
  const probeOnce = async () => {
    await probe(model, { x, y }, { loss: 'categorical_crossentropy', training });
  };
  const tStep: number[] = [];
  const tProbe: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    // Interleaved blocks, so both see the same machine load.
    let t0 = performance.now();
    for (let k = 0; k < block; k++) await step();
    const a = (performance.now() - t0) / block;
    t0 = performance.now();
    for (let k = 0; k < block; k++) await probeOnce();
    const b = (performance.now() - t0) / block;
    if (i >= warmup) {
      tStep.push(a);
      tProbe.push(b);
    }
  }
  const s = median(tStep);
  const p = median(tProbe);
  console.log(
    `${name.padEnd(28)} train step ${s.toFixed(1).padStart(8)} ms   probe ${p.toFixed(1).padStart(8)} ms   ratio ${(p / s).toFixed(2)}x ${p / s <= 1.5 ? '(<= 1.5x ok)' : '(> 1.5x)'}`,
  );
  opt.dispose();
}

async function main() {
  if (backend === 'wasm') {
    const { useWasmBackend } = await import('@gradflow/backend-wasm');
    await useWasmBackend();
  } else {
    await tf.setBackend(backend);
  }
  await tf.ready();
  console.log(
    `backend ${tf.getBackend()}, ${reps} reps after ${warmup} warm-up, blocks of ${block} calls, medians`,
  );
  {
    const m = mlp(12, 128);
    const x = tf.randomNormal([64, 64]);
    const y = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32'), 10).cast('float32');
    await measure('mlp 12x128, batch 64', m, x, y, false);
    tf.dispose([x, y]);
  }
  {
    const m = resnet(3, 8, 8);
    const x = tf.randomNormal([16, 8, 8, 3]);
    const y = tf.oneHot(tf.randomUniform([16], 0, 10, 'int32'), 10).cast('float32');
    await measure('resnet20 w8 8x8, batch 16', m, x, y, true);
    tf.dispose([x, y]);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
