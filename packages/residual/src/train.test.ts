import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '@gradflow/core';
import { withBackend } from '@gradflow/testing';
import { DropBlock2D, DropConnectDense, residualStage, stem } from './index.js';

describe('a small residual network trains with model.fit', () => {
  // wasm: conv backprop from @gradflow/backend-wasm is ~100x faster than tfjs-backend-cpu's
  it('loss falls on a separable toy task with drop-path, DropBlock and DropConnect active in training', () =>
    withBackend('wasm', async () => {
      const before = tf.memory().numTensors;
      const rng = new Rng(7);
      const n = 32;
      // class 1 images are brighter in the top half, class 0 in the bottom half
      const labels = Array.from({ length: n }, (_, i) => i % 2);
      const pixels = new Float32Array(n * 8 * 8 * 2);
      labels.forEach((label, i) => {
        for (let p = 0; p < 64 * 2; p++) {
          const row = Math.floor(p / 16);
          const bright = row < 4 === (label === 1);
          pixels[i * 128 + p] = rng.normal(bright ? 0.8 : -0.8, 0.5);
        }
      });
      const x = tf.tensor4d(pixels, [n, 8, 8, 2]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 2));

      const input = tf.input({ shape: [8, 8, 2] });
      let h = stem(input, { filters: 8, kernelSize: 3, stride: 1, pool: false });
      h = residualStage(h, {
        block: 'basic',
        blocks: 2,
        filters: 8,
        dropPath: [0, 0.1],
        init: 'zero_gamma',
        name: 'stage1',
      });
      h = new DropBlock2D({ blockSize: 2, keepProb: 0.9, name: 'dropblock' }).apply(h) as tf.SymbolicTensor;
      h = residualStage(h, {
        block: 'basic',
        blocks: 1,
        filters: 16,
        stride: 2,
        shortcut: 'option_a',
        name: 'stage2',
      });
      h = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(h) as tf.SymbolicTensor;
      h = new DropConnectDense({ units: 2, rate: 0.2, name: 'head' }).apply(h) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: tf.layers.softmax().apply(h) as tf.SymbolicTensor });
      const optimizer = tf.train.adam(0.01);
      model.compile({ optimizer, loss: 'categoricalCrossentropy' });

      const history = await model.fit(x, y, { epochs: 12, batchSize: 8, shuffle: false, verbose: 0 });
      const losses = history.history['loss'] as number[];
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);

      model.dispose();
      optimizer.dispose();
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    }));
});
