import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Rng, ShapeError, StateError } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { symmetricEigen } from './linalg.js';
import { channelStats, fitWhitening, meanImage, normalizeChannels, subtractMeanImage } from './preprocess.js';

function covariance(x: tf.Tensor2D): number[][] {
  return tf.tidy(() => {
    const c = x.sub(x.mean(0));
    return tf.matMul(c, c, true, false).div(x.shape[0]).arraySync() as number[][];
  });
}

/** Correlated data: z ~ N(0, I) times a random mixing matrix, plus an offset. */
function correlated(n: number, d: number, seed: number, mixSeed = 100): tf.Tensor2D {
  const z = tf.tensor2d(
    new Rng(seed).fill(n * d, (r) => r.normal()),
    [n, d],
  );
  const mix = tf.tensor2d(
    new Rng(mixSeed).fill(d * d, (r) => r.normal()),
    [d, d],
  );
  const out = tf.tidy(() => z.matMul(mix).add(3) as tf.Tensor2D);
  tf.dispose([z, mix]);
  return out;
}

describe('symmetricEigen', () => {
  it('decomposes A = V diag(λ) Vᵀ with orthonormal V', () => {
    const n = 30;
    const rng = new Rng(4);
    const b = rng.fill(n * n, (r) => r.normal());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = b[i * n + j]! + b[j * n + i]!;
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
    let maxErr = 0;
    let maxOrth = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let rec = 0;
        let dot = 0;
        for (let k = 0; k < n; k++) {
          rec += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
          dot += vectors[k * n + i]! * vectors[k * n + j]!;
        }
        maxErr = Math.max(maxErr, Math.abs(rec - a[i * n + j]!));
        maxOrth = Math.max(maxOrth, Math.abs(dot - (i === j ? 1 : 0)));
      }
    }
    expect(maxErr).toBeLessThan(1e-10);
    expect(maxOrth).toBeLessThan(1e-12);
    // Known spectrum: diag(3, 1, 2) and a rank-one matrix.
    expect([...symmetricEigen([3, 0, 0, 0, 1, 0, 0, 0, 2], 3).values]).toEqual([1, 2, 3]);
    const ones = symmetricEigen([1, 1, 1, 1], 2).values;
    expect(ones[0]).toBeCloseTo(0, 12);
    expect(ones[1]).toBeCloseTo(2, 12);
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(InvalidArgumentError);
    expect(() => symmetricEigen([1, Number.NaN, Number.NaN, 1], 2)).toThrow('a finite number');
  });
});

describe('per-channel statistics and mean image', () => {
  it('standardizes each channel to mean 0, std 1', () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(9);
    const x = tf.tensor4d(
      rng.fill(64 * 4 * 4 * 3, (r) => r.normal()),
      [64, 4, 4, 3],
    );
    const scaled = tf.tidy(() => x.mul(tf.tensor1d([1, 5, 0.1])).add(tf.tensor1d([10, -2, 0.5])));
    const stats = channelStats(scaled);
    expect(stats.mean.map((m) => Math.round(m))).toEqual([10, -2, 1]);
    const z = normalizeChannels(scaled, stats);
    const after = channelStats(z);
    after.mean.forEach((m) => expect(m).toBeCloseTo(0, 5));
    after.std.forEach((s) => expect(s).toBeCloseTo(1, 4));
    const mean = meanImage(scaled);
    expect(mean.shape).toEqual([4, 4, 3]);
    const centred = subtractMeanImage(scaled, mean);
    const residual = tf.tidy(() => centred.mean(0).abs().max().dataSync()[0]!);
    expect(residual).toBeLessThan(1e-5);
    tf.dispose([x, scaled, z, mean, centred]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects mismatched statistics and shapes', () => {
    const x = tf.zeros([2, 3, 3, 3]);
    const wrong = tf.zeros([3, 2, 3]);
    const scalar = tf.scalar(1);
    const before = tf.memory().numTensors;
    expect(() => normalizeChannels(x, { mean: [0], std: [1] })).toThrow(ShapeError);
    expect(() => normalizeChannels(x, { mean: [0, 0, 0], std: [1, 0, 1] })).toThrow('invalid std[1]');
    expect(() => subtractMeanImage(x, wrong)).toThrow('expected [3, 3, 3] (one example of x)');
    expect(() => channelStats(scalar)).toThrow(ShapeError);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, wrong, scalar]);
  });
});

describe('fitWhitening', () => {
  it('ZCA: whitened train covariance ≈ I, same transform applies to test', () => {
    const train = correlated(4000, 12, 1);
    const test = correlated(4000, 12, 2);
    const before = tf.memory().numTensors;
    const zca = fitWhitening(train, { method: 'zca', epsilon: 1e-8 });
    const w = zca.transform(train) as tf.Tensor2D;
    expect(w.shape).toEqual([4000, 12]);
    const cov = covariance(w);
    cov.forEach((row, i) =>
      row.forEach((v, j) => expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(2e-3)),
    );
    // ZCA's matrix is symmetric (it rotates back).
    const m = zca.matrix.arraySync();
    for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) expect(m[i]![j]!).toBeCloseTo(m[j]![i]!, 5);
    // Test data from the same distribution is approximately white too.
    const wt = zca.transform(test) as tf.Tensor2D;
    covariance(wt).forEach((row, i) =>
      row.forEach((v, j) => expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(0.15)),
    );
    tf.dispose([w, wt]);
    zca.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => zca.transform(train)).toThrow(StateError);
    tf.dispose([train, test]);
  });

  it('PCA: keeps the leading components, whitened, in descending order; images keep shape with ZCA', () => {
    const train = correlated(3000, 8, 3);
    const pca = fitWhitening(train, { method: 'pca', components: 3 });
    expect(pca.matrix.shape).toEqual([8, 3]);
    for (let k = 1; k < 8; k++) expect(pca.eigenvalues[k]!).toBeLessThanOrEqual(pca.eigenvalues[k - 1]!);
    const p = pca.transform(train) as tf.Tensor2D;
    expect(p.shape).toEqual([3000, 3]);
    covariance(p).forEach((row, i) =>
      row.forEach((v, j) => expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(1e-3)),
    );
    tf.dispose([p]);
    pca.dispose();
    const images = tf.tidy(() => train.reshape([3000, 2, 2, 2]));
    const zca = fitWhitening(images);
    const out = zca.transform(images);
    expect(out.shape).toEqual([3000, 2, 2, 2]);
    const bad = tf.zeros([2, 8]);
    expect(() => zca.transform(bad)).toThrow('expected [N, 2, 2, 2] (the shape it was fitted on)');
    tf.dispose([out, images, bad, train]);
    zca.dispose();
  });

  it('rejects bad options and singular data without leaking', () => {
    const x = correlated(50, 4, 5);
    const before = tf.memory().numTensors;
    expect(() => fitWhitening(x, { method: 'svd' as 'pca' })).toThrow("expected 'zca' or 'pca'");
    expect(() => fitWhitening(x, { method: 'pca', components: 5 })).toThrow('expected an integer in [1, 4]');
    expect(() => fitWhitening(x, { components: 2 })).toThrow("use method: 'pca' to reduce dimension");
    expect(() => fitWhitening(x, { epsilon: -1 })).toThrow('invalid epsilon');
    const one = tf.zeros([1, 4]);
    expect(() => fitWhitening(one)).toThrow('at least 2 examples');
    const constant = tf.ones([10, 3]);
    expect(() => fitWhitening(constant, { epsilon: 0 })).toThrow('the covariance is singular');
    tf.dispose([one, constant]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
