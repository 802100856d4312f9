import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GradflowError, InvalidArgumentError, ShapeError, UnknownNameError } from '@gradflow/core';
import { expectAllClose, setBackend } from '@gradflow/testing';
import {
  BatchNorm,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  NORMS,
  RMSNorm,
  WeightStandardizedConv2d,
  hasNormStats,
  listNorms,
  normLayer,
  normsMarkdownTable,
  sumOver,
} from './index.js';

beforeAll(async () => {
  await setBackend('cpu');
});

const symbolic = (shape: number[]) => tf.input({ shape });
/** Values of a layer's weight by base name (tfjs appends _1, _2 to names already in use). */
const values = (layer: tf.layers.Layer, base: string) =>
  Array.from(
    layer.weights
      .find((w) => new RegExp(`/${base}(_\\d+)?$`).test(w.name))!
      .read()
      .dataSync(),
  );

function built<T extends tf.layers.Layer>(layer: T, shape: number[]): T {
  layer.apply(symbolic(shape));
  return layer;
}

function randomInput(shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), 2), 0.5));
}

/** Runs fn and checks that no tensor outlives it (also when it throws). */
function noLeak(fn: () => void): void {
  const before = tf.memory().numTensors;
  try {
    fn();
  } finally {
    expect(tf.memory().numTensors).toBe(before);
  }
}

describe('registry and normLayer', () => {
  it('derives names, the README table and null for none', () => {
    expect(listNorms()).toEqual(Object.keys(NORMS));
    expect(listNorms()).toEqual([
      'batch_norm',
      'frozen_batch_norm',
      'layer_norm',
      'group_norm',
      'instance_norm',
      'rms_norm',
    ]);
    expect(normLayer('none')).toBeNull();
    expect(normLayer(null)).toBeNull();
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(normsMarkdownTable());
  });

  it('builds each norm with a deterministic name, the block’s axis and γ initializer', () => {
    noLeak(() => {
      const bn = built(
        normLayer('batch_norm', { name: 'stage1_block1_bn2', gammaInitializer: 'zeros' })!,
        [4, 4, 3],
      );
      expect(bn.name).toBe('stage1_block1_bn2');
      expect(bn.weights.map((w) => w.name)).toEqual([
        'stage1_block1_bn2/gamma',
        'stage1_block1_bn2/beta',
        'stage1_block1_bn2/moving_mean',
        'stage1_block1_bn2/moving_variance',
      ]);
      expect(values(bn, 'gamma')).toEqual([0, 0, 0]);
      const gn = built(normLayer({ name: 'group_norm', groups: 2 }, { axis: 1 })!, [4, 3, 3]);
      expect(gn).toBeInstanceOf(GroupNorm);
      expect(values(gn, 'gamma')).toHaveLength(4);
      const ln = built(
        normLayer('layer_norm', { gammaInitializer: { name: 'constant', value: 0.5 } })!,
        [2, 3],
      );
      expect(values(ln, 'gamma')).toEqual([0.5, 0.5, 0.5]);
      ln.dispose();
      expect(normLayer('frozen_batch_norm')).toBeInstanceOf(BatchNorm);
      expect((normLayer('frozen_batch_norm') as BatchNorm).frozen).toBe(true);
      for (const n of listNorms())
        expect(hasNormStats(normLayer(n === 'group_norm' ? { name: n, groups: 1 } : n))).toBe(true);
      bn.dispose();
      gn.dispose();
    });
  });

  it('rejects unknown names and options with typed errors', () => {
    expect(() => normLayer('batchnorm' as never)).toThrow(UnknownNameError);
    expect(() => normLayer('batchnorm' as never)).toThrow("did you mean 'batch_norm'");
    expect(() => normLayer({ name: 'group_norm', group: 4 })).toThrow(InvalidArgumentError);
    expect(() => normLayer({ name: 'group_norm', group: 4 })).toThrow(
      "invalid option of group_norm: got 'group'",
    );
    expect(() => normLayer({ name: 'frozen_batch_norm', momentum: 0.1 })).toThrow(InvalidArgumentError);
    expect(() => normLayer(42 as never)).toThrow(InvalidArgumentError);
    // A γ initializer (zero-init of a residual branch) on a norm without γ is an error, not a no-op.
    expect(() => normLayer({ name: 'batch_norm', scale: false }, { gammaInitializer: 'zeros' })).toThrow(
      'a norm with γ (scale: true)',
    );
    expect(() => normLayer('instance_norm', { gammaInitializer: 'zeros' })).toThrow(
      'a norm with γ (affine: true)',
    );
    expect(normLayer({ name: 'instance_norm', affine: true }, { gammaInitializer: 'zeros' })).toBeInstanceOf(
      InstanceNorm,
    );
  });
});

