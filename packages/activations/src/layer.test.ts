import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runLayerContract } from '@gradflow/testing';
import { activationLayer, listActivations, type GradflowActivation } from './index.js';

/**
 * An identity-initialised dense layer in front of the activation: the contract then also checks
 * that the activation's gradient reaches the weight before it, on cpu and wasm alike (and
 * `runLayerContract` needs at least one trainable weight: tf.variableGrads rejects an empty list).
 */
function throughDense(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  const dense = tf.layers.dense({
    units: 4,
    useBias: false,
    kernelInitializer: 'identity',
    name: `dense_${name}`,
  });
  return dense.apply(x) as tf.SymbolicTensor;
}

describe('GradflowActivation layer', () => {
  it('passes the layer contract for every activation', async () => {
    for (const name of listActivations()) {
      const result = await runLayerContract({
        name,
        inputShape: [3, 4],
        outputShape: [3, 4],
        // RReLU's training-mode slopes are random (tested on their own below); compare in inference
        training: name !== 'rrelu',
        // inputs spread over the kinks and tails: uniform in [-8, 8)
        makeInput: (shape, rng) =>
          tf.tensor(
            rng.fill(
              shape.reduce((a, b) => a * b, 1),
              (r) => r.uniform(-8, 8),
            ),
            shape,
          ),
        build: (x) =>
          activationLayer(name, { name: `act_${name}` }).apply(throughDense(x, name)) as tf.SymbolicTensor,
      });
      const weights = [`dense_${name}/kernel`, ...(name === 'prelu' ? ['act_prelu/alpha'] : [])];
      expect(result.trainableWeightNames).toEqual(weights);
    }
  });

  it('keeps a per-channel PReLU weight and the parameters in its config', async () => {
    await runLayerContract({
      name: 'prelu per channel',
      inputShape: [2, 4],
      build: (x) =>
        activationLayer({ name: 'prelu', per_channel: true, init: 0.1 }).apply(
          throughDense(x, 'pc'),
        ) as tf.SymbolicTensor,
    });
    const layer = activationLayer({ name: 'leaky_relu', slope: 0.3 }, { name: 'a1' }) as GradflowActivation;
    expect(layer.getConfig()).toMatchObject({ activation: 'leaky_relu', params: { slope: 0.3 }, name: 'a1' });
    expect((activationLayer('swish') as GradflowActivation).activation).toBe('silu');
  });
});
