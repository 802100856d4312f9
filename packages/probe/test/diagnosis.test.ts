import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../src/index.js';
import type { ProbeReport } from '../src/index.js';
import { cifarResnet, classificationBatch, mlp, weightValues } from './models.js';

/** A layer that takes the log of its input: NaN for negative inputs. */
class LogLayer extends tf.layers.Layer {
  static className = 'ProbeTestLog';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.log(Array.isArray(inputs) ? inputs[0]! : inputs);
  }
}
tf.serialization.registerClass(LogLayer);

async function probeNoLeak(model: tf.LayersModel, batch: { x: tf.Tensor; y: tf.Tensor }, options = {}) {
  const before = tf.memory().numTensors;
  const weights = weightValues(model);
  const report = await probe(model, batch, { loss: 'categorical_crossentropy', ...options });
  expect(tf.memory().numTensors).toBe(before);
  const after = weightValues(model);
  after.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(weights[i]!)));
  return report;
}

const weightedNames = (r: ProbeReport) =>
  r.layers.filter((l) => l.weights.some((w) => w.shape.length >= 2)).map((l) => l.name);

describe('verdicts on models built here', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('deep sigmoid MLP with small-std init: vanishing, first bad layer near the input', async () => {
    const model = mlp({ depth: 10, width: 32, activation: 'sigmoid', std: 0.05, name: 'sig' });
    const batch = classificationBatch(16, 16, 4);
    const r = await probeNoLeak(model, batch);
    expect(r.verdict.status).toBe('vanishing');
    const idx = weightedNames(r).indexOf(r.verdict.firstBadLayer!);
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(idx).toBeLessThanOrEqual(2);
    expect(r.verdict.advice.join('\n')).toContain("activation: 'relu' with kernelInitializer: 'he_normal'");
    tf.dispose(batch);
  });

  it('deep ReLU MLP with large-std init: exploding', async () => {
    const model = mlp({ depth: 10, width: 32, activation: 'relu', std: 0.6, name: 'big' });
    const batch = classificationBatch(16, 16, 4);
    const r = await probeNoLeak(model, batch);
    expect(r.verdict.status).toBe('exploding');
    expect(r.verdict.advice.join('\n')).toContain('he_normal');
    tf.dispose(batch);
  });

  it('large negative biases after ReLU: dead', async () => {
    const model = mlp({
      depth: 6,
      width: 32,
      activation: 'relu',
      std: Math.sqrt(2 / 32),
      bias: -10,
      name: 'deadnet',
    });
    const batch = classificationBatch(16, 16, 4);
    const r = await probeNoLeak(model, batch);
    expect(r.verdict.status).toBe('dead');
    expect(r.verdict.firstBadLayer).toBe('deadnet_dense_1');
    expect(r.layers[0]!.activation!.deadFraction).toBe(1);
    tf.dispose(batch);
  });

  it('a batch of one example cannot tell dead units from resting ones', async () => {
    const model = mlp({ depth: 6, width: 32, activation: 'relu', std: Math.sqrt(2 / 32), name: 'one' });
    const batch = classificationBatch(1, 16, 4);
    const r = await probeNoLeak(model, batch);
    expect(r.layers[0]!.activation!.samplesPerUnit).toBe(1);
    expect(Math.max(...r.layers.slice(0, 6).map((l) => l.activation!.deadFraction!))).toBeGreaterThan(0.3);
    expect(r.verdict.status).not.toBe('dead');
    tf.dispose(batch);
  });

  it('tanh MLP with N(0, 1) init: saturated, from the first layer', async () => {
    const model = mlp({ depth: 8, width: 32, activation: 'tanh', std: 1.0, name: 'sat' });
    const batch = classificationBatch(16, 16, 4);
    const r = await probeNoLeak(model, batch);
    expect(r.verdict.status).toBe('saturated');
    expect(r.verdict.firstBadLayer).toBe('sat_dense_1');
    expect(r.verdict.evidence[0]!.metric).toBe('saturated unit fraction');
    expect(r.verdict.evidence[0]!.value).toBeGreaterThan(0.5);
    tf.dispose(batch);
  });

  it('30-layer BN MLP on a batch of 4 in training mode: exploding backward (Yang et al. 2019)', async () => {
    const input = tf.input({ shape: [16] });
    let h: tf.SymbolicTensor = input;
    for (let i = 1; i <= 30; i++) {
      h = tf.layers
        .dense({
          units: 16,
          useBias: false,
          kernelInitializer: tf.initializers.heNormal({ seed: i }),
          name: `fc${i}`,
        })
        .apply(h) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization({ name: `bn${i}` }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.reLU({ name: `relu${i}` }).apply(h) as tf.SymbolicTensor;
    }
    const out = tf.layers
      .dense({
        units: 4,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 100 }),
        name: 'head',
      })
      .apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const batch = classificationBatch(4, 16, 4);
    const r = await probeNoLeak(model, batch, { training: true });
    expect(r.verdict.status).toBe('exploding');
    expect(r.verdict.firstBadLayer).toBe('fc1');
    expect(r.verdict.evidence[0]!.metric).toBe('backprop signal RMS ratio to last hidden layer');
    expect(r.verdict.advice.join('\n')).toContain('clip gradients');
    tf.dispose(batch);
  });

  it('healthy ReLU MLP with He init: healthy', async () => {
    const model = mlp({ depth: 8, width: 32, activation: 'relu', std: Math.sqrt(2 / 32), name: 'he' });
    const batch = classificationBatch(32, 16, 4);
    const r = await probeNoLeak(model, batch);
    expect(r.verdict.status).toBe('healthy');
    expect(r.verdict.firstBadLayer).toBeNull();
    tf.dispose(batch);
  });

  it('a layer that produces NaN: nonfinite, named first', async () => {
    const input = tf.input({ shape: [8] });
    let h = tf.layers.dense({ units: 8, activation: 'tanh', name: 'pre1' }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 8, activation: 'tanh', name: 'pre2' }).apply(h) as tf.SymbolicTensor;
    h = new LogLayer({ name: 'bad_log' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 8, activation: 'relu', name: 'post' }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 4, activation: 'softmax', name: 'head' })
      .apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const batch = classificationBatch(8, 8, 4);
    const r = await probeNoLeak(model, batch);
    expect(r.verdict.status).toBe('nonfinite');
    expect(r.verdict.firstBadLayer).toBe('bad_log');
    expect(r.layers.find((l) => l.name === 'bad_log')!.nonFinite.activations).toBeGreaterThan(0);
    expect(r.layers.find((l) => l.name === 'pre2')!.nonFinite.activations).toBe(0);
    tf.dispose(batch);
  });
});

