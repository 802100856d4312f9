import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { expectAllClose, withBackend } from '@gradflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../src/index.js';
import { activationHost, channelMomentsHost, dataOf, sumSqHost, sumSqOfSumHost } from '../src/host-stats.js';
import { classificationBatch, mlp } from './models.js';

/* The host reductions against plain reference loops, on cpu and on wasm (where they read the
 * wasm heap in place), on awkward sizes: not a multiple of the 4-way unrolling, rank 1, a
 * channel that fires only in the last row, a channel that never fires, non-finite values. */

function reference(values: number[], channels: number) {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  const alive = new Array<boolean>(channels).fill(false);
  values.forEach((v, i) => {
    if (v !== 0) alive[i % channels] = true;
  });
  const per = n / channels;
  let sqMean = 0;
  let chanVar = 0;
  for (let c = 0; c < channels; c++) {
    const col = values.filter((_, i) => i % channels === c);
    const m = col.reduce((s, v) => s + v, 0) / per;
    sqMean += m * m;
    chanVar += Math.max(0, col.reduce((s, v) => s + v * v, 0) / per - m * m);
  }
  return {
    sumSq: values.reduce((s, v) => s + v * v, 0),
    mean,
    variance,
    dead: alive.filter((a) => !a).length / channels,
    saturated: values.filter((v) => Math.abs(v) > 0.9).length / n,
    avgSquaredMean: sqMean / channels,
    avgVariance: chanVar / channels,
  };
}

function cases(): { name: string; values: number[]; shape: number[] }[] {
  // 7 rows x 5 channels = 35 elements; channel 1 fires only in the last row, channel 3 never.
  const rows = 7;
  const C = 5;
  const grid: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      if (c === 3) grid.push(0);
      else if (c === 1) grid.push(r === rows - 1 ? 0.25 : 0);
      else grid.push(Math.sin(1 + r * C + c) * (c + 1) + 0.3);
    }
  }
  const offset = Array.from({ length: 4 * 3 * 3 }, (_, i) => 1000 + Math.cos(i) * 1e-2);
  return [
    { name: 'rows x channels, odd size', values: grid, shape: [rows, C] },
    { name: 'rank 1', values: [0.5, -2, 0, 3, 0.95, -0.99, 7], shape: [7] },
    { name: 'rank 3, large mean, small spread', values: offset, shape: [4, 3, 3] },
    { name: 'one element', values: [0.95], shape: [1, 1] },
  ];
}

describe.each(['cpu', 'wasm'] as const)('host reductions on %s', (backend) => {
  it('equal plain reference loops', async () => {
    await withBackend(backend, async () => {
      for (const { name, values, shape } of cases()) {
        const t = tf.tensor(values, shape, 'float32');
        const f32 = Array.from(new Float32Array(values));
        const C = shape.length >= 2 ? shape[shape.length - 1]! : 1;
        const ref = reference(f32, C);
        expect(Array.from(dataOf(t)), name).toEqual(f32);
        expectAllClose(sumSqHost(t), ref.sumSq, { rtol: 1e-12 }, `${name} sumSq`);
        const a = activationHost(t, (y) => Math.abs(y) > 0.9, true);
        expectAllClose(a.mean, ref.mean, { rtol: 1e-12, atol: 1e-15 }, `${name} mean`);
        expectAllClose(a.variance, ref.variance, { rtol: 1e-9, atol: 1e-15 }, `${name} variance`);
        expect(a.dead, `${name} dead`).toBe(ref.dead);
        expect(a.saturated, `${name} saturated`).toBe(ref.saturated);
        const plain = activationHost(t, null, false);
        expect(plain.saturated).toBeNull();
        expect(plain.dead).toBeNull();
        const m = channelMomentsHost(t);
        expectAllClose(m.avgSquaredMean, ref.avgSquaredMean, { rtol: 1e-12 }, `${name} sq mean`);
        expectAllClose(m.avgVariance, ref.avgVariance, { rtol: 1e-6, atol: 1e-12 }, `${name} variance`);
        const twice = tf.mul(t, 2);
        expectAllClose(sumSqOfSumHost([t, t]), sumSqHost(twice), { rtol: 1e-12 }, `${name} sum of two`);
        tf.dispose([t, twice]);
      }
      const bad = tf.tensor([1, 2, NaN, 4, 5], [5]);
      expect(sumSqHost(bad)).toBeNaN();
      expect(activationHost(bad, null, true).mean).toBeNaN();
      const inf = tf.tensor([1, Infinity, 3], [3]);
      expect(sumSqHost(inf)).toBe(Infinity);
      tf.dispose([bad, inf]);
    });
  });

  it('reads non-float32 tensors through dataSync', async () => {
    await withBackend(backend, async () => {
      const t = tf.tensor([1, 2, 3], [3], 'int32');
      expect(Array.from(dataOf(t))).toEqual([1, 2, 3]);
      t.dispose();
    });
  });
});

