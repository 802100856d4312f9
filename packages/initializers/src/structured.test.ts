import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Rng, ShapeError } from '@gradflow/core';
import { loadFixture, runLayerContract } from '@gradflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveInitializer } from './registry.js';
import { householderQ } from './structured.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** max |G - gain² I| where G = W^T W (tall) or W W^T (wide), W the [prod(shape[:-1]), shape[-1]] view. */
function orthogonalityError(values: Float32Array, shape: number[], gain: number): number {
  const cols = shape.at(-1)!;
  const rows = values.length / cols;
  const tall = rows >= cols;
  const k = tall ? cols : rows;
  const inner = tall ? rows : cols;
  const at = (r: number, c: number) => values[r * cols + c]!;
  let worst = 0;
  for (let p = 0; p < k; p++) {
    for (let q = p; q < k; q++) {
      let s = 0;
      for (let i = 0; i < inner; i++) s += tall ? at(i, p) * at(i, q) : at(p, i) * at(q, i);
      worst = Math.max(worst, Math.abs(s - (p === q ? gain * gain : 0)));
    }
  }
  return worst;
}

describe('orthogonal', () => {
  const shapes = [
    [64, 64],
    [200, 30],
    [30, 200],
    [3, 3, 16, 32],
    [3, 3, 64, 16],
    [5, 8, 100],
    [1, 1, 128, 256],
    [2, 3, 3, 4, 8],
  ];
  it.each(shapes.map((s) => [JSON.stringify(s), s] as const))(
    '%s: W^T W or W W^T is gain² I to 1e-5',
    (_l, shape) => {
      const before = tf.memory().numTensors;
      for (const gain of [1, 1.7]) {
        const t = resolveInitializer({ name: 'orthogonal', gain, seed: 2 }).apply(shape);
        expect(t.shape).toEqual(shape);
        expect(orthogonalityError(t.dataSync() as Float32Array, shape, gain)).toBeLessThan(
          1e-5 * gain * gain,
        );
        t.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('is Haar-distributed: sign-corrected QR, entries of variance 1/n, no bias to the diagonal', () => {
    const n = 32;
    let diag = 0;
    let sumSq = 0;
    const init = resolveInitializer({ name: 'orthogonal', seed: 9 });
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const w = init.apply([n, n]);
      const v = w.dataSync();
      for (let i = 0; i < n; i++) diag += v[i * n + i]!;
      for (const x of v) sumSq += x * x;
      w.dispose();
    }
    // E[trace(Q)] = 0 for Haar Q (std of the trace is 1); without sign correction it is ~ +sqrt(n).
    expect(Math.abs(diag / trials)).toBeLessThan(0.3);
    expect(sumSq / (trials * n * n)).toBeCloseTo(1 / n, 8);
  });

  it('householderQ returns orthonormal columns of a given matrix', () => {
    const rng = new Rng(1);
    const n = 7,
      m = 4;
    const a = new Float64Array(n * m).map(() => rng.normal());
    const q = householderQ(a, n, m);
    for (let p = 0; p < m; p++) {
      for (let r = 0; r < m; r++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += q[p * n + i]! * q[r * n + i]!;
        expect(s).toBeCloseTo(p === r ? 1 : 0, 12);
      }
    }
    expect(() => householderQ(new Float64Array(6), 2, 3)).toThrow(ShapeError);
  });

  it('rejects rank < 2 and non-finite gains', () => {
    expect(() => resolveInitializer('orthogonal').apply([5])).toThrow(
      'orthogonal initializer weight has shape [5], expected rank >= 2',
    );
    expect(() => resolveInitializer({ name: 'orthogonal', gain: Number.NaN })).toThrow(InvalidArgumentError);
  });
});

describe('identity and dirac make layers the identity map', () => {
  it('a dense layer with identity kernel and zero bias maps x to x; eye is the same', () => {
    const before = tf.memory().numTensors;
    for (const name of ['identity', 'eye'] as const) {
      const model = tf.sequential({
        layers: [tf.layers.dense({ inputShape: [6], units: 6, kernelInitializer: resolveInitializer(name) })],
      });
      const x = tf.randomNormal([4, 6], 0, 1, 'float32', 1);
      const y = model.predict(x) as tf.Tensor;
      expect(y.arraySync()).toEqual(x.arraySync());
      tf.dispose([x, y]);
      model.dispose();
    }
    const w = resolveInitializer({ name: 'identity', gain: 2 }).apply([2, 3]);
    expect(w.arraySync()).toEqual([
      [2, 0, 0],
      [0, 2, 0],
    ]);
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [
      'conv1d',
      [9, 4],
      () =>
        tf.layers.conv1d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          kernelInitializer: resolveInitializer('dirac'),
        }),
    ],
    [
      'conv2d',
      [7, 7, 3],
      () =>
        tf.layers.conv2d({
          filters: 3,
          kernelSize: [3, 5],
          padding: 'same',
          kernelInitializer: resolveInitializer('dirac'),
        }),
    ],
    [
      'conv3d',
      [4, 5, 5, 2],
      () =>
        tf.layers.conv3d({
          filters: 2,
          kernelSize: 3,
          padding: 'same',
          kernelInitializer: resolveInitializer('dirac'),
        }),
    ],
  ] as const)('a %s layer with a dirac kernel and zero bias is the identity', (_n, inputShape, layer) => {
    const before = tf.memory().numTensors;
    const input = tf.input({ shape: [...inputShape] });
    const model = tf.model({ inputs: input, outputs: layer().apply(input) as tf.SymbolicTensor });
    const x = tf.randomNormal([2, ...inputShape], 0, 1, 'float32', 3);
    const y = model.predict(x) as tf.Tensor;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y, x))));
    expect(diff.dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, y, diff]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dirac with more output channels copies the input into the first ones; groups like torch.nn.init.dirac_', () => {
    // [k=3, in=2, out=4], groups 2: out channels 0,1 <- in 0,1 and 2,3 <- in 0,1.
    const w = resolveInitializer({ name: 'dirac', groups: 2 }).apply([3, 2, 4]);
    expect(w.arraySync()).toEqual([
      [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
      [
        [1, 0, 1, 0],
        [0, 1, 0, 1],
      ],
      [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
    ]);
    w.dispose();
    const g1 = resolveInitializer('dirac').apply([1, 3, 2]);
    expect(g1.arraySync()).toEqual([
      [
        [1, 0],
        [0, 1],
        [0, 0],
      ],
    ]);
    g1.dispose();
  });

  it('bad shapes and groups are typed errors', () => {
    expect(() => resolveInitializer('identity').apply([3, 3, 2, 2])).toThrow("for conv kernels use 'dirac'");
    expect(() => resolveInitializer('dirac').apply([4, 4])).toThrow("for dense kernels use 'identity'");
    expect(() => resolveInitializer({ name: 'dirac', groups: 3 }).apply([3, 3, 2, 4])).toThrow(
      'invalid groups: got 3, expected a divisor of the 4 output channels',
    );
    expect(() => resolveInitializer({ name: 'dirac', groups: 0 })).toThrow(InvalidArgumentError);
    expect(() => resolveInitializer({ name: 'dirac', groups: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => resolveInitializer({ name: 'identity', gain: Infinity })).toThrow(InvalidArgumentError);
  });
});

