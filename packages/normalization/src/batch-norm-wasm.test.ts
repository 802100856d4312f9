// BatchNorm training on wasm runs @gradflow/backend-wasm's fused kernels (one pass for the batch
// statistics, one forward pass, a two-pass gradient through the statistics); the results match the composed form on cpu.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { expectAllClose, withBackend } from '@gradflow/testing';
import { describe, expect, it } from 'vitest';
import { BatchNorm } from './index.js';

function randomData(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** dx, dγ, dβ of sum(w · BatchNorm(x)) in training mode, and the kernels that ran. */
async function gradients(backend: 'cpu' | 'wasm', shape: number[], xData: Float32Array, wData: Float32Array) {
  return withBackend(backend, async () => {
    const before = tf.memory().numTensors;
    const model = tf.sequential({
      layers: [new BatchNorm({ name: `bn_fused_${backend}_${shape.length}`, inputShape: shape.slice(1) })],
    });
    const x = tf.tensor(xData, shape);
    const w = tf.tensor(wData, shape);
    const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(model.apply(input, { training: true }) as tf.Tensor, w));
    const kernels = new Set<string>();
    let out: Float32Array[] = [];
    const profile = await tf.profile(() => {
      const dx = tf.grad(loss)(x);
      const { value, grads } = tf.variableGrads(() => loss(x) as tf.Scalar, vars);
      out = [dx, ...vars.map((v) => grads[v.name]!)].map((g) => Float32Array.from(g.dataSync()));
      tf.dispose([dx, value, ...Object.values(grads)]);
    });
    for (const k of profile.kernels) kernels.add(k.name);
    tf.dispose([x, w]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    return { out, kernels };
  });
}

describe('BatchNorm on wasm: the fused training kernels', () => {
  it.each([[[4, 5, 5, 8]], [[3, 7, 13]], [[16, 6]]])(
    'gradients w.r.t. x, γ and β of %j match cpu, through GradflowMoments, FusedBatchNorm and GradflowBatchNormGrad',
    async (shape) => {
      const rng = new Rng(71);
      const n = shape.reduce((p, d) => p * d, 1);
      const xData = randomData(rng, n).map((v) => 3 + 2 * v); // off-centre, not unit variance
      const wData = randomData(rng, n);
      const wasm = await gradients('wasm', shape, xData, wData);
      const cpu = await gradients('cpu', shape, xData, wData);
      expect(wasm.kernels.has('GradflowMoments')).toBe(true);
      expect(wasm.kernels.has('FusedBatchNorm')).toBe(true);
      expect(wasm.kernels.has('GradflowBatchNormGrad')).toBe(true);
      expect(cpu.kernels.has('GradflowBatchNormGrad')).toBe(false);
      ['dx', 'dγ', 'dβ'].forEach((what, i) =>
        expectAllClose(wasm.out[i]!, cpu.out[i]!, { rtol: 1e-4, atol: 1e-5 }, what),
      );
    },
  );
});