describe('bad input', () => {
  it('groups that do not divide the channels', () => {
    expect(() => built(new GroupNorm({ groups: 5 }), [4, 4, 8])).toThrow(InvalidArgumentError);
    expect(() => built(new GroupNorm({ groups: 5 }), [4, 4, 8])).toThrow(
      "invalid groups: got 5, expected a divisor of the 8 channels; e.g. { name: 'group_norm', groups: 4 }",
    );
    expect(() => built(new GroupNorm(), [4, 4, 16])).toThrow('a divisor of the 16 channels');
    expect(() => built(new GroupNorm({ groupSize: 3 }), [4, 4, 8])).toThrow('invalid groupSize');
    expect(() => new GroupNorm({ groups: 2, groupSize: 4 })).toThrow('only one of them');
    expect(() => new GroupNorm({ groups: 0 })).toThrow('expected a positive integer');
  });

  it('axes out of range, the batch axis, repeated axes', () => {
    expect(() => built(new BatchNorm({ axis: 4 }), [4, 4, 3])).toThrow(
      'invalid axis: got 4, expected an integer in [-4, 3] for rank 4',
    );
    expect(() => built(new BatchNorm({ axis: -5 }), [4, 4, 3])).toThrow(InvalidArgumentError);
    expect(() => built(new BatchNorm({ axis: 0 }), [4, 4, 3])).toThrow('axis 0 is the batch axis');
    expect(() => built(new LayerNorm({ axis: [1, -3] }), [4, 4, 3])).toThrow('distinct axes');
    expect(() => built(new LayerNorm({ axis: [] }), [4, 4, 3])).toThrow(InvalidArgumentError);
    expect(() => built(new InstanceNorm(), [3])).toThrow(ShapeError);
  });

  it('momentum conventions cannot be mixed up', () => {
    expect(() => new BatchNorm({ momentum: 0.1, decay: 0.9 })).toThrow(InvalidArgumentError);
    expect(() => new BatchNorm({ momentum: 0.1, decay: 0.9 })).toThrow('expected only one of them');
    expect(() => new BatchNorm({ momentum: 0.99 })).toThrow('for the Keras/tfjs convention pass decay: 0.99');
    expect(() => new BatchNorm({ decay: 1.5 })).toThrow('invalid decay');
    expect(() => new BatchNorm({ momentum: -0.1 })).toThrow('invalid momentum');
    expect(() => new InstanceNorm({ momentum: 0.9 })).toThrow('pass decay: 0.9');
    expect(new BatchNorm({ decay: 0.99 }).averaging).toEqual({ kind: 'exponential', factor: 1 - 0.99 });
    expect(new BatchNorm({ momentum: null }).averaging).toEqual({ kind: 'cumulative' });
    expect(new BatchNorm().averaging).toEqual({ kind: 'exponential', factor: 0.1 });
  });

  it('other options', () => {
    expect(() => new BatchNorm({ epsilon: 0 })).toThrow(
      'invalid epsilon: got 0, expected a finite number > 0',
    );
    expect(() => new RMSNorm({ epsilon: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => new BatchNorm({ onNonFinite: 'ignore' as never })).toThrow('invalid onNonFinite');
    expect(() => new BatchNorm({ center: 'yes' as never })).toThrow('expected true or false');
    expect(() => new WeightStandardizedConv2d({ filters: 0, kernelSize: 3 })).toThrow('invalid filters');
    expect(
      () => new WeightStandardizedConv2d({ filters: 2, kernelSize: 3, strides: 2, dilationRate: 2 }),
    ).toThrow(InvalidArgumentError);
    expect(
      () => new WeightStandardizedConv2d({ filters: 2, kernelSize: 3, padding: 'full' as never }),
    ).toThrow('invalid padding');
  });

  it('a wrong input shape at call time is a ShapeError and leaves the state alone', () => {
    const bn = built(new BatchNorm(), [4, 4, 3]);
    noLeak(() => {
      const x = tf.ones([2, 4, 4, 5]);
      try {
        expect(() => bn.apply(x, { training: true })).toThrow(ShapeError);
      } finally {
        x.dispose();
      }
    });
    expect(values(bn, 'moving_mean')).toEqual([0, 0, 0]);
    bn.dispose();
  });

  it('training BatchNorm with one value per channel throws before touching state (as PyTorch)', () => {
    const bn = built(new BatchNorm(), [3]);
    noLeak(() => {
      const x = tf.tensor2d([[1, 2, 3]]);
      expect(() => bn.apply(x, { training: true })).toThrow('more than 1 value per channel when training');
      expect(values(bn, 'moving_mean')).toEqual([0, 0, 0]);
      expect(values(bn, 'moving_variance')).toEqual([1, 1, 1]);
      // Inference with a batch of 1 is fine; a batch of 1 image (N=1, H·W>1) trains, as in PyTorch.
      tf.dispose(bn.apply(x, { training: false }) as tf.Tensor);
      x.dispose();
    });
    const conv = built(new BatchNorm(), [2, 2, 3]);
    noLeak(() => tf.tidy(() => void conv.apply(tf.ones([1, 2, 2, 3]), { training: true })));
    const inst = built(new InstanceNorm(), [1, 1, 3]);
    noLeak(() => {
      const x = tf.ones([2, 1, 1, 3]);
      expect(() => inst.apply(x, { training: true })).toThrow('more than 1 spatial element when training');
      x.dispose();
    });
    bn.dispose();
    conv.dispose();
  });

  it('non-finite inputs: running statistics are never poisoned; throw policy raises first', () => {
    const x = tf.tensor4d([1, 2, 3, Number.NaN, 5, 6, 7, 8], [2, 2, 1, 2]);
    const good = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 1, 2]);
    for (const momentum of [0.1, null]) {
      const bn = built(new BatchNorm({ momentum }), [2, 1, 2]);
      noLeak(() => tf.dispose(bn.apply(good, { training: true }) as tf.Tensor));
      const mean = values(bn, 'moving_mean');
      const variance = values(bn, 'moving_variance');
      noLeak(() => {
        const y = bn.apply(x, { training: true }) as tf.Tensor;
        // The NaN channel's output is NaN (as in PyTorch); the other channel is normalized.
        const out = Array.from(y.dataSync());
        expect(out.filter((_, i) => i % 2 === 1).every(Number.isNaN)).toBe(true);
        expect(out.filter((_, i) => i % 2 === 0).every(Number.isFinite)).toBe(true);
        y.dispose();
      });
      expect(values(bn, 'moving_mean')).toEqual(mean);
      expect(values(bn, 'moving_variance')).toEqual(variance);
      if (momentum === null) expect(values(bn, 'num_batches_tracked')).toEqual([1]);
      bn.dispose();
    }
    const strict = built(new BatchNorm({ onNonFinite: 'throw' }), [2, 1, 2]);
    noLeak(() => {
      expect(() => strict.apply(x, { training: true })).toThrow(GradflowError);
      expect(() => strict.apply(x, { training: true })).toThrow('the batch statistics are not finite');
    });
    expect(values(strict, 'moving_mean')).toEqual([0, 0]);
    const inst = built(new InstanceNorm({ trackRunningStats: true, onNonFinite: 'throw' }), [2, 1, 2]);
    expect(() => inst.apply(x, { training: true })).toThrow('not finite');
    expect(values(inst, 'moving_variance')).toEqual([1, 1]);
    tf.dispose([x, good]);
    strict.dispose();
    inst.dispose();
  });
});