interface TruncCase {
  mean: number;
  std: number;
  a: number;
  b: number;
  exactMean: number;
  exactStd: number;
  torchSampleMean: number;
  torchSampleStd: number;
}
const truncCases = loadFixture<{ truncNormal: TruncCase[] }>(
  import.meta.url,
  '../fixtures/pytorch_init.json',
).truncNormal;

describe('trunc_normal (absolute bounds, like torch.nn.init.trunc_normal_)', () => {
  it.each(truncCases.map((c) => [`mean ${c.mean} std ${c.std} [${c.a}, ${c.b}]`, c] as const))(
    '%s: bounds and moments',
    (_l, c) => {
      const t = resolveInitializer({
        name: 'trunc_normal',
        mean: c.mean,
        std: c.std,
        a: c.a,
        b: c.b,
        seed: 4,
      }).apply([100_000]);
      const v = t.dataSync();
      t.dispose();
      let s = 0,
        s2 = 0,
        lo = Infinity,
        hi = -Infinity;
      for (const x of v) {
        s += x;
        s2 += x * x;
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
      const mean = s / v.length;
      const std = Math.sqrt(s2 / v.length - mean * mean);
      expect(lo).toBeGreaterThanOrEqual(Math.fround(c.a));
      expect(hi).toBeLessThanOrEqual(Math.fround(c.b));
      expect(Math.abs(std / c.exactStd - 1)).toBeLessThan(0.02);
      expect(Math.abs(mean - c.exactMean)).toBeLessThan(0.02 * c.exactStd);
      // PyTorch's own samples agree with the same exact moments.
      expect(Math.abs(c.torchSampleStd / c.exactStd - 1)).toBeLessThan(0.02);
    },
  );

  it('rejects empty intervals and non-positive std', () => {
    expect(() => resolveInitializer({ name: 'trunc_normal', a: 1, b: 1 })).toThrow(
      'invalid b: got 1, expected a number > a = 1',
    );
    expect(() => resolveInitializer({ name: 'trunc_normal', std: 0 })).toThrow(
      'invalid std: got 0, expected a finite number > 0',
    );
    expect(() => resolveInitializer({ name: 'uniform', a: 2, b: -1 })).toThrow(InvalidArgumentError);
  });
});

describe('layer contract with gradflow initializers', () => {
  it('dense with he_normal kernel and a conv with orthogonal kernel save/load round-trip', async () => {
    await runLayerContract({
      name: 'dense(kaiming_normal)',
      inputShape: [6],
      outputShape: [5],
      build: (x) =>
        tf.layers
          .dense({
            units: 5,
            kernelInitializer: resolveInitializer({ name: 'kaiming_normal', mode: 'fan_out', seed: 1 }),
            biasInitializer: resolveInitializer({ name: 'constant', value: 0.1 }),
          })
          .apply(x) as tf.SymbolicTensor,
    });
    // Conv backprop on stock wasm needs @gradflow/backend-wasm's kernels; cpu is the reference here.
    await runLayerContract({
      name: 'conv2d(orthogonal)',
      inputShape: [6, 6, 3],
      outputShape: [6, 6, 4],
      backends: ['cpu'],
      build: (x) =>
        tf.layers
          .conv2d({
            filters: 4,
            kernelSize: 3,
            padding: 'same',
            kernelInitializer: resolveInitializer({ name: 'orthogonal', gain: 1.4, seed: 2 }),
          })
          .apply(x) as tf.SymbolicTensor,
    });
    await runLayerContract({
      name: 'conv2d(he_truncated_normal)',
      inputShape: [5, 5, 2],
      outputShape: [5, 5, 3],
      backends: ['cpu'],
      build: (x) =>
        tf.layers
          .conv2d({
            filters: 3,
            kernelSize: 3,
            padding: 'same',
            kernelInitializer: resolveInitializer({ name: 'he_truncated_normal', nonlinearity: 'relu' }),
          })
          .apply(x) as tf.SymbolicTensor,
    });
  });

  it('cpu and wasm get bit-identical weights from the same seed', async () => {
    const { withBackend } = await import('@gradflow/testing');
    const make = () => resolveInitializer({ name: 'glorot_truncated_normal', seed: 12 }).apply([8, 8]);
    const onCpu = await withBackend('cpu', () => {
      const t = make();
      const v = t.arraySync();
      t.dispose();
      return v;
    });
    const onWasm = await withBackend('wasm', () => {
      expect(tf.getBackend()).toBe('wasm');
      const t = make();
      const v = t.arraySync();
      t.dispose();
      return v;
    });
    expect(onWasm).toEqual(onCpu);
  });
});
