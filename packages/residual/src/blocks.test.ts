import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { GradflowError } from '@gradflow/core';
import { InvalidArgumentError, ShapeError, UnknownNameError } from '@gradflow/core';
import {
  expectAllClose,
  fixtureTensor,
  loadFixture,
  runLayerContract,
  type FixtureTensor,
} from '@gradflow/testing';
import { basicBlock, bottleneckBlock, type BottleneckBlockOptions } from './index.js';

function build(
  fn: typeof basicBlock | typeof bottleneckBlock,
  shape: number[],
  options: BottleneckBlockOptions,
) {
  const x = tf.input({ shape });
  const y = fn(x, options);
  return tf.model({ inputs: x, outputs: y });
}

const params = (m: tf.LayersModel) => ({
  trainable: m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0),
  total: m.countParams(),
});

describe('basicBlock and bottleneckBlock pass the layer contract over a grid of options', () => {
  const grid: [string, typeof basicBlock, number[], BottleneckBlockOptions, number[], RegExp?][] = [
    ['basic identity', basicBlock, [8, 8, 4], { filters: 4 }, [8, 8, 4]],
    ['basic projection s2', basicBlock, [8, 8, 4], { filters: 8, stride: 2 }, [4, 4, 8]],
    ['basic option_a s2', basicBlock, [8, 8, 4], { filters: 8, stride: 2, shortcut: 'option_a' }, [4, 4, 8]],
    ['basic preact projection', basicBlock, [8, 8, 4], { filters: 8, stride: 2, preact: true }, [4, 4, 8]],
    ['basic plain', basicBlock, [8, 8, 4], { filters: 8, plain: true }, [8, 8, 8]],
    [
      'basic se + avgDown + group_norm',
      basicBlock,
      [8, 8, 4],
      { filters: 8, stride: 2, avgDown: true, se: { ratio: 2 }, norm: { name: 'group_norm', groups: 2 } },
      [4, 4, 8],
    ],
    [
      'basic zero_gamma',
      basicBlock,
      [8, 8, 4],
      { filters: 4, init: 'zero_gamma' },
      [8, 8, 4],
      /_conv1|_norm1|_conv2/,
    ],
    [
      'basic fixup option_a',
      basicBlock,
      [8, 8, 4],
      { filters: 8, stride: 2, init: 'fixup', totalBlocks: 9, shortcut: 'option_a' },
      [4, 4, 8],
      /_bias1a|_conv1|_bias1b|_bias2a|_scale/,
    ],
    [
      'basic skipinit',
      basicBlock,
      [8, 8, 4],
      { filters: 4, init: 'skipinit', activation: 'tanh' },
      [8, 8, 4],
      /_conv|_norm/,
    ],
    [
      'basic rezero preact',
      basicBlock,
      [8, 8, 4],
      { filters: 4, init: 'rezero', preact: true, norm: 'layer_norm' },
      [8, 8, 4],
      /_conv|_norm/,
    ],
    ['basic dropPath (inference contract)', basicBlock, [8, 8, 4], { filters: 4, dropPath: 0.2 }, [8, 8, 4]],
    ['bottleneck v1.5 projection', bottleneckBlock, [8, 8, 4], { filters: 2, stride: 2 }, [4, 4, 8]],
    [
      'bottleneck v1 (stride in 1x1)',
      bottleneckBlock,
      [8, 8, 8],
      { filters: 2, stride: 2, strideIn: '1x1', expansion: 4 },
      [4, 4, 8],
    ],
    [
      'bottleneck preact se',
      bottleneckBlock,
      [8, 8, 8],
      { filters: 2, preact: true, se: { ratio: 4 }, activation: 'silu' },
      [8, 8, 8],
    ],
    [
      'bottleneck fixup',
      bottleneckBlock,
      [8, 8, 8],
      { filters: 2, init: 'fixup', totalBlocks: 16 },
      [8, 8, 8],
      /_bias[12]|_bias3a|_conv[12]|_scale/,
    ],
  ];
  for (const [what, fn, inputShape, options, outputShape, zeroGradientAllowed] of grid) {
    it(what, async () => {
      await runLayerContract({
        name: what,
        inputShape,
        outputShape,
        // drop-path masks are random in training; its training behaviour is tested in layers.test.ts
        training: options.dropPath === undefined,
        ...(zeroGradientAllowed ? { zeroGradientAllowed } : {}),
        build: (x) => fn(x, { ...options, name: 'b' }),
      });
    });
  }
});