describe('recurrent verdicts', () => {
  it('SimpleRNN whose gradient fades over 30 steps: vanishing, advice gruCell (also goBackwards)', async () => {
    await tf.setBackend('cpu');
    for (const goBackwards of [false, true]) {
      const model = tf.sequential();
      model.add(
        tf.layers.simpleRNN({
          inputShape: [30, 2],
          units: 8,
          name: 'srnn',
          kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
          recurrentInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.05, seed: 2 }),
          goBackwards,
        }),
      );
      model.add(tf.layers.dense({ units: 1, name: 'head' }));
      const x = tf.randomNormal([4, 30, 2], 0, 1, 'float32', 3);
      const y = tf.randomNormal([4, 1], 0, 1, 'float32', 4);
      const r = await probeNoLeak(model, { x, y }, { loss: 'mse' });
      expect(r.verdict.status).toBe('vanishing');
      expect(r.verdict.firstBadLayer).toBe('srnn');
      expect(r.recurrent[0]!.firstToLast).toBeLessThan(1e-3);
      expect(r.verdict.advice.join('\n')).toContain('gruCell instead of simpleRnnCell');
      const g = r.recurrent[0]!.gradNorms;
      // gradients are largest at the last processed step: t = T-1 forwards, t = 0 backwards
      expect(goBackwards ? g[0]! > g[29]! : g[29]! > g[0]!).toBe(true);
      expect(r.recurrent[0]!.goBackwards).toBe(goBackwards);
      tf.dispose([x, y]);
    }
  });
});

describe('ResNet-56-like nets (He et al. 2016, CIFAR family, tiny width)', () => {
  // Batch 32: BatchNorm's batch statistics are noisy on tiny batches, and Yang et al. 2019 show
  // the gradient explosion of BN nets without shortcuts grows as the batch shrinks (batch 8 or 16
  // gives a 1.7e3x growth over 56 layers here, which the probe calls exploding).
  const batchOf = () =>
    tf.tidy(() => ({
      x: tf.randomNormal([32, 8, 8, 3], 0, 1, 'float32', 11),
      y: tf
        .oneHot(
          tf.tensor1d(
            Array.from({ length: 32 }, (_, i) => i % 4),
            'int32',
          ),
          4,
        )
        .cast('float32'),
    }));

  it('with BN and shortcuts: healthy, with one signal-propagation row per block', async () => {
    const model = cifarResnet({ n: 9, width: 4, plain: false });
    expect(
      model.layers.filter((l) => l.getClassName() === 'Conv2D' && !l.name.endsWith('_proj')).length,
    ).toBe(55);
    const batch = batchOf();
    const r = await probeNoLeak(model, batch, { training: true });
    expect(r.verdict.status).toBe('healthy');
    expect(r.signalPropagation).toHaveLength(27);
    const first = r.signalPropagation[0]!;
    expect(first.block).toBe('stage1_block1_add');
    expect(first.branch).toBe('stage1_block1_bn2');
    expect(first.blockInput).toBe('stem_relu');
    expect(first.shortcut).toBe('identity');
    expect(r.signalPropagation[9]!.shortcut).toBe('projection');
    expect(r.signalPropagation[9]!.blockInput).toBe('stage1_block9_out');
    // Brock et al. 2021: in a BN ResNet the variance of the residual sum grows block by block
    // within a stage (each identity block adds the branch's ~unit variance).
    const s1 = r.signalPropagation.slice(0, 9).map((b) => b.avgChannelVariance);
    expect(s1[8]!).toBeGreaterThan(s1[0]!);
    tf.dispose(batch);
  });

  it('its plain twin: not judged vanishing', async () => {
    const model = cifarResnet({ n: 9, width: 4, plain: true });
    const batch = batchOf();
    const r = await probeNoLeak(model, batch, { training: true });
    expect(r.verdict.status).not.toBe('vanishing');
    expect(r.verdict.status).toBe('healthy');
    expect(r.signalPropagation).toHaveLength(0);
    tf.dispose(batch);
  });
});
