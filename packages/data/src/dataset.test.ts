import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Rng, ShapeError, StateError } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { batches, makeDataset, numBatches } from './dataset.js';

function indexed(n: number) {
  return makeDataset(
    tf.tensor2d(
      Float32Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2)),
      [n, 2],
    ),
    tf.tensor1d(
      Int32Array.from({ length: n }, (_, i) => i),
      'int32',
    ),
  );
}

describe('batches', () => {
  it('covers every example once per epoch, in order or shuffled (seeded)', () => {
    const d = indexed(10);
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const { x, y } of batches(d, { batchSize: 4 })) {
      sizes.push(x.shape[0]!);
      seen.push(...y.dataSync());
      expect([...x.dataSync()].filter((_, i) => i % 2 === 0)).toEqual([...y.dataSync()]);
      tf.dispose([x, y]);
    }
    expect(sizes).toEqual([4, 4, 2]);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(numBatches(10, 4)).toBe(3);
    expect(numBatches(10, 4, true)).toBe(2);
    const order = (seed: number | Rng) => {
      const out: number[] = [];
      for (const b of batches(d, { batchSize: 3, shuffle: true, seed })) {
        out.push(...b.y.dataSync());
        tf.dispose([b.x, b.y]);
      }
      return out;
    };
    const a = order(7);
    expect(order(7)).toEqual(a);
    expect([...a].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // One Rng across epochs: a new order each epoch, the same sequence of orders each run.
    const r1 = new Rng(3);
    const r2 = new Rng(3);
    const e1 = order(r1);
    expect(order(r1)).not.toEqual(e1);
    expect(order(r2)).toEqual(e1);
    const dropped = [...batches(d, { batchSize: 4, dropRemainder: true })];
    expect(dropped.map((b) => b.x.shape[0])).toEqual([4, 4]);
    tf.dispose(dropped.flatMap((b) => [b.x, b.y]));
    expect(tf.memory().numTensors).toBe(before);
    d.dispose();
  });

  it('leaks nothing when the loop stops early, and rejects bad input', () => {
    const d = indexed(100);
    const before = tf.memory().numTensors;
    for (const b of batches(d, { batchSize: 8, shuffle: true })) {
      tf.dispose([b.x, b.y]);
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => batches(d, { batchSize: 0 }).next()).toThrow(InvalidArgumentError);
    const [x3, y4] = [tf.zeros([3, 2]), tf.zeros([4])];
    expect(() => makeDataset(x3, y4)).toThrow(ShapeError);
    tf.dispose([x3, y4]);
    d.dispose();
    expect(() => batches(d, { batchSize: 2 }).next()).toThrow(StateError);
  });
});
