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
  BilinearUpsample2D,
  NearestUpsample2D,
  attentionGate,
  decoderStage,
  encoderStage,
  unet,
  unetGraph,
  type UNetOptions,
} from './index.js';

interface Case {
  weights: Record<string, Record<string, FixtureTensor>>;
  input: FixtureTensor;
  output: FixtureTensor;
}
const reference = loadFixture<{
  params: Record<string, { trainable: number; running_stats: number }>;
  cases: Record<string, Case>;
}>(import.meta.url, '../fixtures/reference.json');
const trainable = (m: tf.LayersModel) =>
  m.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);

describe('layer contract (cpu and wasm) over a grid of options', () => {
  const grid: [string, number[], UNetOptions, number[]][] = [
    ['transposed, no norm', [8, 8, 2], { depth: 2, baseFilters: 2 }, [8, 8, 1]],
    [
      'bilinear, batch norm, attention, 3 classes',
      [8, 8, 2],
      { depth: 2, baseFilters: 2, upsample: 'bilinear', norm: 'batch_norm', attention: true, numClasses: 3 },
      [8, 8, 3],
    ],
    [
      'nearest, strided conv, group norm, sigmoid head',
      [8, 16, 1],
      {
        depth: 3,
        baseFilters: 2,
        upsample: 'nearest',
        down: 'strided_conv',
        norm: { name: 'group_norm', groups: 2 },
        outputActivation: 'sigmoid',
      },
      [8, 16, 1],
    ],
  ];
  for (const [what, inputShape, options, outputShape] of grid) {
    it(what, async () => {
      await runLayerContract({
        name: what,
        inputShape,
        outputShape,
        // ~20 layers of float32 sums in different orders on cpu and wasm
        tolerance: { rtol: 1e-3, atol: 1e-4 },
        build: (x) => unetGraph(x, options),
      });
    });
  }

  it('encoder and decoder stages on their own, with crop and pad to an odd skip', async () => {
    await runLayerContract({
      name: 'encoder + decoder (crop)',
      inputShape: [9, 9, 2],
      outputShape: [8, 8, 3],
      build: (x) => {
        const { skip, output } = encoderStage(x, { filters: 3, name: 'enc' });
        return decoderStage(output, skip, { filters: 3, match: 'crop', name: 'dec' });
      },
    });
    await runLayerContract({
      name: 'encoder + decoder (pad, bilinear)',
      inputShape: [9, 7, 2],
      outputShape: [9, 7, 3],
      build: (x) => {
        const { skip, output } = encoderStage(x, { filters: 3, name: 'enc' });
        return decoderStage(output, skip, {
          filters: 3,
          match: 'pad',
          upsample: 'bilinear',
          attention: { interChannels: 2 },
          name: 'dec',
        });
      },
    });
  });

  it('NearestUpsample2D (tfjs UpSampling2D has wrong cpu gradients for batch > 1)', async () => {
    await runLayerContract({
      name: 'NearestUpsample2D',
      inputShape: [2, 3, 2],
      outputShape: [6, 9, 2],
      build: (x) =>
        new NearestUpsample2D({ factor: 3 }).apply(
          tf.layers.dense({ units: 2 }).apply(x) as tf.SymbolicTensor,
        ) as tf.SymbolicTensor,
    });
    // d/dx sum(up(x) * w) is the sum of w over each pixel's block, in every image of the batch
    const x = tf.zeros([2, 2, 2, 1]);
    const w = tf.range(0, 32).reshape([2, 4, 4, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(new NearestUpsample2D().apply(t) as tf.Tensor, w)))(x);
    expect(Array.from(g.dataSync())).toEqual([10, 18, 42, 50, 74, 82, 106, 114]);
    tf.dispose([x, w, g]);
  });

  it('BilinearUpsample2D', async () => {
    await runLayerContract({
      name: 'BilinearUpsample2D',
      inputShape: [3, 4, 2],
      outputShape: [9, 12, 2],
      build: (x) =>
        new BilinearUpsample2D({ factor: 3 }).apply(
          tf.layers.dense({ units: 2 }).apply(x) as tf.SymbolicTensor,
        ) as tf.SymbolicTensor,
    });
  });
});

