import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnknownNameError } from '@gradflow/core';
import { runLayerContract } from '@gradflow/testing';
import {
  listResidualBlocks,
  listResidualInits,
  residualStage,
  squeezeExcitation,
  stem,
  RESIDUAL_INITS,
} from './index.js';

const names = (m: tf.LayersModel) => m.layers.map((l) => l.name);

describe('residualStage', () => {
  it('passes the layer contract (cpu and wasm) for basic and preact bottleneck stages', async () => {
    await runLayerContract({
      name: 'basic stage option_a',
      inputShape: [8, 8, 4],
      outputShape: [4, 4, 8],
      build: (x) =>
        residualStage(x, {
          block: 'basic',
          blocks: 2,
          filters: 8,
          stride: 2,
          shortcut: 'option_a',
          name: 'stage2',
        }),
    });
    await runLayerContract({
      name: 'preact bottleneck stage',
      inputShape: [8, 8, 4],
      outputShape: [4, 4, 8],
      build: (x) =>
        residualStage(x, { block: 'preact_bottleneck', blocks: 2, filters: 2, stride: 2, name: 'stage3' }),
    });
  });

  it('names blocks <stage>_block<i>, strides only the first, and gives each block its drop-path rate', () => {
    const x = tf.input({ shape: [8, 8, 4] });
    const y = residualStage(x, {
      block: 'basic',
      blocks: 3,
      filters: 8,
      stride: 2,
      dropPath: [0, 0.1, 0.2],
      name: 'stage2',
    });
    const m = tf.model({ inputs: x, outputs: y });
    expect(y.shape).toEqual([null, 4, 4, 8]);
    expect(names(m)).toContain('stage2_block1_shortcut_conv');
    expect(names(m)).toContain('stage2_block3_conv2');
    expect(names(m).filter((n) => n.endsWith('shortcut_conv'))).toEqual(['stage2_block1_shortcut_conv']);
    expect(names(m).filter((n) => n.endsWith('drop_path'))).toEqual([
      'stage2_block2_drop_path',
      'stage2_block3_drop_path',
    ]);
    expect(m.getLayer('stage2_block3_drop_path').getConfig()['rate']).toBe(0.2);
    m.dispose();
  });

  it('CIFAR ResNet-20 body (3 stages x 3 basic blocks, option A) has 268,608 conv+BN parameters (269,722 with stem and head)', () => {
    // He et al. 2015 table 6: ResNet-20 has 0.27M parameters; with the 16-channel stem conv and
    // the 64*10+10 head: 432 + 16*2 (stem) + body + 650 = 269,722 (torch count of the CIFAR ResNet-20).
    const x = tf.input({ shape: [8, 8, 16] });
    let h = residualStage(x, {
      block: 'basic',
      blocks: 3,
      filters: 16,
      shortcut: 'option_a',
      name: 'stage1',
    });
    h = residualStage(h, {
      block: 'basic',
      blocks: 3,
      filters: 32,
      stride: 2,
      shortcut: 'option_a',
      name: 'stage2',
    });
    h = residualStage(h, {
      block: 'basic',
      blocks: 3,
      filters: 64,
      stride: 2,
      shortcut: 'option_a',
      name: 'stage3',
    });
    const m = tf.model({ inputs: x, outputs: h });
    const block = (cin: number, c: number) => 9 * cin * c + 9 * c * c + 4 * c;
    const body = 3 * block(16, 16) + block(16, 32) + 2 * block(32, 32) + block(32, 64) + 2 * block(64, 64);
    const trainable = m.trainableWeights.reduce(
      (n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
      0,
    );
    expect(trainable).toBe(body);
    expect(432 + 32 + body + 650).toBe(269722);
    m.dispose();
  });

  it('validates every block before creating any layer', () => {
    const x = tf.input({ shape: [8, 8, 4] });
    expect(() =>
      residualStage(x, { block: 'basic', blocks: 3, filters: 8, dropPath: [0, 0.1, 1.2] }),
    ).toThrow(InvalidArgumentError);
    expect(() => residualStage(x, { block: 'basic', blocks: 3, filters: 8, dropPath: [0, 0.1] })).toThrow(
      /array of 3 rates/,
    );
    expect(() => residualStage(x, { block: 'preact_basci' as never, blocks: 1, filters: 8 })).toThrow(
      UnknownNameError,
    );
    expect(() => residualStage(x, { block: 'preact_basci' as never, blocks: 1, filters: 8 })).toThrow(
      /did you mean 'preact_basic'/,
    );
    expect(() => residualStage(x, { block: 'basic', blocks: 0, filters: 8 })).toThrow(InvalidArgumentError);
    expect(() =>
      residualStage(x, { block: 'preact_basic', blocks: 2, filters: 8, init: 'zero_gamma' }),
    ).toThrow(/pre-activation/);
    expect(x.sourceLayer.outboundNodes).toHaveLength(0);
  });

  it('lists its registries', () => {
    expect(listResidualBlocks()).toEqual(['basic', 'bottleneck', 'preact_basic', 'preact_bottleneck']);
    expect(listResidualInits()).toEqual(Object.keys(RESIDUAL_INITS));
  });
});

describe('stem', () => {
  it('torchvision stem: 224 -> 112 (conv 7x7/2) -> 56 (max-pool 3x3/2), 9,408 + 128 parameters', () => {
    const x = tf.input({ shape: [224, 224, 3] });
    const y = stem(x);
    const m = tf.model({ inputs: x, outputs: y });
    expect(y.shape).toEqual([null, 56, 56, 64]);
    expect(m.getLayer('stem_conv1').countParams()).toBe(7 * 7 * 3 * 64);
    expect(m.getLayer('stem_norm1').countParams()).toBe(4 * 64);
    m.dispose();
  });

  it('deep stem (ResNet-C): three 3x3 convs 32-32-64, and the CIFAR stem', () => {
    const x = tf.input({ shape: [32, 32, 3] });
    const deep = tf.model({ inputs: x, outputs: stem(x, { deep: true, name: 'deep' }) });
    expect(deep.outputs[0]!.shape).toEqual([null, 8, 8, 64]);
    const convs = deep.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.countParams());
    expect(convs).toEqual([9 * 3 * 32, 9 * 32 * 32, 9 * 32 * 64]);
    const cifar = stem(x, { filters: 16, kernelSize: 3, stride: 1, pool: false, name: 'cifar' });
    expect(cifar.shape).toEqual([null, 32, 32, 16]);
    deep.dispose();
  });

  it('passes the layer contract; bad options are typed errors', async () => {
    await runLayerContract({
      name: 'deep stem',
      inputShape: [8, 8, 3],
      outputShape: [2, 2, 8],
      build: (x) => stem(x, { filters: 8, deep: true }),
    });
    const x = tf.input({ shape: [8, 8, 3] });
    expect(() => stem(x, { deep: true, filters: 7 })).toThrow(InvalidArgumentError);
    expect(() => stem(x, { kernelSize: 4 })).toThrow(InvalidArgumentError);
    expect(() => stem(x, { norm: 'group_nrom' as never })).toThrow(/group_norm/);
    expect(x.sourceLayer.outboundNodes).toHaveLength(0);
  });
});

describe('squeezeExcitation', () => {
  it('rescales channels by a sigmoid gate in (0, 1), with 2C²/r + C/r + C parameters', () => {
    const x = tf.input({ shape: [4, 4, 8] });
    const m = tf.model({ inputs: x, outputs: squeezeExcitation(x, { ratio: 2, name: 'se' }) });
    expect(m.countParams()).toBe((2 * 8 * 8) / 2 + 8 / 2 + 8);
    const input = tf.ones([1, 4, 4, 8]);
    const y = m.predict(input) as tf.Tensor;
    const v = y.dataSync();
    expect(Math.min(...v)).toBeGreaterThan(0);
    expect(Math.max(...v)).toBeLessThan(1);
    tf.dispose([input, y]);
    m.dispose();
    expect(() => squeezeExcitation(x, { ratio: 3 })).toThrow(/divisor of the 8 channels/);
  });
});
