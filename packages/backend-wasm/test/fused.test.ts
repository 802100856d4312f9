// FusedBatchNorm and the fused ReLU gradient against the cpu backend (and finite differences).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import {
  batchNormTrainingGrad,
  channelMoments,
  forceKernelVariant,
  registerGradflowKernels,
  unregisterGradflowKernels,
} from '../src/index.js';
import { BATCH_NORM_GRAD_KERNEL, REDUCE_GRAD_KERNEL, RELU_GRAD_KERNEL } from '../src/gradients.js';
import { channelMomentsF64, maxAbsDiff, on, randomData, relErr, runKernelOn } from './helpers.js';

const TOL = 1e-4;
const size = (s: number[]): number => s.reduce((p, d) => p * d, 1);

async function batchNormCase(rng: Rng, xShape: number[], paramShape: number[], withOffsetScale: boolean) {
  const x = { data: randomData(rng, size(xShape)), shape: xShape };
  const p = (positive = false) => {
    const d = randomData(rng, size(paramShape));
    return { data: positive ? d.map((v) => Math.abs(v) + 0.05) : d, shape: paramShape };
  };
  const inputs: Record<string, { data: Float32Array; shape: number[] }> = {
    x,
    mean: p(),
    variance: p(true),
  };
  if (withOffsetScale) {
    inputs.offset = p();
    inputs.scale = p();
  }
  const attrs = { varianceEpsilon: 1e-3 };
  const got = await runKernelOn('wasm', 'FusedBatchNorm', inputs, attrs);
  const want = await runKernelOn('cpu', 'FusedBatchNorm', inputs, attrs);
  return relErr(got, want);
}

describe('FusedBatchNorm on wasm', () => {
  const grid: [number[], number[]][] = [];
  for (const c of [1, 3, 4, 8, 16, 17, 64]) {
    grid.push(
      [[2, 3, 5, c], [c]],
      [
        [1, 4, 4, c],
        [1, 1, 1, c],
      ],
      [[7, c], [c]],
    );
  }

  it(`matches cpu over a grid (${grid.length * 2} cases), SIMD and scalar builds, no leaks`, async () => {
    const rng = new Rng(31);
    const before = await on('wasm', () => tf.memory().numTensors);
    for (const variant of [undefined, 'simd', 'scalar'] as const) {
      forceKernelVariant(variant);
      try {
        for (const [xs, ps] of grid) {
          for (const full of [true, false]) {
            const err = await batchNormCase(rng, xs, ps, full);
            expect(
              err,
              `${variant ?? 'default'} x ${JSON.stringify(xs)} params ${JSON.stringify(ps)} ${full}`,
            ).toBeLessThanOrEqual(TOL);
          }
        }
      } finally {
        forceKernelVariant(undefined);
      }
    }
    expect(await on('wasm', () => tf.memory().numTensors)).toBe(before);
  });

  it('falls back to stock for non-per-channel parameters', async () => {
    const rng = new Rng(32);
    // A scalar mean over 5 channels and parameters over the last two axes.
    expect(await batchNormCase(rng, [2, 3, 5], [1], true)).toBeLessThanOrEqual(TOL);
    expect(await batchNormCase(rng, [2, 3, 5], [3, 5], true)).toBeLessThanOrEqual(TOL);
  });

  it('the layer forward (training and inference) matches cpu', async () => {
    const rng = new Rng(33);
    const xData = randomData(rng, 2 * 6 * 6 * 12);
    const run = (backend: 'cpu' | 'wasm', training: boolean) =>
      on(backend, () => {
        const before = tf.memory().numTensors;
        const model = tf.sequential({
          layers: [
            tf.layers.batchNormalization({ inputShape: [6, 6, 12], name: `bn_${backend}_${training}` }),
          ],
        });
        const values = model.getWeights().map((w, i) => tf.fill(w.shape, 0.5 + 0.25 * i));
        model.setWeights(values);
        const x = tf.tensor(xData, [2, 6, 6, 12]);
        const y = model.apply(x, { training }) as tf.Tensor;
        const out = Float32Array.from(y.dataSync());
        tf.dispose([x, y, ...values]);
        model.dispose();
        expect(tf.memory().numTensors).toBe(before);
        return out;
      });
    for (const training of [true, false]) {
      expect(relErr(await run('wasm', training), await run('cpu', training))).toBeLessThanOrEqual(TOL);
    }
  });
});

