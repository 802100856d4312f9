import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Rng, ShapeError } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { colorJitter, cutout, mixup, randomCrop, randomFlip, sampleBeta } from './augment.js';

/** Images whose pixel value encodes (example, row, col, channel), so moves are traceable. */
function ramp(n: number, h: number, w: number, c: number): tf.Tensor4D {
  const data = Float32Array.from({ length: n * h * w * c }, (_, i) => i + 1);
  return tf.tensor4d(data, [n, h, w, c]);
}

describe('randomFlip', () => {
  it('flips left-right with the given probability, seeded', () => {
    const x = ramp(6, 3, 4, 2);
    const before = tf.memory().numTensors;
    const all = randomFlip(x, { probability: 1 });
    const reversed = tf.reverse(x, 2);
    expect([...all.dataSync()]).toEqual([...reversed.dataSync()]);
    const none = randomFlip(x, { probability: 0 });
    expect([...none.dataSync()]).toEqual([...x.dataSync()]);
    const a = randomFlip(x, { seed: 4 });
    const b = randomFlip(x, { seed: 4 });
    expect([...a.dataSync()]).toEqual([...b.dataSync()]);
    // Each image is either unchanged or exactly mirrored.
    const ax = a.arraySync() as number[][][][];
    const xs = x.arraySync();
    const rs = reversed.arraySync() as number[][][][];
    ax.forEach((img, i) =>
      expect(
        JSON.stringify(img) === JSON.stringify(xs[i]) || JSON.stringify(img) === JSON.stringify(rs[i]),
      ).toBe(true),
    );
    tf.dispose([all, reversed, none, a, b]);
    expect(tf.memory().numTensors).toBe(before);
    // A shared Rng gives a different draw on each call (a new batch), reproducibly.
    const rng1 = new Rng(1);
    const rng2 = new Rng(1);
    const flags = (r: Rng) => {
      const out = Array.from({ length: 5 }, () => {
        const t = randomFlip(x, { seed: r });
        const v = t.dataSync()[0];
        t.dispose();
        return v;
      });
      return out;
    };
    expect(flags(rng1)).toEqual(flags(rng2));
    expect(() => randomFlip(x, { probability: 2 })).toThrow('invalid probability');
    const flat = tf.zeros([2, 3]);
    expect(() => randomFlip(flat)).toThrow(ShapeError);
    tf.dispose([x, flat]);
  });
});

describe('randomCrop', () => {
  it('is a shifted window of the zero-padded image', () => {
    const x = ramp(20, 5, 5, 1);
    const before = tf.memory().numTensors;
    const same = randomCrop(x, { padding: 0 });
    expect([...same.dataSync()]).toEqual([...x.dataSync()]);
    const out = randomCrop(x, { padding: 2, seed: 3 });
    expect(out.shape).toEqual([20, 5, 5, 1]);
    const src = x.arraySync();
    const res = out.arraySync() as number[][][][];
    let shifted = 0;
    res.forEach((img, b) => {
      // Find the shift: each output pixel is 0 (padding) or src[b][r+dy][c+dx].
      let found = false;
      for (let dy = -2; dy <= 2 && !found; dy++) {
        for (let dx = -2; dx <= 2 && !found; dx++) {
          let ok = true;
          for (let r = 0; r < 5 && ok; r++) {
            for (let c = 0; c < 5 && ok; c++) {
              const sr = r + dy;
              const sc = c + dx;
              const expected = sr >= 0 && sr < 5 && sc >= 0 && sc < 5 ? src[b]![sr]![sc]![0]! : 0;
              ok = img[r]![c]![0] === expected;
            }
          }
          if (ok) {
            found = true;
            if (dy !== 0 || dx !== 0) shifted++;
          }
        }
      }
      expect(found).toBe(true);
    });
    expect(shifted).toBeGreaterThan(10);
    const smaller = randomCrop(x, { padding: 0, size: [3, 4], seed: 1 });
    expect(smaller.shape).toEqual([20, 3, 4, 1]);
    const reflect = randomCrop(x, { padding: 2, mode: 'reflect', seed: 1 });
    expect(reflect.dataSync().every((v) => v > 0)).toBe(true);
    tf.dispose([same, out, smaller, reflect]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => randomCrop(x, { padding: -1 })).toThrow(InvalidArgumentError);
    expect(() => randomCrop(x, { padding: 1, size: [8, 8] })).toThrow('expected at most [7, 7]');
    expect(() => randomCrop(x, { padding: 5, mode: 'reflect' })).toThrow('for reflect padding');
    x.dispose();
  });
});

describe('cutout', () => {
  it('zeroes one square per image, clipped at the border', () => {
    const x = tf.ones([50, 8, 8, 3]);
    const before = tf.memory().numTensors;
    const out = cutout(x, { size: 4, seed: 2 });
    const data = out.arraySync() as number[][][][];
    for (const img of data) {
      const zeroRows = new Set<number>();
      const zeroCols = new Set<number>();
      let zeros = 0;
      img.forEach((row, r) =>
        row.forEach((px, c) => {
          if (px[0] === 0) {
            zeros++;
            zeroRows.add(r);
            zeroCols.add(c);
            expect(px).toEqual([0, 0, 0]);
          }
        }),
      );
      expect(zeros).toBe(zeroRows.size * zeroCols.size);
      expect(zeros).toBeGreaterThan(0);
      expect(zeros).toBeLessThanOrEqual(16);
    }
    const none = cutout(x, { probability: 0 });
    expect(none.dataSync().every((v) => v === 1)).toBe(true);
    const grey = cutout(x, { size: 8, value: 0.5, seed: 1 });
    expect(grey.dataSync().some((v) => v === 0.5)).toBe(true);
    tf.dispose([out, none, grey]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => cutout(x, { size: 0 })).toThrow(InvalidArgumentError);
    x.dispose();
  });
});

