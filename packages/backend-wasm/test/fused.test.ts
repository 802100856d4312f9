// FusedBatchNorm and the fused ReLU gradient against the cpu backend (and finite differences).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { forceKernelVariant, registerGradflowKernels, unregisterGradflowKernels } from '../src/index.js';
import { RELU_GRAD_KERNEL } from '../src/reluGradient.js';
import { on, randomData, relErr, runKernelOn } from './helpers.js';

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
    for (const variant of [undefined, 'scalar'] as const) {
      forceKernelVariant(variant);
      try {
        for (const [xs, ps] of grid) {
          for (const full of [true, false]) {
            const err = await batchNormCase(rng, xs, ps, full);
            expect(
              err,
              `${variant ?? 'simd'} x ${JSON.stringify(xs)} params ${JSON.stringify(ps)} ${full}`,
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
    for (const variant of [undefined, 'scalar'] as const) {
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
            `${variant ?? 'simd'} n=${n}`,
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