function reluInputs(rng: Rng, n: number): { x: Float32Array; dy: Float32Array } {
  const x = randomData(rng, n);
  const dy = randomData(rng, n);
  const specials = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (let i = 0; i < n; i += 5) x[i] = specials[(i / 5) % specials.length] as number;
  for (let i = 2; i < n; i += 7) dy[i] = specials[(i * 3) % specials.length] as number;
  return { x, dy };
}

describe('fused ReLU gradient', () => {
  it('the kernel is bit-identical to dy * step(x) on cpu, including NaN, Inf and signed zeros', async () => {
    const rng = new Rng(41);
    for (const variant of [undefined, 'simd', 'scalar'] as const) {
      forceKernelVariant(variant);
      try {
        for (const n of [1, 3, 4, 5, 8, 31, 67, 1000]) {
          const { x, dy } = reluInputs(rng, n);
          const shape = [n];
          const got = await runKernelOn(
            'wasm',
            RELU_GRAD_KERNEL,
            { dy: { data: dy, shape }, x: { data: x, shape } },
            {},
          );
          const want = await on('cpu', () => {
            const t = tf.tidy(() => tf.mul(tf.tensor(dy), tf.cast(tf.step(tf.tensor(x)), 'float32')));
            const v = Float32Array.from(t.dataSync());
            t.dispose();
            return v;
          });
          // Object.is: NaN equals NaN, 0 and -0 differ.
          expect(
            Array.from(got)
              .map((v, i) => Object.is(v, want[i]))
              .every(Boolean),
            `${variant ?? 'default'} n=${n}`,
          ).toBe(true);
        }
      } finally {
        forceKernelVariant(undefined);
      }
    }
  });

  it('tf.grad of relu on wasm matches cpu and float64 finite differences, runs the fused kernel, no leaks', async () => {
    const rng = new Rng(42);
    for (const shape of [[7], [2, 5, 5, 3], [3, 4, 4, 16]]) {
      const n = size(shape);
      // Keep |x| >= 0.05 so a finite-difference step never crosses the kink.
      const x = randomData(rng, n).map((v) => (Math.abs(v) < 0.05 ? 0.5 : v));
      const w = randomData(rng, n);
      const grad = (backend: 'cpu' | 'wasm') =>
        on(backend, () => {
          const before = tf.memory().numTensors;
          const xt = tf.tensor(x, shape);
          const wt = tf.tensor(w, shape);
          const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), wt)))(xt);
          const out = Float32Array.from(g.dataSync());
          tf.dispose([xt, wt, g]);
          expect(tf.memory().numTensors).toBe(before);
          return out;
        });
      const ranFused: string[] = [];
      const wasmGrad = await on('wasm', async () => {
        const prof = await tf.profile(() => grad('wasm'));
        ranFused.push(...prof.kernels.map((k) => k.name));
        return prof.result as Float32Array;
      });
      expect(ranFused).toContain(RELU_GRAD_KERNEL);
      expect(ranFused).not.toContain('Step');
      expect(relErr(wasmGrad, await grad('cpu'))).toBe(0);
      // f(x) = sum(relu(x) * w) in float64, central differences.
      const h = 1e-3;
      const fd = Float64Array.from(x, (xi, i) => {
        const f = (v: number) => Math.max(v, 0) * (w[i] as number);
        return (f(xi + h) - f(xi - h)) / (2 * h);
      });
      expect(relErr(wasmGrad, fd)).toBeLessThanOrEqual(TOL);
    }
  });

  it('second order through the fused kernel matches cpu', async () => {
    const x = Float32Array.from([-1.5, -0.2, 0.3, 2, 0.7, -3]);
    const run = (backend: 'cpu' | 'wasm') =>
      on(backend, () => {
        const xt = tf.tensor(x);
        // d/dx sum(x * relu'(x) * x) through tf.grad of the gradient.
        const g2 = tf.grad((v: tf.Tensor) =>
          tf.sum(tf.mul(tf.grad((u: tf.Tensor) => tf.sum(tf.relu(u).mul(u)))(v), v)),
        )(xt);
        const out = Float32Array.from(g2.dataSync());
        tf.dispose([xt, g2]);
        return out;
      });
    expect(relErr(await run('wasm'), await run('cpu'))).toBeLessThanOrEqual(TOL);
  });

  it('unregistering restores the stock Relu gradient; registering installs ours again', async () => {
    await on('wasm', () => undefined);
    const ours = tf.getGradient('Relu');
    unregisterGradflowKernels();
    try {
      const stock = tf.getGradient('Relu');
      expect(stock).not.toBe(ours);
      expect(tf.getKernel(RELU_GRAD_KERNEL, 'wasm')).toBeUndefined();
      const g = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.relu(v)))(tf.tensor([-1, 2])));
      expect(Array.from(g.dataSync())).toEqual([0, 1]);
      g.dispose();
    } finally {
      registerGradflowKernels();
    }
    expect(tf.getGradient('Relu')).toBe(ours);
  });

  it('rejects mismatched shapes with a typed error', async () => {
    await on('wasm', () => undefined);
    const dy = tf.zeros([3]);
    const x = tf.zeros([4]);
    expect(() => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy, x })).toThrow(
      /dy has shape \[3\], expected the shape of x \[4\]/,
    );
    tf.dispose([dy, x]);
  });
});

