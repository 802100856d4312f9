// A/B of the relaxed-SIMD build (fused multiply-add) against the plain SIMD build, in ONE process,
// interleaved round by round: the SIMD peak, a 512^3 GEMM, a conv filter gradient and a ResNet-20
// training step (batch 32). Node 20 needs --experimental-wasm-relaxed-simd (browsers have it):
//   node --experimental-wasm-relaxed-simd --import tsx --conditions=source bench/relaxed.ts [--rounds N]
import * as tf from '@tensorflow/tfjs';
import { forceKernelVariant, simdPeakGflops, useWasmBackend } from '../src/index.js';
import { engineHasRelaxedSimd } from '../src/runtime.js';
import { resnetCifar } from '../test/models.js';
import { median, timeIt } from './timing.js';

const args = process.argv.slice(2);
const ri = args.indexOf('--rounds');
const ROUNDS = ri >= 0 ? Number(args[ri + 1]) : 5;
if (!engineHasRelaxedSimd()) {
  console.error('this engine has no relaxed SIMD: run node with --experimental-wasm-relaxed-simd');
  process.exit(1);
}
await useWasmBackend();
const a = tf.randomNormal([512, 512]);
const b = tf.randomNormal([512, 512]);
const x = tf.randomNormal([32, 32, 32, 16]);
const dy = tf.randomNormal([32, 32, 32, 16]);
const dw = () =>
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: 1,
    pad: 'same',
    dataFormat: 'NHWC',
    dilations: 1,
    filterShape: [3, 3, 16, 16],
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
const model = resnetCifar(3);
model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
const xs = tf.randomUniform([32, 32, 32, 3]);
const ys = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10);
const results: Record<string, Record<string, number[]>> = { simd: {}, 'relaxed-simd': {} };
const push = (v: string, k: string, n: number) => (results[v]![k] ??= []).push(n);
for (let r = 0; r < ROUNDS; r++) {
  for (const variant of ['simd', 'relaxed-simd'] as const) {
    forceKernelVariant(variant);
    push(variant, 'peak GFLOP/s', simdPeakGflops(5_000_000));
    push(variant, 'GEMM 512^3 GFLOP/s', (2 * 512 ** 3) / timeIt(() => tf.matMul(a, b), 5, 2) / 1e6);
    push(variant, 'dW 32x32x32x16 3x3 GFLOP/s', (2 * 32 * 1024 * 144 * 16) / timeIt(dw, 5, 2) / 1e6);
    for (let i = 0; i < 2; i++) await model.trainOnBatch(xs, ys);
    const ts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await model.trainOnBatch(xs, ys);
      ts.push(performance.now() - t0);
    }
    push(variant, 'ResNet-20 step ms', median(ts));
  }
}
forceKernelVariant(undefined);
console.log(`medians of ${ROUNDS} interleaved rounds`);
console.log('| measure | simd | relaxed-simd | ratio |\n|---|---:|---:|---:|');
for (const k of Object.keys(results.simd!)) {
  const s = median(results.simd![k]!);
  const rx = median(results['relaxed-simd']![k]!);
  console.log(`| ${k} | ${s.toFixed(1)} | ${rx.toFixed(1)} | ${(rx / s).toFixed(2)}x |`);
}
