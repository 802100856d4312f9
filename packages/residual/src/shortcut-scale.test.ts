import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { runLayerContract } from '@gradflow/testing';
import { describe, expect, it } from 'vitest';
import { basicBlock } from './blocks.js';

describe('shortcutScale (He et al. 2016, constant scaling)', () => {
  it('passes the layer contract and multiplies the shortcut only', async () => {
    await runLayerContract({
      name: 'basicBlock shortcutScale 0.5',
      inputShape: [6, 6, 4],
      outputShape: [6, 6, 4],
      build: (x) => basicBlock(x, { filters: 4, shortcutScale: 0.5, name: 'b' }),
    });
    // With the branch switched off (ReZero's alpha = 0), the block is exactly 0.5 x.
    const input = tf.input({ shape: [2, 2, 3] });
    const model = tf.model({
      inputs: input,
      outputs: basicBlock(input, { filters: 3, init: 'rezero', shortcutScale: 0.5, name: 'r' }),
    });
    const x = tf.randomNormal([1, 2, 2, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(Array.from(y.dataSync())).toEqual(Array.from(x.mul(0.5).dataSync()));
    expect(model.getLayer('r_shortcut_scale').getClassName()).toBe('Rescaling');
    tf.dispose([x, y]);
    model.dispose();
  });

  it('rejects non-positive scales and scaling a plain block, before creating layers', () => {
    const x = tf.input({ shape: [4, 4, 2] });
    expect(() => basicBlock(x, { filters: 2, shortcutScale: 0 })).toThrow(InvalidArgumentError);
    expect(() => basicBlock(x, { filters: 2, shortcutScale: Number.NaN })).toThrow('invalid shortcutScale');
    expect(() => basicBlock(x, { filters: 2, plain: true, shortcutScale: 0.5 })).toThrow(
      'a plain block has no shortcut to scale',
    );
  });
});