/** Gradients of sum(batchNorm(x, mean, variance, offset?, scale?) * w) w.r.t. every input. */
function bnGrads(
  backend: 'cpu' | 'wasm',
  data: Record<string, Float32Array>,
  xShape: number[],
  withOffsetScale: boolean,
): Promise<{ grads: Float32Array[]; kernels: string[] }> {
  return on(backend, async () => {
    const before = tf.memory().numTensors;
    const c = xShape[xShape.length - 1] as number;
    const t = (k: string, shape: number[]) => tf.tensor(data[k] as Float32Array, shape);
    const names = withOffsetScale ? ['x', 'mean', 'variance', 'offset', 'scale'] : ['x', 'mean', 'variance'];
    const ts = names.map((k) => t(k, k === 'x' ? xShape : [c]));
    const w = t('w', xShape);
    const f = (...a: tf.Tensor[]) =>
      tf.sum(
        tf.mul(tf.batchNorm(a[0] as tf.Tensor, a[1] as tf.Tensor, a[2] as tf.Tensor, a[3], a[4], 1e-3), w),
      );
    const prof = await tf.profile(() => tf.grads(f)(ts));
    const gs = prof.result as tf.Tensor[];
    const grads = gs.map((g) => Float32Array.from(g.dataSync()));
    tf.dispose([...ts, w, ...gs]);
    expect(tf.memory().numTensors).toBe(before);
    return { grads, kernels: prof.kernels.map((k) => k.name) };
  });
}

function bnData(rng: Rng, xShape: number[]): Record<string, Float32Array> {
  const c = xShape[xShape.length - 1] as number;
  const n = size(xShape);
  return {
    x: randomData(rng, n),
    w: randomData(rng, n),
    mean: randomData(rng, c),
    variance: randomData(rng, c).map((v) => Math.abs(v) + 0.1),
    offset: randomData(rng, c),
    scale: randomData(rng, c),
  };
}

