import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '@gradflow/core';
import { withBackend } from '@gradflow/testing';
import { unet } from './index.js';

describe('a small U-Net trains with model.fit', () => {
  // wasm: conv and transposed-conv backprop from @gradflow/backend-wasm are far faster than cpu's
  it('loss falls on a toy segmentation task (bilinear, attention, batch norm)', () =>
    withBackend('wasm', async () => {
      const before = tf.memory().numTensors;
      const rng = new Rng(3);
      const n = 16;
      // target: pixels inside a random axis-aligned box, drawn brighter than the background
      const images = new Float32Array(n * 16 * 16);
      const masks = new Float32Array(n * 16 * 16);
      for (let i = 0; i < n; i++) {
        const [r0, c0] = [rng.int(8), rng.int(8)];
        const [r1, c1] = [r0 + 4 + rng.int(4), c0 + 4 + rng.int(4)];
        for (let r = 0; r < 16; r++) {
          for (let c = 0; c < 16; c++) {
            const inside = r >= r0 && r < r1 && c >= c0 && c < c1 ? 1 : 0;
            masks[i * 256 + r * 16 + c] = inside;
            images[i * 256 + r * 16 + c] = rng.normal(inside ? 1 : -1, 0.7);
          }
        }
      }
      const x = tf.tensor4d(images, [n, 16, 16, 1]);
      const y = tf.tensor4d(masks, [n, 16, 16, 1]);
      const model = unet([16, 16, 1], {
        depth: 2,
        baseFilters: 4,
        upsample: 'bilinear',
        attention: true,
        norm: 'batch_norm',
        outputActivation: 'sigmoid',
      });
      const optimizer = tf.train.adam(0.01);
      model.compile({ optimizer, loss: 'binaryCrossentropy' });
      const history = await model.fit(x, y, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
      const losses = history.history['loss'] as number[];
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!);
      model.dispose();
      optimizer.dispose();
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    }));
});
