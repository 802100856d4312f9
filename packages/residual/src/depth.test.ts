import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { residualStage, stem } from './index.js';

/**
 * He et al. 2015's degradation setting, at init: a 56-layer net (1 stem conv + 27 blocks x 2
 * convs + 1 dense head = 56 weight layers) with sigmoid activations and no norm, as a plain
 * stack and as its pre-activation residual twin (same layers, same initializer, plus the
 * identity shortcuts). sigmoid' <= 1/4, so the plain stack's gradient shrinks geometrically
 * with depth; the shortcuts carry an identity Jacobian around every branch, so the residual
 * twin's first layer gets a gradient of the same order as its last.
 */
function fiftySixLayers(plain: boolean): tf.LayersModel {
  const common = { activation: 'sigmoid', norm: 'none', kernelInitializer: 'he_normal' } as const;
  const x = tf.input({ shape: [4, 4, 8] });
  let h = stem(x, { ...common, filters: 8, kernelSize: 3, stride: 1, pool: false, preact: true });
  h = residualStage(h, { ...common, block: 'preact_basic', blocks: 27, filters: 8, plain, name: 'stage1' });
  h = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 4, name: 'head' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: h });
}

/** Frobenius norms of the gradients of every kernel of `model`, first to last layer. */
function kernelGradientNorms(model: tf.LayersModel): { name: string; norm: number }[] {
  return tf.tidy(() => {
    const x = tf.randomUniform([8, 4, 4, 8], -1, 1, 'float32', 1);
    const target = tf.randomUniform([8, 4], -1, 1, 'float32', 2);
    const kernels = model.trainableWeights.filter((w) => /\/kernel(_\d+)?$/.test(w.name));
    const variables = kernels.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      variables,
    );
    return kernels.map((w, i) => ({
      name: w.name,
      norm: tf.norm(grads[variables[i]!.name]!).dataSync()[0]!,
    }));
  });
}

describe('a 56-layer plain sigmoid stack vs its residual twin at init', () => {
  it('the residual first-layer gradient is within 10x of the last layer; the plain one is not', () => {
    const before = tf.memory().numTensors;
    const results = [true, false].map((plain) => {
      const model = fiftySixLayers(plain);
      const norms = kernelGradientNorms(model);
      model.dispose();
      expect(norms).toHaveLength(56);
      const first = norms[0]!;
      const last = norms[54]!; // the last conv; norms[55] is the dense head
      return { plain, first: first.norm, last: last.norm, ratio: first.norm / last.norm };
    });
    const [plain, residual] = results;
    expect(residual!.ratio).toBeGreaterThan(0.1);
    expect(residual!.ratio).toBeLessThan(10);
    // the plain stack's first-layer gradient is many orders of magnitude below its last layer's
    expect(plain!.ratio).toBeLessThan(1e-3);
    expect(residual!.first).toBeGreaterThan(1e3 * plain!.first);
    expect(tf.memory().numTensors).toBe(before);
  });
});