describe('numerics against the PyTorch reference U-Net (eval mode)', () => {
  const configs: [string, number[], UNetOptions][] = [
    ['transposed_bn', [8, 8, 3], { depth: 2, baseFilters: 4, numClasses: 2, norm: 'batch_norm' }],
    [
      'bilinear_attention_bn',
      [8, 8, 3],
      { depth: 2, baseFilters: 4, numClasses: 2, norm: 'batch_norm', upsample: 'bilinear', attention: true },
    ],
    [
      'nearest_strided_plain',
      [8, 12, 2],
      { depth: 2, baseFilters: 4, numClasses: 1, upsample: 'nearest', down: 'strided_conv' },
    ],
  ];
  for (const [key, shape, options] of configs) {
    it(key, () => {
      const c = reference.cases[key]!;
      const m = unet(shape, options);
      const layersWithWeights = m.layers.filter((l) => l.weights.length > 0).map((l) => l.name);
      expect(layersWithWeights.sort()).toEqual(Object.keys(c.weights).sort());
      for (const [layerName, values] of Object.entries(c.weights)) {
        const layer = m.getLayer(layerName);
        const tensors = layer.weights.map((w) => {
          const k = ['kernel', 'bias', 'gamma', 'beta', 'mean', 'variance'].find((n) => w.name.includes(n))!;
          return fixtureTensor(values[k]!);
        });
        layer.setWeights(tensors);
        tf.dispose(tensors);
      }
      const x = fixtureTensor(c.input);
      const y = m.predict(x) as tf.Tensor;
      expect(y.shape).toEqual(c.output.shape);
      expectAllClose(y, c.output.data, { rtol: 1e-4, atol: 1e-5 }, `${key} output`);
      tf.dispose([x, y]);
      m.dispose();
    });
  }

  it('BilinearUpsample2D equals F.interpolate(align_corners=False) and its gradient is exact', () => {
    // torch: F.interpolate(arange(1, 10).reshape(1, 1, 3, 3), scale_factor=2, mode='bilinear')
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const layer = new BilinearUpsample2D();
    const y = layer.apply(x) as tf.Tensor;
    expectAllClose(
      y.slice([0, 0, 0, 0], [1, 1, 6, 1]),
      [1, 1.25, 1.75, 2.25, 2.75, 3],
      { atol: 1e-6, rtol: 0 },
      'first row',
    );
    // torch: (y * arange(36).reshape(1, 1, 6, 6)).sum().backward() -> x.grad
    const g = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(layer.apply(t) as tf.Tensor, tf.range(0, 36).reshape([1, 6, 6, 1]))),
    )(x);
    expectAllClose(
      g,
      [17.5, 25, 32.5, 62.5, 70, 77.5, 107.5, 115, 122.5],
      { atol: 1e-4, rtol: 0 },
      'gradient',
    );
    tf.dispose([x, y, g]);
  });
});

describe('parameter counts', () => {
  const level = (cin: number, f: number, bias: boolean) => 9 * cin * f + 9 * f * f + (bias ? 2 * f : 0);

  it("the paper's U-Net (1 input channel, 2 classes): 31,030,658 = hand formula = PyTorch reference", () => {
    const m = unet([32, 32, 1], { numClasses: 2 });
    const f = [64, 128, 256, 512];
    let formula =
      level(1, 64, true) +
      level(64, 128, true) +
      level(128, 256, true) +
      level(256, 512, true) +
      level(512, 1024, true);
    for (const c of f) formula += 4 * (2 * c) * c + c + level(2 * c, c, true); // up-conv 2x2 (2c -> c) + bias, double conv
    formula += 64 * 2 + 2;
    expect(trainable(m)).toBe(formula);
    expect(trainable(m)).toBe(reference.params['paper_1in_2cls']!.trainable);
    m.dispose();
  });

  it('BatchNorm variant (milesial/Pytorch-UNet layout) and Attention U-Net match the reference', () => {
    for (const [key, options, shape] of [
      ['bn_3in_2cls', { numClasses: 2, norm: 'batch_norm' }, [16, 16, 3]],
      ['bn_attention_3in_1cls', { numClasses: 1, norm: 'batch_norm', attention: true }, [16, 16, 3]],
    ] as const) {
      const m = unet([...shape], options);
      expect({ trainable: trainable(m), running_stats: m.countParams() - trainable(m) }).toEqual(
        reference.params[key],
      );
      m.dispose();
    }
  });
});

