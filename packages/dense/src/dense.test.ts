import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError, UnknownNameError } from '@gradflow/core';
import {
  expectAllClose,
  fixtureTensor,
  loadFixture,
  runLayerContract,
  type FixtureTensor,
} from '@gradflow/testing';
import {
  denseBlock,
  denseLayer,
  denseNetChannels,
  denseNetConfig,
  denseNetFeatures,
  listDenseNets,
  transition,
  DENSENET_CONFIGS,
} from './index.js';

interface Counts {
  trainable: number;
  running_stats: number;
}
const fixture = loadFixture<{
  params: Record<string, Counts>;
  block: {
    weights: Record<string, Record<string, FixtureTensor>>;
    input: FixtureTensor;
    output: FixtureTensor;
  };
}>(import.meta.url, '../fixtures/torchvision.json');

function model(shape: number[], build: (x: tf.SymbolicTensor) => tf.SymbolicTensor) {
  const x = tf.input({ shape });
  return tf.model({ inputs: x, outputs: build(x) });
}
const trainable = (m: tf.LayersModel) =>
  m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
const counts = (m: tf.LayersModel) => ({
  trainable: trainable(m),
  running_stats: m.countParams() - trainable(m),
});

describe('layer contract (cpu and wasm) over a grid of options', () => {
  const grid: [string, number[], (x: tf.SymbolicTensor) => tf.SymbolicTensor, number[], boolean?][] = [
    ['dense layer, bottleneck', [8, 8, 4], (x) => denseLayer(x, { growthRate: 3, name: 'l' }), [8, 8, 3]],
    [
      'dense layer, no bottleneck, group norm, silu',
      [8, 8, 4],
      (x) =>
        denseLayer(x, {
          growthRate: 3,
          bottleneck: false,
          norm: { name: 'group_norm', groups: 2 },
          activation: 'silu',
          name: 'l',
        }),
      [8, 8, 3],
    ],
    [
      'dense block, 3 layers',
      [8, 8, 4],
      (x) => denseBlock(x, { layers: 3, growthRate: 2, bottleneckWidth: 2, name: 'b' }),
      [8, 8, 10],
    ],
    [
      'dense block with dropout (inference contract)',
      [8, 8, 4],
      (x) => denseBlock(x, { layers: 2, growthRate: 2, dropout: 0.2, name: 'b' }),
      [8, 8, 8],
      false,
    ],
    [
      'dense block without norm',
      [8, 8, 4],
      (x) => denseBlock(x, { layers: 2, growthRate: 2, norm: 'none', name: 'b' }),
      [8, 8, 8],
    ],
    ['transition', [8, 8, 6], (x) => transition(x, { compression: 0.5, name: 't' }), [4, 4, 3]],
    [
      'DenseNet-BC features, cifar stem',
      [8, 8, 3],
      (x) => denseNetFeatures(x, { ...denseNetConfig(16, 2), initFeatures: 4 }),
      [2, 2, 8],
    ],
  ];
  for (const [what, inputShape, build, outputShape, training] of grid) {
    it(what, async () => {
      await runLayerContract({ name: what, inputShape, outputShape, build, training: training ?? true });
    });
  }
});

describe('parameter counts equal the hand formulas and torchvision', () => {
  it('_DenseLayer(64, k=32, bn_size=4): BN 2*64 + 64*128 + BN 2*128 + 9*128*32 = 45,440', () => {
    const m = model([8, 8, 64], (x) => denseLayer(x, { growthRate: 32 }));
    expect(counts(m).trainable).toBe(2 * 64 + 64 * 128 + 2 * 128 + 9 * 128 * 32);
    expect(counts(m)).toEqual(fixture.params['dense_layer_64_k32']);
    m.dispose();
  });

  it('_DenseBlock(6 layers, 64, k=32): sum over i of layer(64 + 32 i) = 335,040', () => {
    const m = model([8, 8, 64], (x) => denseBlock(x, { layers: 6, growthRate: 32 }));
    const layer = (c: number) => 2 * c + c * 128 + 2 * 128 + 9 * 128 * 32;
    expect(counts(m).trainable).toBe([0, 1, 2, 3, 4, 5].reduce((n, i) => n + layer(64 + 32 * i), 0));
    expect(counts(m)).toEqual(fixture.params['dense_block_6_64_k32']);
    expect(m.outputs[0]!.shape).toEqual([null, 8, 8, 64 + 6 * 32]);
    m.dispose();
  });

  it('_Transition(256, 128): BN 2*256 + 256*128 = 33,280', () => {
    const m = model([8, 8, 256], (x) => transition(x));
    expect(counts(m)).toEqual(fixture.params['transition_256_128']);
    expect(m.outputs[0]!.shape).toEqual([null, 4, 4, 128]);
    m.dispose();
  });

  it('densenet121 features: 6,953,856 parameters + 83,648 running statistics, as torchvision', () => {
    const m = model([32, 32, 3], (x) => denseNetFeatures(x, 'densenet121'));
    expect(counts(m)).toEqual(fixture.params['densenet121_features']);
    expect(m.outputs[0]!.shape).toEqual([null, 1, 1, 1024]);
    m.dispose();
  });
});

