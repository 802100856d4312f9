import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Rng } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { addingProblem, blobs, copyTask, spirals } from './synthetic.js';

describe('addingProblem', () => {
  it('has two markers, one per half, and targets the sum of the marked values', () => {
    const before = tf.memory().numTensors;
    const T = 50;
    const d = addingProblem(T, 200, 7);
    expect(d.x.shape).toEqual([200, T, 2]);
    expect(d.y.shape).toEqual([200, 1]);
    const x = d.x.arraySync() as number[][][];
    const y = d.y.dataSync();
    x.forEach((seq, i) => {
      const marked = seq.map((step, t) => (step[1] === 1 ? t : -1)).filter((t) => t >= 0);
      expect(marked).toHaveLength(2);
      expect(marked[0]!).toBeLessThan(T / 2);
      expect(marked[1]!).toBeGreaterThanOrEqual(T / 2);
      expect(seq.every((step) => step[1] === 0 || step[1] === 1)).toBe(true);
      expect(seq.every((step) => step[0]! >= 0 && step[0]! < 1)).toBe(true);
      expect(y[i]).toBeCloseTo(seq[marked[0]!]![0]! + seq[marked[1]!]![0]!, 5);
    });
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has baseline MSE ≈ 0.167 for always predicting 1', () => {
    const d = addingProblem(20, 20000, { seed: 11 });
    const mse = tf.tidy(() => d.y.sub(1).square().mean().dataSync()[0]!);
    expect(d.baselineMse).toBeCloseTo(1 / 6, 10);
    expect(Math.abs(mse - 0.1667)).toBeLessThan(0.006);
    d.dispose();
  });

  it('is seeded and rejects bad parameters', () => {
    const a = addingProblem(10, 5, 1);
    const b = addingProblem(10, 5, new Rng(1));
    const c = addingProblem(10, 5, 2);
    expect([...a.x.dataSync()]).toEqual([...b.x.dataSync()]);
    expect([...a.x.dataSync()]).not.toEqual([...c.x.dataSync()]);
    tf.dispose([a.x, a.y, b.x, b.y, c.x, c.y]);
    expect(() => addingProblem(1, 10)).toThrow('invalid T: got 1, expected an integer >= 2');
    expect(() => addingProblem(10, 0)).toThrow(InvalidArgumentError);
    expect(() => addingProblem(10.5, 10)).toThrow(InvalidArgumentError);
  });
});

describe('copyTask', () => {
  it('lays out symbols, blanks and the delimiter as Arjovsky et al. 2016', () => {
    const before = tf.memory().numTensors;
    const T = 15;
    const d = copyTask(T, 8, { seed: 3, labels: 'int' });
    expect(d.length).toBe(T + 20);
    expect(d.vocabSize).toBe(10);
    expect(d.x.shape).toEqual([8, T + 20, 10]);
    expect(d.y.shape).toEqual([8, T + 20]);
    const inputs = tf.tidy(() => d.x.argMax(-1).arraySync() as number[][]);
    const targets = d.y.arraySync() as number[][];
    for (let i = 0; i < 8; i++) {
      const data = inputs[i]!.slice(0, 10);
      expect(data.every((s) => s >= 1 && s <= 8)).toBe(true);
      expect(inputs[i]!.slice(10, 10 + T - 1).every((s) => s === 0)).toBe(true);
      expect(inputs[i]![10 + T - 1]).toBe(9);
      expect(inputs[i]!.slice(10 + T).every((s) => s === 0)).toBe(true);
      expect(targets[i]!.slice(0, T + 10).every((s) => s === 0)).toBe(true);
      expect(targets[i]!.slice(T + 10)).toEqual(data);
    }
    expect(d.baselineLoss).toBeCloseTo((10 * Math.log(8)) / (T + 20), 10);
    d.dispose();
    const oneHot = copyTask(5, 2, 1);
    expect(oneHot.y.shape).toEqual([2, 25, 10]);
    expect(tf.tidy(() => oneHot.y.sum(-1).min().dataSync()[0])).toBe(1);
    oneHot.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => copyTask(0, 10)).toThrow(InvalidArgumentError);
    expect(() => copyTask(10, 10, { numSymbols: 1 })).toThrow('invalid numSymbols');
  });
});

describe('spirals and blobs', () => {
  it('makes balanced, seeded point clouds', () => {
    const before = tf.memory().numTensors;
    const s = spirals({ n: 300, classes: 3, seed: 5, labels: 'int' });
    expect(s.x.shape).toEqual([300, 2]);
    const counts = [0, 0, 0];
    for (const l of s.y.dataSync()) counts[l]! += 1;
    expect(counts).toEqual([100, 100, 100]);
    const radius = tf.tidy(() => s.x.square().sum(1).sqrt().max().dataSync()[0]!);
    expect(radius).toBeLessThan(1.3);
    s.dispose();
    const b = blobs({
      n: 3000,
      centers: [
        [0, 0],
        [10, 10],
      ],
      std: 0.5,
      seed: 2,
    });
    expect(b.y.shape).toEqual([3000, 2]);
    const x = b.x.arraySync() as number[][];
    const y = b.y.arraySync() as number[][];
    let mean0 = 0;
    let n0 = 0;
    x.forEach((p, i) => {
      if (y[i]![0] === 1) {
        mean0 += p[0]!;
        n0++;
      }
    });
    expect(n0).toBe(1500);
    expect(mean0 / n0).toBeCloseTo(0, 1);
    b.dispose();
    const r = blobs({ centers: 4, dim: 5, seed: 1 });
    expect(r.centers).toHaveLength(4);
    expect(r.x.shape).toEqual([600, 5]);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => spirals({ classes: 1 })).toThrow(InvalidArgumentError);
    expect(() => spirals({ noise: -1 })).toThrow('invalid noise');
    expect(() => blobs({ centers: [[0], [1, 2]] })).toThrow('invalid centers');
    expect(() => blobs({ centers: [] })).toThrow(InvalidArgumentError);
    expect(tf.memory().numTensors).toBe(before);
  });
});