describe('mixup', () => {
  it('blends pairs of examples and their labels with one λ ~ Beta(α, α)', () => {
    const x = ramp(8, 2, 2, 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3).toFloat();
    const before = tf.memory().numTensors;
    const { x: mx, y: my, lambda, permutation } = mixup(x, y, { alpha: 1, seed: 5 });
    expect(lambda).toBeGreaterThan(0);
    expect(lambda).toBeLessThan(1);
    const xs = x.arraySync();
    const mxs = mx.arraySync() as number[][][][];
    const ys = y.arraySync() as number[][];
    const mys = my.arraySync() as number[][];
    for (let i = 0; i < 8; i++) {
      const j = permutation[i]!;
      expect(mxs[i]![0]![0]![0]).toBeCloseTo(
        lambda * xs[i]![0]![0]![0]! + (1 - lambda) * xs[j]![0]![0]![0]!,
        4,
      );
      expect(mys[i]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(mys[i]![0]).toBeCloseTo(lambda * ys[i]![0]! + (1 - lambda) * ys[j]![0]!, 6);
    }
    tf.dispose([mx, my]);
    expect(tf.memory().numTensors).toBe(before);
    const ints = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32');
    expect(() => mixup(x, ints)).toThrow("load the dataset with labels: 'onehot'");
    expect(() => mixup(x, y, { alpha: 0 })).toThrow('invalid alpha');
    tf.dispose([x, y, ints]);
  });

  it('draws λ with the Beta(α, α) mean and variance', () => {
    const rng = new Rng(3);
    for (const alpha of [0.2, 1, 4]) {
      const n = 20000;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const v = sampleBeta(rng, alpha, alpha);
        s += v;
        s2 += v * v;
      }
      const variance = s2 / n - (s / n) ** 2;
      expect(s / n).toBeCloseTo(0.5, 1);
      expect(variance).toBeCloseTo(1 / (4 * (2 * alpha + 1)), 2);
    }
  });
});

describe('colorJitter', () => {
  it('is the identity at zero strength, keeps grey images grey, and clips to [0, 1]', () => {
    const rng = new Rng(8);
    const x = tf.tensor4d(
      rng.fill(4 * 3 * 3 * 3, (r) => r.uniform()),
      [4, 3, 3, 3],
    );
    const before = tf.memory().numTensors;
    const same = colorJitter(x, { brightness: 0, contrast: 0, saturation: 0 });
    expect(Math.max(...tf.tidy(() => same.sub(x).abs().max().dataSync()))).toBeLessThan(1e-6);
    const jittered = colorJitter(x, { seed: 1 });
    expect(jittered.shape).toEqual([4, 3, 3, 3]);
    expect(jittered.dataSync().every((v) => v >= 0 && v <= 1)).toBe(true);
    const again = colorJitter(x, { seed: 1 });
    expect([...again.dataSync()]).toEqual([...jittered.dataSync()]);
    // Saturation alone leaves a grey image grey (all channels equal).
    const grey = tf.tidy(() => tf.tile(x.mean(-1, true), [1, 1, 1, 3]));
    const sat = colorJitter(grey, { brightness: 0, contrast: 0, saturation: 0.9, seed: 2 });
    expect(Math.max(...tf.tidy(() => sat.sub(grey).abs().max().dataSync()))).toBeLessThan(1e-5);
    tf.dispose([same, jittered, again, grey, sat]);
    expect(tf.memory().numTensors).toBe(before);
    // Brightness alone scales each image by one factor in [0.5, 1.5] (before clipping).
    const dim = tf.tidy(() => x.mul(0.5));
    const bright = colorJitter(dim, { brightness: 0.5, contrast: 0, saturation: 0, seed: 3 });
    const src = dim.arraySync() as number[][][][];
    (bright.arraySync() as number[][][][]).forEach((img, b) => {
      const f = img[0]![0]![0]! / src[b]![0]![0]![0]!;
      expect(f).toBeGreaterThanOrEqual(0.5);
      expect(f).toBeLessThanOrEqual(1.5);
      img.forEach((row, r) =>
        row.forEach((px, q) =>
          px.forEach((v, k) => expect(v).toBeCloseTo(Math.min(1, src[b]![r]![q]![k]! * f), 5)),
        ),
      );
    });
    // Contrast alone moves every pixel towards the image's mean grey level by one factor.
    const con = colorJitter(x, { brightness: 0, contrast: 0.5, saturation: 0, clip: null, seed: 4 });
    const xs = x.arraySync() as number[][][][];
    (con.arraySync() as number[][][][]).forEach((img, b) => {
      let grey = 0;
      xs[b]!.forEach((row) =>
        row.forEach((px) => (grey += 0.299 * px[0]! + 0.587 * px[1]! + 0.114 * px[2]!)),
      );
      grey /= 9;
      const f = (img[0]![0]![0]! - grey) / (xs[b]![0]![0]![0]! - grey);
      img.forEach((row, r) =>
        row.forEach((px, q) =>
          px.forEach((v, k) => expect(v).toBeCloseTo(f * xs[b]![r]![q]![k]! + (1 - f) * grey, 4)),
        ),
      );
    });
    tf.dispose([dim, bright, con]);
    const mono = tf.zeros([1, 2, 2, 1]);
    expect(() => colorJitter(mono)).toThrow('expected [N, H, W, 3] (RGB)');
    expect(() => colorJitter(x, { brightness: -0.1 })).toThrow('invalid brightness');
    tf.dispose([x, mono]);
  });
});