describe('training vs inference', () => {
  it('differ exactly where PyTorch’s do', () => {
    const x = randomInput([4, 3, 3, 4], 1);
    const cases: [tf.layers.Layer, boolean][] = [
      [new BatchNorm(), true],
      [new BatchNorm({ frozen: true }), false],
      [new LayerNorm(), false],
      [new GroupNorm({ groups: 2 }), false],
      [new InstanceNorm({ affine: true }), false],
      [new InstanceNorm({ trackRunningStats: true }), true],
      [new RMSNorm(), false],
    ];
    for (const [layer, differs] of cases) {
      built(layer, [3, 3, 4]);
      noLeak(() => {
        const train = layer.apply(x, { training: true }) as tf.Tensor;
        const infer = layer.apply(x, { training: false }) as tf.Tensor;
        const same = tf.tidy(() => tf.max(tf.abs(tf.sub(train, infer))).dataSync()[0]! === 0);
        expect(same, layer.getClassName()).toBe(!differs);
        tf.dispose([train, infer]);
      });
      layer.dispose();
    }
    x.dispose();
  });

  it('frozen BatchNorm never updates its statistics and has no trainable weight, but passes gradients', () => {
    const bn = built(new BatchNorm({ frozen: true }), [2, 2, 3]);
    bn.weights.find((w) => w.name.endsWith('moving_variance'))!.write(tf.tensor1d([4, 9, 16]));
    expect(bn.trainableWeights).toHaveLength(0);
    const x = randomInput([3, 2, 2, 3], 2);
    noLeak(() => {
      const dx = tf.grad((t: tf.Tensor) => tf.sum(bn.apply(t, { training: true }) as tf.Tensor))(x);
      // dy/dx = γ/√(σ²+ε) per channel with γ = 1.
      expectAllClose(
        dx.dataSync().slice(0, 3),
        [1 / Math.sqrt(4 + 1e-5), 1 / Math.sqrt(9 + 1e-5), 1 / Math.sqrt(16 + 1e-5)],
        { rtol: 1e-6 },
        'frozen dx',
      );
      dx.dispose();
    });
    expect(values(bn, 'moving_mean')).toEqual([0, 0, 0]);
    expect(values(bn, 'moving_variance')).toEqual([4, 9, 16]);
    x.dispose();
    bn.dispose();
  });

  it('scale:false and center:false train (tfjs#2868) and equal γ = 1, β = 0', () => {
    const x = randomInput([4, 2, 2, 3], 3);
    const dy = randomInput([4, 2, 2, 3], 4);
    const plain = built(new BatchNorm({ scale: false, center: false }), [2, 2, 3]);
    const affine = built(new BatchNorm(), [2, 2, 3]);
    noLeak(() => {
      const f = (layer: tf.layers.Layer) =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, dy)))(x);
      const a = f(plain);
      const b = f(affine);
      expectAllClose(a, b, { rtol: 1e-6, atol: 1e-7 }, 'dx');
      tf.dispose([a, b]);
    });
    expect(values(plain, 'moving_mean')).toEqual(values(affine, 'moving_mean'));
    tf.dispose([x, dy]);
    plain.dispose();
    affine.dispose();
  });
});

