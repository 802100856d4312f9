import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { backendsUnderTest, loadFixture, withBackend } from '@gradflow/testing';
import { applyActivation, listActivations, resolveActivation, type ActivationLike } from './index.js';

/**
 * Values and gradients against PyTorch 1.13 (fixtures/activations.json, scripts/gen_fixtures.py).
 *
 * Each element must be within tolerance of PyTorch in float64 on the same float32 input (the
 * exact function) OR of PyTorch in float32 (the same arithmetic a PyTorch user gets): where
 * PyTorch's float32 is itself wrong (gelu's 1 + erf cancels to 0 below x = -5.5) we must be
 * right, and where both libraries share a float32 formula (tanh' = 1 - y^2) matching PyTorch is
 * enough.
 *
 * Tolerances, and why:
 * - relative 1e-6 (about 16 float32 ulps) everywhere;
 * - values: additionally 4 u kappa relative, u = 2^-24 and kappa = |x f'(x) / f(x)| the condition
 *   number of f at x. A float32 input is only known to u, so an implementation that is exact
 *   for an input within 4 ulps is as good as float32 allows (this only matters in tails such as
 *   gelu_tanh(-6) ~ -8.4e-11, kappa ~ 55);
 * - gradients: additionally 2^-23 |g| absolute (one ulp of 1, times the chain-rule weight g):
 *   tfjs's built-in gradients of sigmoid and tanh are y (1 - y) and 1 - y^2, differences of O(1)
 *   float32 numbers, as in PyTorch; at x = 17 the true sigmoid' is 4e-8 and both libraries return
 *   a multiple of 6e-8 (PyTorch 0);
 * - everything: 1e-35 absolute. tfjs-wasm (XNNPack) flushes subnormal results (< 1.2e-38) to 0,
 *   and such a flushed factor may then be multiplied by |x| <= 100 (silu(-88)).
 */
interface Case {
  name: string;
  params: Record<string, number>;
  x: number[];
  g: number[];
  value32: number[];
  grad32: number[];
  value64: number[];
  grad64: number[];
}
const fixture = loadFixture<{ torch: string; cases: Case[] }>(
  import.meta.url,
  '../fixtures/activations.json',
);

const U = 2 ** -24;
const TINY = 1e-35;

function run(c: Case): { value: Float32Array; grad: Float32Array } {
  return tf.tidy(() => {
    const like = { name: c.name, ...c.params } as ActivationLike;
    const x = tf.tensor1d(c.x);
    const g = tf.tensor1d(c.g);
    const value = applyActivation(like, x);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyActivation(like, t), g)))(x);
    return { value: value.dataSync() as Float32Array, grad: grad.dataSync() as Float32Array };
  });
}

function close(a: number, e: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= rtol * Math.abs(e) + atol;
}

function check(c: Case, value: Float32Array, grad: Float32Array): string[] {
  const failures: string[] = [];
  for (let i = 0; i < c.x.length; i++) {
    const x = c.x[i]!;
    const g = c.g[i]!;
    const fprime = c.grad64[i]! / g;
    const kappa = c.value64[i] === 0 ? 0 : Math.abs((x * fprime) / c.value64[i]!);
    const rv = Math.max(1e-6, 4 * U * kappa);
    const v = value[i]!;
    if (!close(v, c.value64[i]!, rv, TINY) && !close(v, c.value32[i]!, rv, TINY)) {
      failures.push(`f(${x}) = ${v}, PyTorch ${c.value64[i]} (float64) / ${c.value32[i]} (float32)`);
    }
    const d = grad[i]!;
    const atol = 2 ** -23 * Math.abs(g) + TINY;
    if (!close(d, c.grad64[i]!, 1e-6, atol) && !close(d, c.grad32[i]!, 1e-6, atol)) {
      failures.push(`g f'(${x}) = ${d}, PyTorch ${c.grad64[i]} (float64) / ${c.grad32[i]} (float32)`);
    }
    if (Number.isFinite(c.value32[i]!) && !Number.isFinite(v)) failures.push(`non-finite f(${x}) = ${v}`);
    if (Number.isFinite(c.grad32[i]!) && !Number.isFinite(d)) failures.push(`non-finite f'(${x}) = ${d}`);
  }
  return failures;
}

describe(`activations match PyTorch ${fixture.torch} (values and gradients)`, () => {
  it('covers every activation, large |x| and the kinks', () => {
    expect(new Set(fixture.cases.map((c) => c.name))).toEqual(new Set(listActivations()));
    for (const c of fixture.cases)
      expect(c.x).toEqual(expect.arrayContaining([-100, -20, 0, 1e-6, 20, 100].map(Math.fround)));
  });

  for (const backend of backendsUnderTest()) {
    it(`on ${backend}`, async () => {
      await withBackend(backend, () => {
        const before = tf.memory().numTensors;
        const failures: string[] = [];
        for (const c of fixture.cases) {
          const { value, grad } = run(c);
          for (const f of check(c, value, grad)) failures.push(`${c.name} ${JSON.stringify(c.params)}: ${f}`);
        }
        expect(tf.memory().numTensors).toBe(before);
        expect(failures).toEqual([]);
      });
    });
  }
});

/**
 * Between the fixture points: a dense sweep (4001 points on [-10, 10], every 0.005) of every
 * activation and parameter variant against its float64 reference formula (`f64`, `df64`, themselves checked against
 * PyTorch float64 in metadata.test.ts), with the same tolerances. This is what validates the
 * polynomial pieces (gelu's erfc fit, tanh's small-|x| branch) everywhere, not just at the
 * fixture's inputs.
 */
describe('activations match their float64 formulas on a dense sweep', () => {
  const xs = Float32Array.from({ length: 4001 }, (_, i) => -10 + i * 0.005);
  for (const backend of backendsUnderTest()) {
    it(`on ${backend}`, async () => {
      await withBackend(backend, () => {
        const failures: string[] = [];
        for (const name of listActivations()) {
          const { spec, params } = resolveActivation(name);
          const { value, grad } = tf.tidy(() => {
            const x = tf.tensor1d(xs);
            const v = applyActivation(name, x).dataSync() as Float32Array;
            const g = tf
              .grad((t: tf.Tensor) => applyActivation(name, t))(x)
              .dataSync() as Float32Array;
            return { value: v, grad: g };
          });
          let worst = '';
          let worstExcess = 0;
          xs.forEach((x, i) => {
            const e = spec.f64(x, params);
            const d = spec.df64(x, params);
            const kappa = e === 0 ? 0 : Math.abs((x * d) / e);
            const excessV = Math.abs(value[i]! - e) - (Math.max(1e-6, 4 * U * kappa) * Math.abs(e) + TINY);
            const excessG = Math.abs(grad[i]! - d) - (1e-6 * Math.abs(d) + 2 ** -23 + TINY);
            if (excessV > worstExcess) [worst, worstExcess] = [`f(${x}) = ${value[i]} vs ${e}`, excessV];
            if (excessG > worstExcess) [worst, worstExcess] = [`f'(${x}) = ${grad[i]} vs ${d}`, excessG];
          });
          if (worst) failures.push(`${name}: ${worst}`);
        }
        expect(failures).toEqual([]);
      });
    });
  }
});