describe('parameter counts equal the hand formulas and torchvision', () => {
  const tv = loadFixture<{ params: Record<string, { trainable: number; running_stats: number }> }>(
    import.meta.url,
    '../fixtures/torchvision.json',
  ).params;

  it('BasicBlock(64, 64): 2 * 3*3*64*64 conv + 2 * 2*64 BN affine = 73,984 (+ 2 * 2*64 running stats)', () => {
    const m = build(basicBlock, [8, 8, 64], { filters: 64 });
    expect(params(m).trainable).toBe(2 * 9 * 64 * 64 + 2 * 2 * 64);
    expect(params(m).trainable).toBe(tv['basic_64_64']!.trainable);
    expect(params(m).total - params(m).trainable).toBe(tv['basic_64_64']!.running_stats);
    m.dispose();
  });

  it('BasicBlock(64, 128, stride 2): 9*64*128 + 9*128*128 + 64*128 conv + 3 * 2*128 BN = 230,144', () => {
    const m = build(basicBlock, [8, 8, 64], { filters: 128, stride: 2 });
    expect(params(m).trainable).toBe(9 * 64 * 128 + 9 * 128 * 128 + 64 * 128 + 3 * 2 * 128);
    expect(params(m).trainable).toBe(tv['basic_64_128_s2']!.trainable);
    expect(params(m).total - params(m).trainable).toBe(tv['basic_64_128_s2']!.running_stats);
    m.dispose();
  });

  it('Bottleneck(256, 64): 256*64 + 9*64*64 + 64*256 conv + 2*(64+64+256) BN = 70,400', () => {
    const m = build(bottleneckBlock, [4, 4, 256], { filters: 64 });
    expect(params(m).trainable).toBe(256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256));
    expect(params(m).trainable).toBe(tv['bottleneck_256_64']!.trainable);
    expect(params(m).total - params(m).trainable).toBe(tv['bottleneck_256_64']!.running_stats);
    m.dispose();
  });

  it('Bottleneck(64, 64) with projection to 256 and Bottleneck(256, 128, stride 2)', () => {
    const a = build(bottleneckBlock, [4, 4, 64], { filters: 64 });
    expect(params(a).trainable).toBe(64 * 64 + 9 * 64 * 64 + 64 * 256 + 64 * 256 + 2 * (64 + 64 + 256 + 256));
    expect(params(a).trainable).toBe(tv['bottleneck_64_64_proj']!.trainable);
    const b = build(bottleneckBlock, [4, 4, 256], { filters: 128, stride: 2 });
    expect(params(b).trainable).toBe(tv['bottleneck_256_128_s2']!.trainable);
    expect(params(b).total - params(b).trainable).toBe(tv['bottleneck_256_128_s2']!.running_stats);
    a.dispose();
    b.dispose();
  });

  it('option A adds no parameters; SE adds 2C²/r + C/r + C; Fixup adds 5 scalars (basic) / 7 (bottleneck); ReZero 1', () => {
    const conv = (cin: number, c: number) => 9 * cin * c + 9 * c * c;
    const a = build(basicBlock, [8, 8, 16], { filters: 32, stride: 2, shortcut: 'option_a', norm: 'none' });
    expect(a.countParams()).toBe(conv(16, 32) + 2 * 32); // conv biases: no norm follows
    const se = build(basicBlock, [8, 8, 16], { filters: 16, se: { ratio: 4 } });
    expect(params(se).trainable).toBe(conv(16, 16) + 2 * 2 * 16 + (2 * 16 * 16) / 4 + 16 / 4 + 16);
    const fixup = build(basicBlock, [8, 8, 16], { filters: 16, init: 'fixup', totalBlocks: 3 });
    expect(fixup.countParams()).toBe(conv(16, 16) + 5);
    const fixupB = build(bottleneckBlock, [8, 8, 16], { filters: 4, init: 'fixup', totalBlocks: 3 });
    expect(fixupB.countParams()).toBe(16 * 4 + 9 * 4 * 4 + 4 * 16 + 7);
    const rezero = build(basicBlock, [8, 8, 16], { filters: 16, init: 'rezero' });
    expect(rezero.countParams()).toBe(conv(16, 16) + 2 * 16 + 1);
    for (const m of [a, se, fixup, fixupB, rezero]) m.dispose();
  });
});

