import * as tf from '@tensorflow/tfjs';
import { activationLayer } from '@gradflow/activations';
import { beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../src/index.js';
import { fromActivationRegistry, outputActivationOf } from '../src/activation-kind.js';

describe('activation kinds from tfjs configs, class names and @gradflow/activations metadata', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('tfjs layers', () => {
    expect(outputActivationOf(tf.layers.dense({ units: 2, activation: 'relu' })).spec.kind).toBe('relu');
    expect(outputActivationOf(tf.layers.dense({ units: 2, activation: 'hardSigmoid' })).spec.kind).toBe(
      'sigmoid',
    );
    expect(outputActivationOf(tf.layers.dense({ units: 2, activation: 'softsign' })).spec.kind).toBe('tanh');
    expect(outputActivationOf(tf.layers.dense({ units: 2, activation: 'elu' })).spec.kind).toBe('other');
    expect(outputActivationOf(tf.layers.reLU({})).spec.kind).toBe('relu');
    expect(outputActivationOf(tf.layers.activation({ activation: 'tanh' })).spec.kind).toBe('tanh');
    expect(outputActivationOf(tf.layers.simpleRNN({ units: 2 })).spec.kind).toBe('tanh');
    expect(outputActivationOf(tf.layers.lstm({ units: 2 })).spec.kind).toBe('other');
    expect(outputActivationOf(tf.layers.leakyReLU({})).spec.kind).toBe('other');
  });

  it('registry metadata', () => {
    expect(fromActivationRegistry('hard_tanh')).toMatchObject({ kind: 'tanh', supDerivative: 1 });
    expect(fromActivationRegistry('hard_sigmoid')!.kind).toBe('sigmoid');
    expect(fromActivationRegistry('hard_sigmoid')!.supDerivative).toBeCloseTo(1 / 6, 12);
    expect(fromActivationRegistry('relu')!.kind).toBe('relu');
    expect(fromActivationRegistry('gelu')!.kind).toBe('other');
    expect(fromActivationRegistry('leaky_relu', { slope: 0.1 })!.kind).toBe('other');
    expect(fromActivationRegistry('no_such_activation')).toBeNull();
  });

  it('gradflow activation layers in a model: saturation and dead units counted', async () => {
    const input = tf.input({ shape: [6] });
    let h = tf.layers
      .dense({
        units: 16,
        kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 3, seed: 1 }),
        name: 'pre',
      })
      .apply(input) as tf.SymbolicTensor;
    h = activationLayer('hard_tanh', { name: 'ht' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .dense({ units: 8, biasInitializer: tf.initializers.constant({ value: -50 }), name: 'pre2' })
      .apply(h) as tf.SymbolicTensor;
    h = activationLayer('relu', { name: 'r' }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'head' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([12, 6], 0, 1, 'float32', 2);
    const y = tf.zeros([12, 2]);
    const n = tf.memory().numTensors;
    const r = await probe(model, { x, y }, { loss: 'mse' });
    expect(tf.memory().numTensors).toBe(n);
    const ht = r.layers.find((l) => l.name === 'ht')!;
    expect(ht.activation!.kind).toBe('tanh');
    const acts = tf.tidy(() => {
      const aux = tf.model({
        inputs: model.inputs,
        outputs: model.getLayer('ht').output as tf.SymbolicTensor,
      });
      return (aux.predict(x) as tf.Tensor).dataSync();
    });
    const expected = Array.from(acts).filter((v) => Math.abs(v) >= 1).length / acts.length;
    expect(ht.activation!.saturatedFraction).toBeCloseTo(expected, 6);
    expect(expected).toBeGreaterThan(0.5);
    expect(r.layers.find((l) => l.name === 'r')!.activation!.deadFraction).toBe(1);
    expect(r.verdict.status).toBe('dead');
    expect(r.verdict.firstBadLayer).toBe('r');
    tf.dispose([x, y]);
  });
});