describe('numerics against torchvision (eval mode, random weights and BN statistics)', () => {
  it('_DenseBlock(3 layers, 4 -> 13 channels, k=3, bn_size=2) + _Transition(13 -> 6) on a 6x6 input', () => {
    const m = model([6, 6, 4], (x) =>
      transition(denseBlock(x, { layers: 3, growthRate: 3, bottleneckWidth: 2, name: 'blk' }), {
        name: 'trans',
      }),
    );
    for (const [layerName, values] of Object.entries(fixture.block.weights)) {
      const layer = m.getLayer(layerName);
      const tensors = layer.weights.map((w) => {
        const key = ['kernel', 'gamma', 'beta', 'mean', 'variance'].find((k) => w.name.includes(k))!;
        return fixtureTensor(values[key]!);
      });
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
    const x = fixtureTensor(fixture.block.input);
    const y = m.predict(x) as tf.Tensor;
    expect(y.shape).toEqual(fixture.block.output.shape);
    expectAllClose(y, fixture.block.output.data, { rtol: 1e-4, atol: 1e-5 }, 'dense block + transition');
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('DenseNet-BC configuration helpers', () => {
  it('derives layers per block from depth: (L - 4) / 6 for -BC, (L - 4) / 3 without bottleneck', () => {
    expect(denseNetConfig(100, 12)).toEqual(DENSENET_CONFIGS.densenet_bc_100_12);
    expect(denseNetConfig(250, 24)).toEqual(DENSENET_CONFIGS.densenet_bc_250_24);
    expect(denseNetConfig(190, 40)).toEqual(DENSENET_CONFIGS.densenet_bc_190_40);
    expect(denseNetConfig(40, 12, { bottleneck: false })).toEqual(DENSENET_CONFIGS.densenet_40_12);
    expect(() => denseNetConfig(101, 12)).toThrow(InvalidArgumentError);
    expect(() => denseNetConfig(101, 12)).toThrow(/4 \+ 6·n/);
  });

  it('channel plans: densenet121 ends with 1024 channels; DenseNet-BC-100-12 with 342', () => {
    expect(denseNetChannels('densenet121').map((p) => p.outChannels)).toEqual([256, 512, 1024, 1024]);
    expect(denseNetChannels('densenet121').map((p) => p.transitionChannels)).toEqual([128, 256, 512, null]);
    expect(denseNetChannels('densenet_bc_100_12').at(-1)!.outChannels).toBe(342);
    expect(listDenseNets()).toContain('densenet161');
    expect(() => denseNetChannels('densenet12' as never)).toThrow(/did you mean 'densenet121'/);
  });

  it('DenseNet-BC-100-12 has 0.8M parameters (Huang et al. 2017, table 2)', () => {
    const m = model([8, 8, 3], (x) => denseNetFeatures(x, 'densenet_bc_100_12'));
    const head = 342 * 10 + 10;
    expect(Math.round((counts(m).trainable + head) / 1e5) / 10).toBe(0.8);
    m.dispose();
  });
});

describe('layer names and bad input', () => {
  it('names layers from the prefix and concatenates [input, new] in order', () => {
    const m = model([4, 4, 2], (x) =>
      denseBlock(x, { layers: 2, growthRate: 1, dropout: 0.1, name: 'block1' }),
    );
    const names = m.layers.map((l) => l.name);
    for (const n of [
      'block1_layer1_norm1',
      'block1_layer1_act1',
      'block1_layer1_conv1',
      'block1_layer1_norm2',
      'block1_layer1_act2',
      'block1_layer1_conv2',
      'block1_layer1_dropout',
      'block1_layer1_concat',
      'block1_layer2_concat',
    ]) {
      expect(names).toContain(n);
    }
    const concat = m.getLayer('block1_layer2_concat');
    expect(concat.inboundNodes[0]!.inboundLayers.map((l) => l.name)).toEqual([
      'block1_layer1_concat',
      'block1_layer2_dropout',
    ]);
    m.dispose();
  });

  const bad: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    [
      'unknown activation',
      () =>
        denseBlock(tf.input({ shape: [4, 4, 2] }), { layers: 2, growthRate: 2, activation: 'rleu' as never }),
      UnknownNameError,
      /relu/,
    ],
    [
      'unknown norm',
      () =>
        denseBlock(tf.input({ shape: [4, 4, 2] }), { layers: 2, growthRate: 2, norm: 'batchnorm' as never }),
      UnknownNameError,
      /batch_norm/,
    ],
    [
      'GroupNorm groups not dividing a layer input',
      () =>
        denseBlock(tf.input({ shape: [4, 4, 6] }), {
          layers: 2,
          growthRate: 2,
          norm: { name: 'group_norm', groups: 4 },
          name: 'b',
        }),
      InvalidArgumentError,
      /divisor of the 6 channels of b_layer1_norm1/,
    ],
    [
      'GroupNorm groups not dividing a DenseNet stage',
      () =>
        denseNetFeatures(
          tf.input({ shape: [8, 8, 3] }),
          { ...denseNetConfig(16, 2), initFeatures: 4 },
          { norm: { name: 'group_norm', groups: 4 } },
        ),
      InvalidArgumentError,
      /divisor of the 6 channels/,
    ],
    [
      'dropout 1',
      () => denseLayer(tf.input({ shape: [4, 4, 2] }), { growthRate: 2, dropout: 1 }),
      InvalidArgumentError,
      /\[0, 1\)/,
    ],
    [
      'growth rate 0',
      () => denseBlock(tf.input({ shape: [4, 4, 2] }), { layers: 2, growthRate: 0 }),
      InvalidArgumentError,
      /positive integer/,
    ],
    [
      '0 layers',
      () => denseBlock(tf.input({ shape: [4, 4, 2] }), { layers: 0, growthRate: 2 }),
      InvalidArgumentError,
      /positive integer/,
    ],
    [
      'compression > 1',
      () => transition(tf.input({ shape: [4, 4, 2] }), { compression: 1.5 }),
      InvalidArgumentError,
      /\(0, 1\]/,
    ],
    [
      'compression keeping no channel',
      () => transition(tf.input({ shape: [4, 4, 2] }), { compression: 0.4 }),
      InvalidArgumentError,
      /floor/,
    ],
    [
      'transition of a 1-pixel map',
      () => transition(tf.input({ shape: [1, 4, 2] }), {}),
      InvalidArgumentError,
      /at least 2/,
    ],
    [
      'rank-3 input',
      () => denseLayer(tf.input({ shape: [4, 2] }), { growthRate: 2 }),
      ShapeError,
      /batch, height, width, channels/,
    ],
    [
      'input too small for densenet121',
      () => denseNetFeatures(tf.input({ shape: [16, 16, 3] }), 'densenet121'),
      ShapeError,
      />= 32/,
    ],
    [
      'unknown initializer in features',
      () =>
        denseNetFeatures(tf.input({ shape: [32, 32, 3] }), 'densenet121', {
          kernelInitializer: 'he_nromal' as never,
        }),
      UnknownNameError,
      /he_normal/,
    ],
  ];
  for (const [what, call, type, message] of bad) {
    it(`${what} is a typed error and leaves no tensor`, () => {
      const before = tf.memory().numTensors;
      expect(call).toThrow(type);
      expect(call).toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a failed call applies nothing to its input', () => {
    const x = tf.input({ shape: [32, 32, 3] });
    expect(() => denseNetFeatures(x, 'densenet121', { activation: 'gelu_tnah' as never })).toThrow(
      UnknownNameError,
    );
    expect(x.sourceLayer.outboundNodes).toHaveLength(0);
  });
});