describe('numerics against torchvision (eval mode, random weights and BN statistics)', () => {
  interface Case {
    weights: Record<string, Record<string, FixtureTensor>>;
    input: FixtureTensor;
    output: FixtureTensor;
  }
  const cases = loadFixture<{ blocks: Record<string, Case> }>(
    import.meta.url,
    '../fixtures/torchvision.json',
  ).blocks;

  function load(model: tf.LayersModel, weights: Case['weights']) {
    for (const [layerName, values] of Object.entries(weights)) {
      const layer = model.getLayer(layerName);
      const order = layer.weights.map((w) => {
        const key = ['kernel', 'gamma', 'beta', 'mean', 'variance'].find((k) => w.name.includes(k));
        if (!key) throw new Error(`unexpected weight ${w.name}`);
        return key;
      });
      const tensors = order.map((k) => fixtureTensor(values[k]!));
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
  }

  it('BasicBlock(4, 8, stride 2) on an 8x8 input: torch padding keeps the grid aligned', () => {
    const c = cases['basic_4_8_s2']!;
    const m = build(basicBlock, [8, 8, 4], { filters: 8, stride: 2, name: 'b' });
    load(m, c.weights);
    const x = fixtureTensor(c.input);
    const y = m.predict(x) as tf.Tensor;
    expect(y.shape).toEqual(c.output.shape);
    expectAllClose(y, c.output.data, { rtol: 1e-4, atol: 1e-5 }, 'basic block output');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('Bottleneck(8, 4, stride 2) = torchvision v1.5 (stride on the 3x3)', () => {
    const c = cases['bottleneck_8_4_s2']!;
    const m = build(bottleneckBlock, [6, 6, 8], { filters: 4, stride: 2, strideIn: '3x3', name: 'b' });
    load(m, c.weights);
    const x = fixtureTensor(c.input);
    const y = m.predict(x) as tf.Tensor;
    expectAllClose(y, c.output.data, { rtol: 1e-4, atol: 1e-5 }, 'bottleneck output');
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('layer names and structure', () => {
  it('names every layer from the prefix', () => {
    const m = build(basicBlock, [8, 8, 4], {
      filters: 8,
      stride: 2,
      shortcut: 'option_a',
      se: { ratio: 4 },
      dropPath: 0.1,
      name: 'stage2_block3',
    });
    expect(
      m.layers
        .map((l) => l.name)
        .filter((n) => n !== m.inputs[0]!.sourceLayer.name)
        .sort(),
    ).toEqual(
      [
        'stage2_block3_conv1_pad',
        'stage2_block3_conv1',
        'stage2_block3_norm1',
        'stage2_block3_act1',
        'stage2_block3_conv2',
        'stage2_block3_norm2',
        'stage2_block3_se_pool',
        'stage2_block3_se_reduce',
        'stage2_block3_se_act',
        'stage2_block3_se_expand',
        'stage2_block3_se_gate',
        'stage2_block3_se_reshape',
        'stage2_block3_se_mul',
        'stage2_block3_drop_path',
        'stage2_block3_shortcut',
        'stage2_block3_add',
        'stage2_block3_out',
      ].sort(),
    );
    m.dispose();
  });

  it('v1 puts the stride on the 1x1 conv, v1.5 on the 3x3; avgDown pools before a stride-1 projection', () => {
    const v1 = build(bottleneckBlock, [8, 8, 8], { filters: 2, stride: 2, strideIn: '1x1', name: 'b' });
    const v15 = build(bottleneckBlock, [8, 8, 8], { filters: 2, stride: 2, avgDown: true, name: 'b' });
    const strides = (m: tf.LayersModel, n: string) => (m.getLayer(n).getConfig()['strides'] as number[])[0];
    expect([strides(v1, 'b_conv1'), strides(v1, 'b_conv2')]).toEqual([2, 1]);
    expect([strides(v15, 'b_conv1'), strides(v15, 'b_conv2'), strides(v15, 'b_shortcut_conv')]).toEqual([
      1, 2, 1,
    ]);
    expect(v15.getLayer('b_shortcut_pool').getClassName()).toBe('AveragePooling2D');
    v1.dispose();
    v15.dispose();
  });
});

describe('residual init schemes', () => {
  const input = () => tf.randomUniform([2, 8, 8, 4], -1, 1, 'float32', 3);

  it('zero_gamma: the block is relu(shortcut) at init (Goyal et al. 2017)', () => {
    const m = build(basicBlock, [8, 8, 4], { filters: 4, init: 'zero_gamma', name: 'b' });
    const gamma = m
      .getLayer('b_norm2')
      .weights.find((w) => w.name.includes('gamma'))!
      .read();
    expect(Array.from(gamma.dataSync())).toEqual([0, 0, 0, 0]);
    const x = input();
    const y = m.predict(x) as tf.Tensor;
    // gamma 0, beta 0: the branch contributes exactly 0
    expectAllClose(y, tf.relu(x).dataSync(), { atol: 0, rtol: 0 }, 'zero-gamma block at init');
    tf.dispose([x, y]);
    m.dispose();
  });

  it('rezero is exactly the identity at init; skipinit is act(x)', () => {
    const r = build(basicBlock, [8, 8, 4], { filters: 4, init: 'rezero', name: 'r' });
    const s = build(basicBlock, [8, 8, 4], { filters: 4, init: 'skipinit', activation: 'tanh', name: 's' });
    const x = input();
    const [yr, ys, expected] = tf.tidy(() => [
      r.predict(x) as tf.Tensor,
      s.predict(x) as tf.Tensor,
      tf.tanh(x),
    ]);
    expectAllClose(yr!, x.dataSync(), { atol: 0, rtol: 0 }, 'rezero at init');
    expectAllClose(ys!, expected!.dataSync(), { atol: 0, rtol: 0 }, 'skipinit at init');
    expect(r.getLayer('r_alpha').getClassName()).toBe('ScalarScale');
    expect(r.layers.some((l) => l.name.includes('norm'))).toBe(false); // both papers drop the norm
    tf.dispose([x, yr!, ys!, expected!]);
    r.dispose();
    s.dispose();
  });

  it('fixup: no norm, zero last conv, branch std scaled by L^(-1/(2m-2)), scalar bias/multiplier layers', () => {
    const L = 16;
    // basic: m = 2 convs -> L^(-1/2); bottleneck: m = 3 -> L^(-1/4)
    const basic = build(basicBlock, [8, 8, 32], {
      filters: 32,
      init: 'fixup',
      totalBlocks: L,
      kernelInitializer: { name: 'he_normal' },
      name: 'f',
    });
    const plainHe = build(basicBlock, [8, 8, 32], { filters: 32, norm: 'none', useBias: false, name: 'h' });
    const std = (m: tf.LayersModel, n: string) =>
      tf.tidy(() => tf.moments(m.getLayer(n).getWeights()[0]!).variance.sqrt().dataSync()[0]!);
    expect(std(basic, 'f_conv1') / std(plainHe, 'h_conv1')).toBeCloseTo(L ** -0.5, 1);
    expect(std(basic, 'f_conv2')).toBe(0);
    expect(basic.layers.some((l) => l.name.includes('norm'))).toBe(false);
    expect(
      ['f_bias1a', 'f_bias1b', 'f_bias2a', 'f_bias2b'].map((n) => basic.getLayer(n).getClassName()),
    ).toEqual(Array(4).fill('ScalarBias'));
    expect(basic.getLayer('f_scale').getClassName()).toBe('ScalarScale');
    const bottle = build(bottleneckBlock, [8, 8, 128], {
      filters: 32,
      init: 'fixup',
      totalBlocks: L,
      name: 'g',
    });
    const plainB = build(bottleneckBlock, [8, 8, 128], {
      filters: 32,
      norm: 'none',
      useBias: false,
      name: 'k',
    });
    expect(std(bottle, 'g_conv2') / std(plainB, 'k_conv2')).toBeCloseTo(L ** -0.25, 1);
    expect(std(bottle, 'g_conv3')).toBe(0);
    const x = tf.randomUniform([2, 8, 8, 32], -1, 1, 'float32', 5);
    const y = basic.predict(x) as tf.Tensor;
    expectAllClose(
      y,
      tf.tidy(() => tf.relu(x).dataSync()),
      { atol: 0, rtol: 0 },
      'fixup block at init',
    );
    tf.dispose([x, y]);
    for (const m of [basic, plainHe, bottle, plainB]) m.dispose();
  });
});

describe('bad input: typed errors before any layer is created', () => {
  const cases: [string, number[], BottleneckBlockOptions, new (...args: never[]) => GradflowError, RegExp][] =
    [
      [
        'unknown activation',
        [8, 8, 4],
        { filters: 4, activation: 'rleu' as never },
        UnknownNameError,
        /relu/,
      ],
      [
        'activation parameter it does not take',
        [8, 8, 4],
        { filters: 4, activation: { name: 'elu', slope: 0.2 } as never },
        InvalidArgumentError,
        /one of alpha/,
      ],
      ['unknown norm', [8, 8, 4], { filters: 4, norm: 'batchnorm' as never }, UnknownNameError, /batch_norm/],
      [
        'unknown init scheme',
        [8, 8, 4],
        { filters: 4, init: 'zero_gama' as never },
        UnknownNameError,
        /zero_gamma/,
      ],
      [
        'unknown shortcut',
        [8, 8, 4],
        { filters: 8, shortcut: 'optionA' as never },
        UnknownNameError,
        /option_a/,
      ],
      [
        'unknown initializer',
        [8, 8, 4],
        { filters: 4, kernelInitializer: 'he_nromal' as never },
        UnknownNameError,
        /he_normal/,
      ],
      [
        'option A on an odd size',
        [7, 7, 4],
        { filters: 8, stride: 2, shortcut: 'option_a' },
        ShapeError,
        /height divisible by the stride 2/,
      ],
      [
        'option A cannot remove channels',
        [8, 8, 16],
        { filters: 8, shortcut: 'option_a' },
        ShapeError,
        /at most 8 channels/,
      ],
      [
        'identity shortcut on a shape change',
        [8, 8, 4],
        { filters: 8, shortcut: 'identity' },
        ShapeError,
        /identity shortcut/,
      ],
      [
        'SE ratio not dividing the channels',
        [8, 8, 4],
        { filters: 12, se: { ratio: 5 } },
        InvalidArgumentError,
        /divisor of the 12 channels/,
      ],
      ['dropPath rate 1', [8, 8, 4], { filters: 4, dropPath: 1 }, InvalidArgumentError, /\[0, 1\)/],
      ['negative dropPath', [8, 8, 4], { filters: 4, dropPath: -0.1 }, InvalidArgumentError, /\[0, 1\)/],
      [
        'fixup without totalBlocks',
        [8, 8, 4],
        { filters: 4, init: 'fixup' },
        InvalidArgumentError,
        /totalBlocks/,
      ],
      [
        'fixup with a norm',
        [8, 8, 4],
        { filters: 4, init: 'fixup', totalBlocks: 3, norm: 'batch_norm' },
        InvalidArgumentError,
        /Fixup replaces normalization/,
      ],
      [
        'zero_gamma without a norm',
        [8, 8, 4],
        { filters: 4, init: 'zero_gamma', norm: 'none' },
        InvalidArgumentError,
        /gamma/,
      ],
      [
        'zero_gamma on a preact block',
        [8, 8, 4],
        { filters: 4, init: 'zero_gamma', preact: true },
        InvalidArgumentError,
        /pre-activation/,
      ],
      [
        'plain with drop path',
        [8, 8, 4],
        { filters: 4, plain: true, dropPath: 0.1 },
        InvalidArgumentError,
        /drops the whole signal/,
      ],
      [
        'plain with rezero',
        [8, 8, 4],
        { filters: 4, plain: true, init: 'rezero' },
        InvalidArgumentError,
        /plain/,
      ],
      ['fractional filters', [8, 8, 4], { filters: 2.5 }, InvalidArgumentError, /positive integer/],
      ['zero stride', [8, 8, 4], { filters: 4, stride: 0 }, InvalidArgumentError, /positive integer/],
      [
        'GroupNorm groups not dividing the channels',
        [8, 8, 4],
        { filters: 8, norm: { name: 'group_norm', groups: 3 } },
        InvalidArgumentError,
        /divisor of the 8 channels of b_norm1/,
      ],
      [
        'GroupNorm groups not dividing a preact input',
        [8, 8, 6],
        { filters: 8, preact: true, norm: { name: 'group_norm', groups: 4 } },
        InvalidArgumentError,
        /6 channels of b_norm1/,
      ],
      [
        'zero_gamma with a norm without gamma',
        [8, 8, 4],
        { filters: 4, init: 'zero_gamma', norm: 'instance_norm' },
        InvalidArgumentError,
        /γ/,
      ],
      [
        'a name with a space',
        [8, 8, 4],
        { filters: 4, name: 'stage 2' },
        InvalidArgumentError,
        /letters, digits/,
      ],
      ['bad strideIn', [8, 8, 4], { filters: 4, strideIn: '2x2' as never }, InvalidArgumentError, /1x1/],
    ];
  for (const [what, shape, options, type, message] of cases) {
    it(what, () => {
      const x = tf.input({ shape });
      const before = tf.memory().numTensors;
      let error: unknown;
      try {
        bottleneckOrBasic(options)(x, { name: 'b', ...options });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      expect(x.sourceLayer.outboundNodes).toHaveLength(0); // nothing was applied to the input
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  function bottleneckOrBasic(options: BottleneckBlockOptions) {
    return options.strideIn !== undefined ? bottleneckBlock : basicBlock;
  }

  it('a rank-3 input is a ShapeError', () => {
    expect(() => basicBlock(tf.input({ shape: [8, 4] }), { filters: 4 })).toThrow(ShapeError);
  });
});