describe('names, shapes and bad input', () => {
  it('names levels enc1..encN, bottleneck, decN..dec1, head_conv', () => {
    const m = unet([16, 16, 3], { depth: 2, baseFilters: 4, attention: true, dropout: 0.5 });
    const names = m.layers.map((l) => l.name);
    for (const n of [
      'enc1_conv1',
      'enc1_act2',
      'enc1_pool',
      'enc2_pool',
      'bottleneck_conv2',
      'bottleneck_dropout',
      'dec2_up',
      'dec2_att_gate',
      'dec2_concat',
      'dec1_conv2',
      'head_conv',
    ]) {
      expect(names).toContain(n);
    }
    expect(m.outputs[0]!.shape).toEqual([null, 16, 16, 1]);
    m.dispose();
  });

  it('crop and pad reconcile an odd skip with the upsampled map', () => {
    const x = tf.input({ shape: [9, 7, 2] });
    const { skip, output } = encoderStage(x, { filters: 2, name: 'e' });
    expect(output.shape).toEqual([null, 4, 3, 2]);
    expect(decoderStage(output, skip, { filters: 2, match: 'crop', name: 'c' }).shape).toEqual([
      null,
      8,
      6,
      2,
    ]);
    expect(decoderStage(output, skip, { filters: 2, match: 'pad', name: 'p' }).shape).toEqual([
      null,
      9,
      7,
      2,
    ]);
  });

  it('the crop is centered: floor of the difference before, the rest after', () => {
    const x = tf.input({ shape: [9, 9, 1] });
    const { skip, output } = encoderStage(x, { filters: 1, name: 'e' });
    const y = decoderStage(output, skip, { filters: 1, match: 'crop', name: 'd' });
    const m = tf.model({ inputs: x, outputs: y });
    expect(m.getLayer('d_skip_crop').getConfig()['cropping']).toEqual([
      [0, 1],
      [0, 1],
    ]);
    m.dispose();
  });

  const bad: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    [
      'size not divisible by 2^depth',
      () => unet([100, 96, 3], { depth: 4 }),
      ShapeError,
      /height divisible by 2\^depth = 16.*use 96 or 112/,
    ],
    [
      'width not divisible',
      () => unet([32, 20, 3], { depth: 3 }),
      ShapeError,
      /width divisible by 2\^depth = 8/,
    ],
    ['rank-2 input shape', () => unet([32, 32]), ShapeError, /\[height, width, channels\]/],
    [
      'unknown upsampling',
      () => unet([16, 16, 1], { depth: 2, upsample: 'bilinar' as never }),
      UnknownNameError,
      /did you mean 'bilinear'/,
    ],
    [
      'unknown downsampling',
      () => unet([16, 16, 1], { depth: 2, down: 'maxpool' as never }),
      UnknownNameError,
      /max_pool/,
    ],
    [
      'unknown norm',
      () => unet([16, 16, 1], { depth: 2, norm: 'batchnorm' as never }),
      UnknownNameError,
      /batch_norm/,
    ],
    [
      'unknown activation',
      () => unet([16, 16, 1], { depth: 2, activation: 'rleu' as never }),
      UnknownNameError,
      /relu/,
    ],
    [
      'unknown output activation',
      () => unet([16, 16, 1], { depth: 2, outputActivation: 'sigmod' as never }),
      UnknownNameError,
      /sigmoid/,
    ],
    [
      'unknown match',
      () => unet([16, 16, 1], { depth: 2, match: 'resize' as never }),
      UnknownNameError,
      /crop|pad/,
    ],
    [
      'GroupNorm with an attention gate (psi has 1 channel)',
      () =>
        unet([16, 16, 1], {
          depth: 2,
          baseFilters: 4,
          norm: { name: 'group_norm', groups: 2 },
          attention: true,
        }),
      InvalidArgumentError,
      /1 channels of dec1_att_psi_norm/,
    ],
    [
      'GroupNorm groups not dividing a level',
      () => unet([16, 16, 1], { depth: 2, baseFilters: 6, norm: { name: 'group_norm', groups: 4 } }),
      InvalidArgumentError,
      /6 channels of enc1_norm1/,
    ],
    ['depth 0', () => unet([16, 16, 1], { depth: 0 }), InvalidArgumentError, /positive integer/],
    ['dropout 1', () => unet([16, 16, 1], { depth: 2, dropout: 1 }), InvalidArgumentError, /\[0, 1\)/],
    [
      'attention gate with a mismatched gating signal',
      () => attentionGate(tf.input({ shape: [8, 8, 2] }), tf.input({ shape: [4, 4, 2] })),
      ShapeError,
      /spatial size/,
    ],
    [
      'bad attention option',
      () => unet([16, 16, 1], { depth: 2, attention: 'yes' as never }),
      InvalidArgumentError,
      /interChannels/,
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

  it('a failed decoder stage applies nothing to its inputs', () => {
    const x = tf.input({ shape: [4, 4, 4] });
    const skip = tf.input({ shape: [8, 8, 2] });
    expect(() => decoderStage(x, skip, { filters: 2, norm: 'layer_nrom' as never })).toThrow(
      UnknownNameError,
    );
    expect(x.sourceLayer.outboundNodes).toHaveLength(0);
    expect(skip.sourceLayer.outboundNodes).toHaveLength(0);
  });
});
