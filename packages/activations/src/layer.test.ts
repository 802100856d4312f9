import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Rng, UnknownNameError } from '@gradflow/core';
import { backendsUnderTest, runLayerContract, withBackend } from '@gradflow/testing';
import {
  activationLayer,
  applyActivation,
  listActivations,
  type ActivationLike,
  type GradflowActivation,
} from './index.js';
import * as ops from './ops.js';

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

/** The values of t as numbers, disposing t. */
function take(t: tf.Tensor): number[] {
  const values = Array.from(t.dataSync());
  t.dispose();
  return values;
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
    // non-default parameters survive tfjs's camel-casing of config keys and values on load
    const variants = [
      { name: 'hard_tanh', min_val: -2, max_val: 0.5 },
      { name: 'softplus', beta: 2, threshold: 5 },
      { name: 'rrelu', lower: 0.1, upper: 0.2, seed: 3 },
      { name: 'celu', alpha: 0.5 },
      { name: 'elu', alpha: 2 },
      { name: 'gelu_tanh' },
    ] as const;
    for (const spec of variants) {
      await runLayerContract({
        name: JSON.stringify(spec),
        inputShape: [4],
        training: spec.name !== 'rrelu',
        makeInput: (shape, rng) =>
          tf.tensor(
            rng.fill(shape[0]! * 4, (r) => r.uniform(-4, 4)),
            shape,
          ),
        build: (x) => activationLayer(spec).apply(throughDense(x, spec.name)) as tf.SymbolicTensor,
      });
    }
    const layer = activationLayer({ name: 'leaky_relu', slope: 0.3 }, { name: 'a1' }) as GradflowActivation;
    expect(layer.getConfig()).toMatchObject({ activation: 'leaky_relu', params: { slope: 0.3 }, name: 'a1' });
    expect((activationLayer('swish') as GradflowActivation).activation).toBe('silu');
  });
});