describe('fused BatchNorm gradient', () => {
  const shapes = [1, 3, 4, 16, 17, 64].flatMap((c) => [
    [2, 3, 5, c],
    [7, c],
  ]);
  shapes.push([600, 8]); // more rows than one float32 accumulation block

  // Only with offset and scale: tfjs-core 4.22 cannot differentiate batchNorm without a scale on
  // any backend (it clones the missing input for the tape), so there is nothing to compare.
  it(`matches cpu for every input's gradient (${shapes.length} cases) and runs the fused kernel`, async () => {
    const rng = new Rng(51);
    for (const xShape of shapes) {
      const data = bnData(rng, xShape);
      const ours = await bnGrads('wasm', data, xShape, true);
      const cpu = await bnGrads('cpu', data, xShape, true);
      expect(ours.kernels).toContain(BATCH_NORM_GRAD_KERNEL);
      ours.grads.forEach((g, i) =>
        expect(
          relErr(g, cpu.grads[i] as Float32Array),
          `${JSON.stringify(xShape)} input ${i}`,
        ).toBeLessThanOrEqual(TOL),
      );
    }
  });

  it('the scalar build and float64 finite differences agree', async () => {
    const rng = new Rng(52);
    const xShape = [3, 4, 5];
    const data = bnData(rng, xShape);
    forceKernelVariant('scalar');
    let grads: Float32Array[];
    try {
      grads = (await bnGrads('wasm', data, xShape, true)).grads;
    } finally {
      forceKernelVariant(undefined);
    }
    const c = 5;
    const f64 = (vals: Record<string, Float64Array>): number => {
      let s = 0;
      const x = vals.x as Float64Array;
      for (let i = 0; i < x.length; i++) {
        const k = i % c;
        const y =
          ((x[i] as number) - (vals.mean as Float64Array)[k]!) *
            ((vals.scale as Float64Array)[k]! / Math.sqrt((vals.variance as Float64Array)[k]! + 1e-3)) +
          (vals.offset as Float64Array)[k]!;
        s += y * (data.w as Float32Array)[i]!;
      }
      return s;
    };
    ['x', 'mean', 'variance', 'offset', 'scale'].forEach((name, gi) => {
      const vals: Record<string, Float64Array> = {};
      for (const k of ['x', 'mean', 'variance', 'offset', 'scale'])
        vals[k] = Float64Array.from(data[k] as Float32Array);
      const v = vals[name] as Float64Array;
      const h = 1e-4;
      const fd = Float64Array.from(v, (_, i) => {
        const old = v[i] as number;
        v[i] = old + h;
        const up = f64(vals);
        v[i] = old - h;
        const down = f64(vals);
        v[i] = old;
        return (up - down) / (2 * h);
      });
      expect(relErr(grads[gi] as Float32Array, fd), name).toBeLessThanOrEqual(TOL);
    });
  });

  it('a batchNormalization layer in training mode: gradients w.r.t. x, gamma and beta match cpu', async () => {
    const rng = new Rng(53);
    const xData = randomData(rng, 4 * 5 * 5 * 8);
    const wData = randomData(rng, 4 * 5 * 5 * 8);
    const run = (backend: 'cpu' | 'wasm') =>
      on(backend, () => {
        const before = tf.memory().numTensors;
        const model = tf.sequential({
          layers: [tf.layers.batchNormalization({ inputShape: [5, 5, 8], name: `bn_grad_${backend}` })],
        });
        const x = tf.tensor(xData, [4, 5, 5, 8]);
        const w = tf.tensor(wData, [4, 5, 5, 8]);
        const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar,
          vars,
        );
        const dx = tf.grad((v: tf.Tensor) =>
          tf.sum(tf.mul(model.apply(v, { training: true }) as tf.Tensor, w)),
        )(x);
        const out = [dx, ...vars.map((v) => grads[v.name] as tf.Tensor)].map((g) =>
          Float32Array.from(g.dataSync()),
        );
        tf.dispose([value, x, w, dx, ...Object.values(grads)]);
        model.dispose();
        expect(tf.memory().numTensors).toBe(before);
        return out;
      });
    const ours = await run('wasm');
    const cpu = await run('cpu');
    ours.forEach((g, i) => expect(relErr(g, cpu[i] as Float32Array), `output ${i}`).toBeLessThanOrEqual(TOL));
  });

  it('batchNormTrainingGrad: the training-mode gradient through the batch statistics, as autodiff on cpu', async () => {
    const rng = new Rng(55);
    for (const [shape, keptDims, withScale] of [
      [[4, 5, 5, 8], true, true],
      [[3, 6, 7, 13], false, true],
      [[9, 5], true, false],
    ] as const) {
      const c = shape[shape.length - 1]!;
      const xData = randomData(rng, size([...shape]));
      const dyData = randomData(rng, size([...shape]));
      const gData = withScale ? randomData(rng, c) : new Float32Array(c).fill(1); // no scale: γ = 1
      const statShape = keptDims ? [...shape.slice(0, -1).map(() => 1), c] : [c];
      const axes = shape.slice(0, -1).map((_, i) => i);
      const eps = 1e-3;
      // cpu: autodiff of sum(dy * batchNorm(x, moments(x), γ)), through the moments.
      const want = await on('cpu', () =>
        tf.tidy(() => {
          const dy = tf.tensor(dyData, [...shape]);
          const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const m = tf.moments(x, axes);
            return tf.sum(tf.mul(dy, tf.batchNorm(x, m.mean, m.variance, b, g, eps)));
          };
          const grads = tf.grads(f)([tf.tensor(xData, [...shape]), tf.tensor(gData, [c]), tf.zeros([c])]);
          return grads.map((t) => Float32Array.from(t.dataSync()));
        }),
      );
      const got = await on('wasm', () => {
        const before = tf.memory().numTensors;
        const x = tf.tensor(xData, [...shape]);
        const dy = tf.tensor(dyData, [...shape]);
        const m = tf.moments(x, axes, keptDims);
        const scale = withScale ? tf.tensor(gData, statShape) : null;
        const r = batchNormTrainingGrad({ x, dy, mean: m.mean, variance: m.variance, scale, epsilon: eps });
        expect(r).not.toBeNull();
        const out = [r!.dx, r!.dscale, r!.doffset].map((t) => Float32Array.from(t.dataSync()));
        tf.dispose([x, dy, m.mean, m.variance, ...(scale ? [scale] : []), r!.dx, r!.dscale, r!.doffset]);
        expect(tf.memory().numTensors).toBe(before);
        return out;
      });
      const label = JSON.stringify([shape, keptDims, withScale]);
      expect(relErr(got[0]!, want[0]!), `dx ${label}`).toBeLessThanOrEqual(TOL);
      if (withScale) expect(relErr(got[1]!, want[1]!), `dscale ${label}`).toBeLessThanOrEqual(TOL);
      expect(relErr(got[2]!, want[2]!), `doffset ${label}`).toBeLessThanOrEqual(TOL);
    }
    // Not on cpu, and not for statistics that are not per channel.
    expect(
      await on('cpu', () => {
        const [x, m, v] = [tf.ones([2, 3]), tf.zeros([3]), tf.ones([3])];
        const r = batchNormTrainingGrad({ x, dy: x, mean: m, variance: v, scale: null, epsilon: 1e-3 });
        tf.dispose([x, m, v]);
        return r;
      }),
    ).toBeNull();
    expect(
      await on('wasm', () => {
        const [x, m, v] = [tf.ones([2, 3]), tf.zeros([2, 1]), tf.ones([2, 1])];
        const r = batchNormTrainingGrad({ x, dy: x, mean: m, variance: v, scale: null, epsilon: 1e-3 });
        tf.dispose([x, m, v]);
        return r;
      }),
    ).toBeNull();
  });

  it('second-order gradients fall back to tfjs-core and match cpu', async () => {
    const rng = new Rng(54);
    const data = bnData(rng, [3, 4]);
    const run = (backend: 'cpu' | 'wasm') =>
      on(backend, () => {
        const before = tf.memory().numTensors;
        const [x, mean, variance, offset, scale] = ['x', 'mean', 'variance', 'offset', 'scale'].map((k) =>
          tf.tensor(data[k] as Float32Array, k === 'x' ? [3, 4] : [4]),
        ) as tf.Tensor[];
        const inner = (v: tf.Tensor): tf.Tensor =>
          tf.grad((u: tf.Tensor) =>
            tf.sum(tf.square(tf.batchNorm(u, mean as tf.Tensor, variance as tf.Tensor, offset, scale, 1e-3))),
          )(v);
        const g2 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(inner(v), v)))(x as tf.Tensor);
        const out = Float32Array.from(g2.dataSync());
        tf.dispose([x, mean, variance, offset, scale, g2] as tf.Tensor[]);
        expect(tf.memory().numTensors).toBe(before);
        return out;
      });
    expect(relErr(await run('wasm'), await run('cpu'))).toBeLessThanOrEqual(TOL);
  });

  it('rejects mismatched shapes with typed errors', async () => {
    await on('wasm', () => undefined);
    const x = tf.zeros([2, 3]);
    const v3 = tf.ones([3]);
    const v4 = tf.ones([4]);
    expect(() =>
      tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, { x, dy: tf.zeros([2, 4]), mean: v3, variance: v3 }),
    ).toThrow(/dy has shape \[2, 4\], expected the shape of x/);
    expect(() => tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, { x, dy: x, mean: v4, variance: v3 })).toThrow(
      /mean has shape \[4\], expected \[3\]/,
    );
    tf.dispose([x, v3, v4]);
  });
});

