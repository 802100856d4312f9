import * as tf from '@tensorflow/tfjs';
import { StateError, InvalidArgumentError } from '@gradflow/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeCallback, probeMonitor, RingBuffer } from '../src/index.js';
import type { ProbeRecord } from '../src/index.js';
import { classificationBatch, mlp } from './models.js';

describe('RingBuffer', () => {
  it('keeps the last `capacity` items, oldest first', () => {
    const r = new RingBuffer<number>(3);
    for (let i = 0; i < 7; i++) r.push(i);
    expect(r.toArray()).toEqual([4, 5, 6]);
    expect(r.size).toBe(3);
    expect(r.last()).toBe(6);
    expect(() => new RingBuffer(0)).toThrow(InvalidArgumentError);
  });
});

describe('probing during training', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('probeCallback in model.fit: every N batches, bounded history, measured update/weight', async () => {
    const model = mlp({
      depth: 3,
      width: 16,
      activation: 'relu',
      std: 0.25,
      inputDim: 8,
      classes: 3,
      name: 'fitnet',
    });
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
    const data = classificationBatch(64, 8, 3, 21);
    const probeBatch = classificationBatch(16, 8, 3, 22);
    const seen: ProbeRecord[] = [];
    const cb = probeCallback({
      batch: probeBatch,
      every: 2,
      capacity: 3,
      onReport: (_r, rec) => void seen.push(rec),
    });
    const before = tf.memory().numTensors;
    await model.fit(data.x, data.y, { epochs: 2, batchSize: 8, callbacks: [cb], verbose: 0, shuffle: false });
    // 8 batches per epoch, 16 steps, probed at steps 0, 2, ..., 14.
    expect(seen.map((r) => r.step)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(seen[7]!.epoch).toBe(1);
    const kept = cb.monitor.records();
    expect(kept.map((r) => r.step)).toEqual([10, 12, 14]);
    // The update/weight ratio measured over the probed step equals lr * |g| / |w| for SGD on the training batch:
    // it is positive and of the order of the learning rate times the gradient ratio.
    for (const rec of seen) {
      const dense = rec.layers.find((l) => l.name === 'fitnet_dense_1')!;
      expect(dense.updateToWeight).not.toBeNull();
      expect(dense.updateToWeight!).toBeGreaterThan(0);
      expect(dense.updateToWeight!).toBeLessThan(1);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([data.x, data.y, probeBatch.x, probeBatch.y]);
  });

  it('probeMonitor in a custom loop: records, no leak, typed error after dispose', async () => {
    const model = mlp({
      depth: 2,
      width: 8,
      activation: 'tanh',
      std: 0.3,
      inputDim: 4,
      classes: 2,
      name: 'loop',
    });
    const batch = classificationBatch(8, 4, 2, 5);
    const lr = 0.1;
    const opt = tf.train.sgd(lr);
    const monitor = probeMonitor(model, batch, {
      every: 1,
      loss: 'categorical_crossentropy',
      learningRate: lr,
    });
    const step = () =>
      tf.tidy(() => {
        opt.minimize(
          () =>
            tf.mean(
              tf.metrics.categoricalCrossentropy(batch.y, model.apply(batch.x) as tf.Tensor),
            ) as tf.Scalar,
        );
      });
    step(); // the optimizer creates its state on the first step
    const before = tf.memory().numTensors;
    // Probe before the step (the gradient SGD is about to apply), then step, then read the measured update.
    monitor.beforeStep();
    step();
    const rec = (await monitor.afterStep())!;
    expect(rec.step).toBe(0);
    expect(rec.layers.every((l) => l.updateToWeight === null || l.updateToWeight > 0)).toBe(true);
    expect(await monitor.afterStep()).not.toBeNull();
    expect(monitor.records()).toHaveLength(2);
    monitor.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => monitor.beforeStep()).toThrow(StateError);
    opt.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('the measured update/weight of one SGD step matches lr * |g| / |w| from probe()', async () => {
    const model = mlp({
      depth: 2,
      width: 8,
      activation: 'tanh',
      std: 0.3,
      inputDim: 4,
      classes: 2,
      name: 'exact',
    });
    const batch = classificationBatch(8, 4, 2, 6);
    const lr = 0.01;
    const opt = tf.train.sgd(lr);
    const seen: { predicted: Map<string, number>; measured: Map<string, number> } = {
      predicted: new Map(),
      measured: new Map(),
    };
    const monitor = probeMonitor(model, batch, {
      every: 1,
      loss: 'categorical_crossentropy',
      learningRate: lr,
      onReport: (r) =>
        r.layers.forEach((l) => l.updateToWeight !== null && seen.predicted.set(l.name, l.updateToWeight)),
    });
    // The step's gradient is the probe's gradient on the same batch: compute the prediction first.
    const { probe } = await import('../src/index.js');
    const pre = await probe(model, batch, { loss: 'categorical_crossentropy', learningRate: lr });
    monitor.beforeStep();
    tf.tidy(() => {
      opt.minimize(
        () =>
          tf.mean(
            tf.metrics.categoricalCrossentropy(batch.y, model.apply(batch.x) as tf.Tensor),
          ) as tf.Scalar,
      );
    });
    const rec = (await monitor.afterStep())!;
    for (const l of rec.layers) if (l.updateToWeight !== null) seen.measured.set(l.name, l.updateToWeight);
    for (const l of pre.layers) {
      if (l.updateToWeight === null) continue;
      expect(seen.measured.get(l.name)!).toBeCloseTo(l.updateToWeight, 5);
    }
    monitor.dispose();
    opt.dispose();
    tf.dispose([batch.x, batch.y]);
  });
});