describe('persistence', () => {
  it('a model saved mid-training and reloaded predicts identically and keeps training identically', async () => {
    for (const norm of [
      { name: 'batch_norm' },
      { name: 'batch_norm', momentum: null },
      { name: 'instance_norm', affine: true, trackRunningStats: true, decay: 0.8 },
    ] as const) {
      const before = tf.memory().numTensors;
      const input = tf.input({ shape: [3, 3, 2] });
      const h = tf.layers
        .dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })
        .apply(input) as tf.SymbolicTensor;
      const n = normLayer(norm, { name: 'norm' })!.apply(h) as tf.SymbolicTensor;
      const model = tf.model({
        inputs: input,
        outputs: tf.layers
          .dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })
          .apply(tf.layers.flatten().apply(n)) as tf.SymbolicTensor,
      });
      const optimizers = [tf.train.sgd(0.05), tf.train.sgd(0.05)];
      model.compile({ optimizer: optimizers[0]!, loss: 'meanSquaredError' });
      const x = randomInput([8, 3, 3, 2], 5);
      const y = randomInput([8, 1], 6);
      await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
      const normLayerInModel = model.getLayer('norm');
      // Running statistics moved away from their initial values during fit (training calls).
      expect(values(normLayerInModel, 'moving_mean').some((v) => v !== 0)).toBe(true);
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(
        tf.io.withSaveHandler(
          async (a) => (
            (artifacts = a),
            { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
          ),
        ),
      );
      const reloaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      expect(reloaded.getLayer('norm').getClassName()).toBe(normLayerInModel.getClassName());
      const [a, b] = tf.tidy(() => [model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor]);
      expectAllClose(b!, a!, { rtol: 0, atol: 0 }, `${JSON.stringify(norm)} eval after reload`);
      // One more step on each: same running statistics and weights.
      reloaded.compile({ optimizer: optimizers[1]!, loss: 'meanSquaredError' });
      await model.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
      await reloaded.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
      expect(values(reloaded.getLayer('norm'), 'moving_variance')).toEqual(
        values(normLayerInModel, 'moving_variance'),
      );
      if (norm.name === 'batch_norm' && 'momentum' in norm)
        expect(values(reloaded.getLayer('norm'), 'num_batches_tracked')).toEqual([5]);
      tf.dispose([a!, b!, x, y]);
      model.dispose();
      reloaded.dispose();
      optimizers.forEach((o) => o.dispose());
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('probe statistics', () => {
  it('report input moments and effective scale, cheaply and leak-free', () => {
    const x = randomInput([4, 3, 3, 4], 7);
    const [m, v] = tf.tidy(() => {
      const { mean, variance } = tf.moments(x);
      return [mean.dataSync()[0]!, variance.dataSync()[0]!];
    });
    const layers = [
      new BatchNorm(),
      new BatchNorm({ frozen: true }),
      new LayerNorm(),
      new GroupNorm({ groups: 2 }),
      new InstanceNorm(),
      new RMSNorm(),
      new WeightStandardizedConv2d({ filters: 2, kernelSize: 1 }),
    ];
    for (const layer of layers) {
      built(layer, [3, 3, 4]);
      expect(layer.normStats()).toBeNull();
      noLeak(() => tf.dispose(layer.apply(x, { training: true }) as tf.Tensor));
      expect(layer.normStats()).toBeNull();
      layer.recordStats = true;
      noLeak(() => tf.dispose(layer.apply(x, { training: true }) as tf.Tensor));
      const stats = layer.normStats()!;
      expect(stats.inputMean).toBeCloseTo(m, 5);
      expect(stats.inputVar).toBeCloseTo(v, 4);
      expect(stats.training).toBe(!(layer instanceof BatchNorm && layer.frozen));
      expect(stats.effectiveScale).toBeGreaterThan(0);
      layer.dispose();
    }
    // BatchNorm in training: mean over channels of |γ|/√(σ²_batch+ε).
    const bn = built(new BatchNorm({ gammaInitializer: tf.initializers.constant({ value: 2 }) }), [3, 3, 4]);
    bn.recordStats = true;
    tf.dispose(bn.apply(x, { training: true }) as tf.Tensor);
    const expected = tf.tidy(
      () => tf.mean(tf.div(2, tf.sqrt(tf.add(tf.moments(x, [0, 1, 2]).variance, 1e-5)))).dataSync()[0]!,
    );
    expect(bn.normStats()!.effectiveScale).toBeCloseTo(expected, 5);
    // Inference: the running statistics set the scale.
    tf.dispose(bn.apply(x, { training: false }) as tf.Tensor);
    const running = values(bn, 'moving_variance');
    expect(bn.normStats()!.effectiveScale).toBeCloseTo(
      running.reduce((sum, rv) => sum + 2 / Math.sqrt(rv + 1e-5), 0) / running.length,
      5,
    );
    expect(bn.normStats()!.training).toBe(false);
    x.dispose();
    bn.dispose();
  });
});

describe('kernel pieces', () => {
  it('sumOver equals tf.sum for leading, trailing, middle and scattered axes', () => {
    noLeak(() => {
      const x = randomInput([2, 3, 4, 5, 2], 8);
      for (const axes of [[0], [4], [0, 1, 2, 3], [1, 2], [1, 2, 4], [0, 2], [1, 3], [0, 1, 2, 3, 4]]) {
        const [a, b] = tf.tidy(() => [sumOver(x, axes), tf.sum(x, axes, true)]);
        expect(a!.shape, JSON.stringify(axes)).toEqual(b!.shape);
        expectAllClose(a!, b!, { rtol: 1e-5, atol: 1e-5 }, `sumOver ${JSON.stringify(axes)}`);
        tf.dispose([a!, b!]);
      }
      x.dispose();
    });
  });

  it('GroupNorm and BatchNorm with the channels in the middle equal channels-last', () => {
    const x = randomInput([2, 3, 4, 5], 9); // channels on axis 2
    const dy = randomInput([2, 3, 4, 5], 10);
    const xt = tf.transpose(x, [0, 1, 3, 2]);
    const dyt = tf.transpose(dy, [0, 1, 3, 2]);
    for (const [middle, last] of [
      [new GroupNorm({ groups: 2, axis: 2 }), new GroupNorm({ groups: 2 })],
      [new BatchNorm({ axis: 2 }), new BatchNorm()],
      [new InstanceNorm({ axis: 2, affine: true }), new InstanceNorm({ affine: true })],
    ] as const) {
      built(middle, [3, 4, 5]);
      built(last, [3, 5, 4]);
      noLeak(() => {
        const grad = (layer: tf.layers.Layer, input: tf.Tensor, upstream: tf.Tensor) => {
          const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
          const r = tf
            .engine()
            .gradients(() => layer.apply(input, { training: true }) as tf.Tensor, [input, ...vars], upstream);
          return [r.value, ...r.grads];
        };
        const a = grad(middle, x, dy);
        const b = grad(last, xt, dyt);
        const aT = tf.tidy(() => [
          tf.transpose(a[0]!, [0, 1, 3, 2]),
          tf.transpose(a[1]!, [0, 1, 3, 2]),
          ...a.slice(2).map((t) => t.clone()),
        ]);
        aT.forEach((t, i) =>
          expectAllClose(t, b[i]!, { rtol: 1e-5, atol: 1e-6 }, `${middle.getClassName()} tensor ${i}`),
        );
        tf.dispose([...a, ...b, ...aT]);
      });
      middle.dispose();
      last.dispose();
    }
    tf.dispose([x, dy, xt, dyt]);
  });
});