describe('fused Sum/Mean gradient', () => {
  /** Gradient of sum(reduce(x) * w) w.r.t. x, and the kernels that ran. */
  const reduceGrad = (
    backend: 'cpu' | 'wasm',
    op: 'sum' | 'mean',
    xData: Float32Array,
    shape: number[],
    axis: number | number[],
    keepDims: boolean,
  ): Promise<{ g: Float32Array; kernels: string[] }> =>
    on(backend, async () => {
      const before = tf.memory().numTensors;
      const x = tf.tensor(xData, shape);
      const prof = await tf.profile(() =>
        tf.grad((v: tf.Tensor) => {
          const r = op === 'sum' ? tf.sum(v, axis, keepDims) : tf.mean(v, axis, keepDims);
          const w = Float32Array.from({ length: r.size }, (_, i) => -1 + (3 * i) / Math.max(1, r.size - 1));
          return tf.sum(tf.mul(r, tf.tensor(w, r.shape)));
        })(x),
      );
      const out = prof.result as tf.Tensor;
      const g = Float32Array.from(out.dataSync());
      tf.dispose([x, out]);
      expect(tf.memory().numTensors).toBe(before);
      return { g, kernels: prof.kernels.map((k) => k.name) };
    });

  const cases: [number[], number | number[], boolean][] = [
    [[2, 3, 5, 16], [0, 1, 2], false],
    [[2, 3, 5, 17], [2, 0, 1], true],
    [[7, 3], 0, false],
    [[7, 3], -2, true],
    [[4, 5, 6], [0, 1], false],
    [[1, 1, 1, 8], [0, 1, 2], true],
  ];
  const fallbacks: [number[], number | number[], boolean][] = [
    [[2, 3, 5, 4], [1, 2], false], // the global-average-pool shape: not leading axes
    [[2, 3], [0, 1], false], // a full reduction
    [[4, 6], 1, true],
  ];

  it(`is bit-identical to cpu on leading axes (fused) and elsewhere (tfjs-core), no leaks`, async () => {
    const rng = new Rng(61);
    for (const op of ['sum', 'mean'] as const) {
      for (const [shape, axis, keepDims] of [...cases, ...fallbacks]) {
        const x = randomData(rng, size(shape));
        const ours = await reduceGrad('wasm', op, x, shape, axis, keepDims);
        const cpu = await reduceGrad('cpu', op, x, shape, axis, keepDims);
        const what = `${op} ${JSON.stringify([shape, axis, keepDims])}`;
        expect(
          Array.from(ours.g).every((v, i) => Object.is(v, cpu.g[i])),
          what,
        ).toBe(true);
        expect(ours.kernels.includes(REDUCE_GRAD_KERNEL), what).toBe(cases.some((c) => c[0] === shape));
      }
    }
  });

  it('matches float64 finite differences', async () => {
    const rng = new Rng(62);
    const shape = [3, 4, 5];
    const x = randomData(rng, size(shape));
    const { g } = await reduceGrad('wasm', 'mean', x, shape, [0, 1], false);
    // f(x) = sum_c mean_{a,b}(x[a,b,c]) * w[c], w = linspace(-1, 2, 5): linear, so central differences are exact.
    const w = [-1, -0.25, 0.5, 1.25, 2];
    const h = 1e-3;
    const f = (v: Float64Array): number => {
      let s = 0;
      v.forEach((xi, i) => (s += (xi * (w[i % 5] as number)) / 12));
      return s;
    };
    const v = Float64Array.from(x);
    const fd = Float64Array.from(v, (_, i) => {
      const old = v[i] as number;
      v[i] = old + h;
      const up = f(v);
      v[i] = old - h;
      const down = f(v);
      v[i] = old;
      return (up - down) / (2 * h);
    });
    expect(relErr(g, fd)).toBeLessThanOrEqual(TOL);
  });

  it('unregistering restores the stock Sum/Mean gradients; bad shapes are typed errors', async () => {
    await on('wasm', () => undefined);
    const ours = [tf.getGradient('Sum'), tf.getGradient('Mean')];
    unregisterGradflowKernels();
    const stock = [tf.getGradient('Sum'), tf.getGradient('Mean')];
    try {
      expect(stock[0]).not.toBe(ours[0]);
      expect(stock[1]).not.toBe(ours[1]);
    } finally {
      registerGradflowKernels();
    }
    expect(tf.getGradient('Sum')).not.toBe(stock[0]);
    expect(tf.getGradient('Mean')).not.toBe(stock[1]);
    unregisterGradflowKernels();
    expect([tf.getGradient('Sum'), tf.getGradient('Mean')]).toEqual(stock);
    registerGradflowKernels();
    const dy = tf.zeros([3]);
    expect(() =>
      tf
        .engine()
        .runKernel(REDUCE_GRAD_KERNEL, { dy }, { shape: [2, 4], divisor: 2 } as unknown as tf.NamedAttrMap),
    ).toThrow(/dy has shape \[3\], expected a trailing block of \[2, 4\]/);
    dy.dispose();
  });
});

