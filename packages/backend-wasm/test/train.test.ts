import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { Rng } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { on, randomData } from './helpers.js';
import { tinyConvNet } from './models.js';
import { TASKS, trainTask, type TrainTask } from './tasks.js';

/** cpu-backend losses of each task, from scripts/gen_fixtures.ts (the cpu backend needs ~45 s per ResNet-20 step). */
const cpuLosses = JSON.parse(
  readFileSync(new URL('../fixtures/train-losses.json', import.meta.url), 'utf8'),
) as Record<string, number[]>;

/**
 * Step 0 is a pure forward pass from identical weights (tight tolerance); later steps drift by
 * float32 rounding amplified through SGD (the 2-sample tasks drive the loss to ~0.01, where a
 * 1e-4 logit difference is a 1e-3 relative loss difference), hence `tol` for those.
 */
function expectSameLosses(wasm: number[], cpu: number[], tol: number): void {
  expect(wasm).toHaveLength(cpu.length);
  for (let s = 0; s < cpu.length; s++) {
    const rel =
      Math.abs((wasm[s] as number) - (cpu[s] as number)) / Math.max(Math.abs(cpu[s] as number), 1e-6);
    expect(rel, `step ${s}: wasm ${wasm[s]} vs cpu ${cpu[s]}`).toBeLessThanOrEqual(
      s === 0 ? Math.min(tol, 1e-5) : tol,
    );
  }
  expect(cpu[cpu.length - 1] as number).toBeLessThan(cpu[0] as number);
}

function oneHot(rng: Rng, n: number, classes: number): Float32Array {
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) out[i * classes + rng.int(classes)] = 1;
  return out;
}

describe('end-to-end training on wasm matches the cpu backend', () => {
  it.each(TASKS.map((t) => [t.name, t] as [string, TrainTask]))(
    '%s, 20 SGD steps from seeded weights',
    async (name, task) => {
      const losses = await on('wasm', async () => {
        const before = tf.memory().numTensors;
        const result = await trainTask(task);
        expect(tf.memory().numTensors).toBe(before);
        return result;
      });
      const reference = cpuLosses[name];
      expect(reference, `fixture for ${name}`).toBeDefined();
      expectSameLosses(losses, reference as number[], 5e-3);
    },
  );

  it('a tiny conv net (strided conv, BN, depthwise, dense) trained live on both backends', async () => {
    const rng = new Rng(4);
    const task: TrainTask = {
      name: 'tiny',
      build: tinyConvNet,
      x: { data: randomData(rng, 4 * 9 * 9 * 2), shape: [4, 9, 9, 2] },
      y: { data: oneHot(rng, 4, 3), shape: [4, 3] },
      loss: 'categoricalCrossentropy',
      learningRate: 0.1,
      steps: 20,
    };
    const cpu = await on('cpu', () => trainTask(task));
    const wasm = await on('wasm', () => trainTask(task));
    expectSameLosses(wasm, cpu, 1e-4);
  });
});

describe('no leaks over 200 training steps', () => {
  it('tensor count and wasm heap size are stable', async () => {
    const rng = new Rng(3);
    await on('wasm', async () => {
      const model = tinyConvNet();
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      const x = tf.tensor(randomData(rng, 8 * 9 * 9 * 2), [8, 9, 9, 2]);
      const y = tf.tensor(oneHot(rng, 8, 3), [8, 3]);
      const heap = (): number =>
        (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
      for (let s = 0; s < 10; s++) await model.trainOnBatch(x, y);
      const tensors = tf.memory().numTensors;
      const bytes = heap();
      let last = 0;
      for (let s = 0; s < 200; s++) last = (await model.trainOnBatch(x, y)) as number;
      expect(tf.memory().numTensors).toBe(tensors);
      expect(heap()).toBe(bytes);
      expect(Number.isFinite(last)).toBe(true);
      tf.dispose([x, y]);
      model.optimizer.dispose();
      model.dispose();
    });
  });
});
