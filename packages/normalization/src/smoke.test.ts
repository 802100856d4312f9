import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runLayerContract } from '@gradflow/testing';
import { listNorms, normLayer } from './index.js';

describe('smoke', () => {
  for (const name of listNorms()) {
    it(name, async () => {
      await runLayerContract({
        name,
        inputShape: [4, 4, 8],
        outputShape: [4, 4, 8],
        // frozen_batch_norm has no trainable weight; @gradflow/testing's contract leaks one tensor
        // for such layers, so a dense layer in front gives it one.
        build: (x) => {
          const input =
            name === 'frozen_batch_norm' ? (tf.layers.dense({ units: 8 }).apply(x) as tf.SymbolicTensor) : x;
          return normLayer(
            name === 'group_norm'
              ? { name, groups: 4 }
              : name === 'instance_norm'
                ? { name, affine: true }
                : name,
          )!.apply(input) as tf.SymbolicTensor;
        },
      });
      expect(true).toBe(true);
    });
  }
});