describe('channelMoments (one-pass per-channel statistics)', () => {
  it('matches float64 moments, a large mean and several 256-row blocks included; null where it does not apply', async () => {
    const rng = new Rng(31);
    for (const [shape, offset] of [
      [[2, 5, 7, 3], 0],
      [[2, 5, 7, 3], 1000],
      [[600, 4], -50],
      [[1, 1, 1, 16], 0],
      [[3, 9], 1e4],
    ] as [number[], number][]) {
      const data = randomData(
        rng,
        shape.reduce((p, d) => p * d, 1),
      ).map((v) => v + offset);
      // Against float64: tfjs's own float32 moments are no closer than these.
      const want = channelMomentsF64(data, shape.at(-1)!);
      await on('wasm', () => {
        const before = tf.memory().numTensors;
        const x = tf.tensor(data, shape);
        const got = channelMoments(x)!;
        expect(got.mean.shape).toEqual([shape.at(-1)]);
        // The mean against the data's scale (|offset| + 1): it may be near 0 itself.
        expect(maxAbsDiff(got.mean.dataSync(), want[0]), `mean ${shape} + ${offset}`).toBeLessThanOrEqual(
          1e-6 * (Math.abs(offset) + 1),
        );
        // The variance against its own scale: float32 data with |mean| up to 1e4 cannot hold more.
        expect(
          relErr(got.variance.dataSync(), want[1]!),
          `variance ${shape} + ${offset}`,
        ).toBeLessThanOrEqual(offset >= 1e4 ? 1e-3 : 1e-5);
        tf.dispose([x, got.mean, got.variance]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
    await on('wasm', () => {
      const ints = tf.zeros([4, 3], 'int32');
      const vector = tf.zeros([5]);
      const empty = tf.zeros([0, 3]);
      expect(channelMoments(ints)).toBeNull();
      expect(channelMoments(vector)).toBeNull();
      expect(channelMoments(empty)).toBeNull();
      tf.dispose([ints, vector, empty]);
    });
    await on('cpu', () => {
      const x = tf.zeros([4, 3]);
      expect(channelMoments(x)).toBeNull();
      x.dispose();
    });
  });
});