describe('PReLU and RReLU layers', () => {
  it('PReLU: the gradient reaches alpha and equals sum over x <= 0 of x * g (shared and per channel)', async () => {
    for (const backend of backendsUnderTest()) {
      await withBackend(backend, () => {
        const before = tf.memory().numTensors;
        const xs = [-2, -0.5, 0, 0.5, 3, -1];
        const gs = [1, 2, -1, 3, 1, 0.5];
        const x = tf.tensor2d(xs, [2, 3]);
        const g = tf.tensor2d(gs, [2, 3]);
        for (const perChannel of [false, true]) {
          const layer = activationLayer({ name: 'prelu', per_channel: perChannel }) as GradflowActivation;
          layer.apply(tf.input({ shape: [3] }));
          const alpha = layer.trainableWeights[0]!.read() as tf.Variable;
          expect(alpha.shape).toEqual(perChannel ? [3] : [1]);
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, g)) as tf.Scalar,
            [alpha],
          );
          const expected = perChannel ? [0, 0, 0] : [0];
          xs.forEach((v, i) => {
            if (v <= 0) expected[perChannel ? i % 3 : 0]! += v * gs[i]!;
          });
          expect(Array.from(grads[alpha.name]!.dataSync())).toEqual(expected);
          // y = x for x > 0, 0.25 x otherwise
          expect(take(layer.apply(x) as tf.Tensor)).toEqual(xs.map((v) => (v > 0 ? v : 0.25 * v)));
          tf.dispose([value, ...Object.values(grads)]);
          layer.dispose();
        }
        x.dispose();
        g.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });

  it('PReLU: a learned alpha survives save/load', async () => {
    const input = tf.input({ shape: [4] });
    const model = tf.model({
      inputs: input,
      outputs: activationLayer('prelu', { name: 'act' }).apply(input) as tf.SymbolicTensor,
    });
    model.getLayer('act').setWeights([tf.tensor1d([0.7])]);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(
        async (a) => (
          (artifacts = a),
          { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
        ),
      ),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = tf.tensor2d([[-1, 2, -3, 0]]);
    const y = loaded.predict(x) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual([-0.7, 2, -3 * 0.7, 0].map(Math.fround));
    expect(loaded.getLayer('act').getConfig()).toMatchObject({
      activation: 'prelu',
      params: { init: 0.25, per_channel: false },
    });
    tf.dispose([x, y]);
    model.dispose();
    loaded.dispose();
  });

  it('RReLU: random slopes in [lower, upper] in training, seeded; the mean slope in inference', () => {
    const xs = Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? -1 - i / 10 : 0.5 + i));
    const x = tf.tensor2d(xs, [8, 8]);
    const before = tf.memory().numTensors;
    const make = () => activationLayer({ name: 'rrelu', lower: 0.1, upper: 0.3, seed: 7 });
    const a = make();
    const b = make();
    const trainA1 = take(a.apply(x, { training: true }) as tf.Tensor);
    const trainA2 = take(a.apply(x, { training: true }) as tf.Tensor);
    const trainB1 = take(b.apply(x, { training: true }) as tf.Tensor);
    const evalA = take(a.apply(x) as tf.Tensor);
    expect(trainB1).toEqual(trainA1); // same seed, same slopes
    expect(trainA2).not.toEqual(trainA1); // fresh slopes each call
    const slopes = new Set<number>();
    xs.forEach((v, i) => {
      if (v > 0) {
        expect(trainA1[i]).toBe(Math.fround(v));
        expect(evalA[i]).toBe(Math.fround(v));
      } else {
        const slope = trainA1[i]! / Math.fround(v);
        expect(slope).toBeGreaterThanOrEqual(0.1 - 1e-6);
        expect(slope).toBeLessThanOrEqual(0.3 + 1e-6);
        slopes.add(slope);
        expect(evalA[i]! / Math.fround(v)).toBeCloseTo(0.2, 6);
      }
    });
    expect(slopes.size).toBeGreaterThan(16);
    // the gradient in training uses the same slopes as the output
    const rng = () => new Rng(3);
    const gd = take(
      tf.grad((t: tf.Tensor) => applyActivation('rrelu', t, { training: true, rng: rng() }))(x),
    );
    const yd = take(applyActivation('rrelu', x, { training: true, rng: rng() }));
    xs.forEach((v, i) => expect(gd[i]).toBeCloseTo(v > 0 ? 1 : yd[i]! / Math.fround(v), 6));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('applyActivation', () => {
  it('rejects non-float input and bad specs without leaking tensors', () => {
    const x = tf.tensor1d([1, 2], 'int32');
    const before = tf.memory().numTensors;
    expect(() => applyActivation('relu', x)).toThrow(InvalidArgumentError);
    expect(() => applyActivation('relu', x)).toThrow(
      "invalid activation input dtype: got 'int32', expected 'float32'",
    );
    const f = tf.tensor1d([1, 2]);
    expect(() => applyActivation('rlu' as 'relu', f)).toThrow(UnknownNameError);
    expect(() => applyActivation({ name: 'softplus', beta: -2 }, f)).toThrow(InvalidArgumentError);
    expect(() => activationLayer({ name: 'hard_tanh', min_val: 2, max_val: -2 })).toThrow(
      'min_val < max_val',
    );
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, f]);
  });

  it('runs every activation as an op, by name and alias, on both backends', async () => {
    for (const backend of backendsUnderTest()) {
      await withBackend(backend, () => {
        const x = tf.tensor1d([-3, -1, 0, 1, 3]);
        const before = tf.memory().numTensors;
        for (const name of listActivations({ aliases: true })) {
          const y = applyActivation(name, x);
          expect(y.shape).toEqual([5]);
          expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
          y.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
        x.dispose();
      });
    }
  });
});

describe('named ops', () => {
  it('match applyActivation and leak nothing outside tf.tidy', () => {
    const x = tf.tensor1d([-5, -1, -0.25, 0, 0.25, 1, 5]);
    const alpha = tf.tensor1d([0.3]);
    const before = tf.memory().numTensors;
    const pairs: [(t: tf.Tensor) => tf.Tensor, ActivationLike][] = [
      [(t) => ops.elu(t, { alpha: 2 }), { name: 'elu', alpha: 2 }],
      [(t) => ops.celu(t, { alpha: 0.5 }), { name: 'celu', alpha: 0.5 }],
      [(t) => ops.leakyRelu(t, { slope: 0.2 }), { name: 'leaky_relu', slope: 0.2 }],
      [(t) => ops.prelu(t, alpha), { name: 'prelu', init: 0.3 }],
      [(t) => ops.softplus(t, { beta: 2, threshold: 3 }), { name: 'softplus', beta: 2, threshold: 3 }],
      [(t) => ops.hardTanh(t, { minVal: -2, maxVal: 0.5 }), { name: 'hard_tanh', min_val: -2, max_val: 0.5 }],
      [ops.gelu, 'gelu'],
      [ops.geluTanh, 'gelu_tanh'],
      [ops.mish, 'mish'],
      [ops.silu, 'swish'],
      [ops.softsign, 'softsign'],
      [ops.hardSigmoid, 'hard_sigmoid'],
      [ops.hardSwish, 'hard_swish'],
      [ops.relu6, 'relu6'],
      [ops.logSigmoid, 'log_sigmoid'],
      [(t) => ops.rrelu(t), 'rrelu'],
    ];
    for (const [op, like] of pairs) {
      const a = op(x);
      const b = applyActivation(like, x);
      const ga = tf.grad(op)(x);
      const gb = tf.grad((t: tf.Tensor) => applyActivation(like, t))(x);
      expect(Array.from(a.dataSync()), JSON.stringify(like)).toEqual(Array.from(b.dataSync()));
      expect(Array.from(ga.dataSync()), JSON.stringify(like)).toEqual(Array.from(gb.dataSync()));
      tf.dispose([a, b, ga, gb]);
      expect(tf.memory().numTensors, JSON.stringify(like)).toBe(before);
    }
    tf.dispose([x, alpha]);
  });
});

describe('any rank', () => {
  it('every activation gives the same values and gradients on rank 0, 2 and 3 inputs as on rank 1', async () => {
    const xs = [-9, -3.5, -1, -0.25, 0, 0.25, 1, 2.5, 3, 6, 7.5, 12];
    for (const backend of backendsUnderTest()) {
      await withBackend(backend, () => {
        const before = tf.memory().numTensors;
        for (const name of listActivations()) {
          const run = (shape: number[]): { value: number[]; grad: number[] } =>
            tf.tidy(() => {
              const x = tf.tensor(xs, shape);
              const f = (t: tf.Tensor) => applyActivation(name, t);
              return { value: Array.from(f(x).dataSync()), grad: Array.from(tf.grad(f)(x).dataSync()) };
            });
          const flat = run([12]);
          for (const shape of [
            [3, 4],
            [2, 3, 2],
          ]) {
            expect(run(shape), `${name} ${JSON.stringify(shape)} on ${backend}`).toEqual(flat);
          }
          const scalar = tf.tidy(() => {
            const f = (t: tf.Tensor) => applyActivation(name, t);
            const x = tf.scalar(xs[1]!);
            return [f(x).dataSync()[0], tf.grad(f)(x).dataSync()[0]];
          });
          expect(scalar, `${name} rank 0 on ${backend}`).toEqual([flat.value[1], flat.grad[1]]);
        }
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
});

describe('training', () => {
  it("PReLU's alpha moves under model.fit", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 4, inputShape: [3], kernelInitializer: 'glorotUniform', name: 'd' }),
        activationLayer('prelu', { name: 'p' }),
        tf.layers.dense({ units: 1, name: 'out' }),
      ],
    });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const x = tf.tensor2d([-1, -2, -3, 1, 2, 3, -1, 0.5, 2, 0, -1, -1], [4, 3]);
    const y = tf.tensor2d([1, -1, 0.5, 2], [4, 1]);
    await model.fit(x, y, { epochs: 3, verbose: 0, batchSize: 4 });
    const alpha = model.getLayer('p').getWeights()[0]!;
    expect(alpha.dataSync()[0]).not.toBeCloseTo(0.25, 6);
    tf.dispose([x, y]);
    model.dispose();
  });
});
