import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runLayerContract } from './layer-contract.js';

describe('runLayerContract', () => {
  it('passes for built-in dense and conv layers on every backend under test', async () => {
    const result = await runLayerContract({
      name: 'dense',
      inputShape: [5],
      outputShape: [3],
      build: (x) => tf.layers.dense({ units: 3, activation: 'tanh' }).apply(x) as tf.SymbolicTensor,
    });
    expect(result.trainableWeightNames).toHaveLength(2);
    await runLayerContract({
      name: 'conv+bn',
      inputShape: [6, 6, 2],
      outputShape: [6, 6, 4],
      backends: ['cpu'],
      build: (x) => {
        const y = tf.layers
          .conv2d({ filters: 4, kernelSize: 3, padding: 'same' })
          .apply(x) as tf.SymbolicTensor;
        return tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
      },
    });
  });

  it('passes for a layer without trainable weights', async () => {
    const result = await runLayerContract({
      name: 'relu',
      inputShape: [4],
      outputShape: [4],
      build: (x) => tf.layers.reLU().apply(x) as tf.SymbolicTensor,
    });
    expect(result.trainableWeightNames).toEqual([]);
    expect(result.runs.map((r) => r.backend)).toEqual(['cpu', 'wasm']);
  });

  it('catches a disconnected weight, a wrong shape and a leak', async () => {
    await expect(
      runLayerContract({
        name: 'shape',
        inputShape: [5],
        outputShape: [4],
        backends: ['cpu'],
        build: (x) => tf.layers.dense({ units: 3 }).apply(x) as tf.SymbolicTensor,
      }),
    ).rejects.toThrow('[shape] output shape: [null,3] != [null, 4]');

    // A ReLU fed only negative inputs passes no gradient to the layer before it.
    await expect(
      runLayerContract({
        name: 'dead',
        inputShape: [3],
        backends: ['cpu'],
        build: (x) => {
          const d = tf.layers.dense({
            units: 2,
            kernelInitializer: 'zeros',
            biasInitializer: tf.initializers.constant({ value: -1 }),
          });
          return tf.layers.reLU().apply(d.apply(x)) as tf.SymbolicTensor;
        },
      }),
    ).rejects.toThrow('is identically zero on cpu');

    let kept: tf.Tensor | undefined;
    await expect(
      runLayerContract({
        name: 'leaky',
        inputShape: [3],
        backends: ['cpu'],
        build: (x) => {
          kept = tf.ones([1]);
          return tf.layers.dense({ units: 1 }).apply(x) as tf.SymbolicTensor;
        },
      }),
    ).rejects.toThrow('[leaky] tensor leak: 1 tensor(s) outlived the contract');
    kept?.dispose();
  });
});