describe('wasm: the host path reads the heap in place', () => {
  it('views of two tensors share one buffer (the wasm heap), and the values are right', async () => {
    await withBackend('wasm', async () => {
      const a = tf.tensor([1, 2, 3], [3]);
      const b = tf.tensor([4, 5], [2]);
      const va = dataOf(a);
      const vb = dataOf(b);
      expect(va.buffer).toBe(vb.buffer);
      expect(Array.from(va)).toEqual([1, 2, 3]);
      expect(Array.from(vb)).toEqual([4, 5]);
      tf.dispose([a, b]);
    });
  });

  it('host and device reductions agree on wasm', async () => {
    await tf.setBackend('cpu');
    const model = mlp({
      depth: 4,
      width: 12,
      activation: 'tanh',
      std: 0.8,
      inputDim: 6,
      classes: 3,
      name: 'w',
    });
    await withBackend('wasm', async () => {
      const { x, y } = classificationBatch(9, 6, 3);
      const n = tf.memory().numTensors;
      const host = await probe(model, { x, y }, { loss: 'categorical_crossentropy', reduce: 'host' });
      const device = await probe(model, { x, y }, { loss: 'categorical_crossentropy', reduce: 'device' });
      expect(tf.memory().numTensors).toBe(n);
      expectAllClose(host.loss, device.loss, { rtol: 1e-6 }, 'loss');
      host.layers.forEach((l, k) => {
        const d = device.layers[k]!;
        expectAllClose(
          [l.gradNorm!, l.weightNorm!, l.outputGradNorm!, l.activation!.mean, l.activation!.std],
          [d.gradNorm!, d.weightNorm!, d.outputGradNorm!, d.activation!.mean, d.activation!.std],
          { rtol: 1e-4, atol: 1e-6 },
          l.name,
        );
        const [hs, ds] = [l.activation!.saturatedFraction, d.activation!.saturatedFraction];
        expect(hs === null, `${l.name} saturated`).toBe(ds === null);
        if (hs !== null && ds !== null)
          expectAllClose(hs, ds, { rtol: 1e-4, atol: 1e-6 }, `${l.name} saturated`);
      });
      tf.dispose([x, y]);
    });
  });
});

describe('batch value checks: host and device agree', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  it.each(['host', 'device'] as const)('%s: bad values rejected, good ones accepted', async (reduce) => {
    const model = mlp({
      depth: 2,
      width: 6,
      activation: 'relu',
      std: 0.3,
      inputDim: 5,
      classes: 3,
      name: 'v',
    });
    const x = tf.randomNormal([4, 5], 0, 1, 'float32', 1);
    const nan = tf.tensor2d([[1, 2, 3, 4, NaN]]).tile([4, 1]);
    const onehot = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3).cast('float32');
    const neg = tf.fill([4, 3], -1);
    const big = tf.tensor1d([0, 1, 7, 1]);
    const frac = tf.tensor1d([0, 1, 0.5, 1]);
    const ints = tf.tensor1d([0, 1, 2, 1], 'int32');
    const n = tf.memory().numTensors;
    const rejects = (xb: tf.Tensor, yb: tf.Tensor, loss: string) =>
      expect(probe(model, { x: xb, y: yb }, { loss, reduce })).rejects.toBeInstanceOf(InvalidArgumentError);
    await rejects(nan, onehot, 'categorical_crossentropy');
    await rejects(x, neg, 'binary_crossentropy');
    await rejects(x, big, 'sparse_categorical_crossentropy');
    await rejects(x, frac, 'sparse_categorical_crossentropy');
    const a = await probe(model, { x, y: onehot }, { loss: 'categorical_crossentropy', reduce });
    const b = await probe(model, { x, y: ints }, { loss: 'sparse_categorical_crossentropy', reduce });
    expect(a.loss).toBeCloseTo(b.loss, 5);
    expect(tf.memory().numTensors).toBe(n);
    tf.dispose([x, nan, onehot, neg, big, frac, ints]);
    model.dispose();
  });
});
