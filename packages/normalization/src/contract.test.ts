import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import { runLayerContract, type BackendName } from '@gradflow/testing';
import {
  BatchNorm,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  RMSNorm,
  WeightStandardizedConv2d,
  listNorms,
  normLayer,
  type NormLike,
} from './index.js';

const apply = (layer: tf.layers.Layer) => (x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;

/**
 * A dense layer in front for layers with no trainable weight: @gradflow/testing's contract leaks
 * one tensor when a model has no trainable weight at all (reported to the lead).
 */
const withDense = (units: number, layer: tf.layers.Layer) => (x: tf.SymbolicTensor) =>
  layer.apply(tf.layers.dense({ units }).apply(x)) as tf.SymbolicTensor;

describe('layer contract: every registry entry (cpu and wasm)', () => {
  const specs: Record<string, NormLike> = {
    batch_norm: 'batch_norm',
    frozen_batch_norm: 'frozen_batch_norm',
    layer_norm: 'layer_norm',
    group_norm: { name: 'group_norm', groups: 4 },
    instance_norm: { name: 'instance_norm', affine: true },
    rms_norm: 'rms_norm',
  };
  for (const name of listNorms()) {
    it(name, async () => {
      const layer = normLayer(specs[name]!)!;
      await runLayerContract({
        name,
        inputShape: [4, 4, 8],
        outputShape: [4, 4, 8],
        build: name === 'frozen_batch_norm' ? withDense(8, layer) : apply(layer),
      });
    });
  }
});

describe('layer contract: variants', () => {
  const cases: {
    name: string;
    layer: () => tf.layers.Layer;
    inputShape: number[];
    dense?: boolean;
    backends?: BackendName[];
  }[] = [
    {
      name: 'batch_norm scale:false (tfjs#2868)',
      layer: () => new BatchNorm({ scale: false }),
      inputShape: [3, 3, 4],
    },
    { name: 'batch_norm center:false', layer: () => new BatchNorm({ center: false }), inputShape: [3, 3, 4] },
    {
      name: 'batch_norm neither',
      layer: () => new BatchNorm({ center: false, scale: false }),
      inputShape: [3, 3, 4],
      dense: true,
    },
    {
      name: 'batch_norm axis 1, rank 3',
      layer: () => new BatchNorm({ axis: 1, decay: 0.99 }),
      inputShape: [4, 5],
    },
    {
      name: 'batch_norm rank 2, cumulative',
      layer: () => new BatchNorm({ momentum: null }),
      inputShape: [6],
    },
    { name: 'batch_norm rank 5', layer: () => new BatchNorm(), inputShape: [2, 2, 2, 3] },
    {
      name: 'layer_norm over [H, W, C]',
      layer: () => new LayerNorm({ axis: [1, 2, 3] }),
      inputShape: [3, 3, 4],
    },
    {
      name: 'group_norm groupSize 2, axis 1',
      layer: () => new GroupNorm({ groupSize: 2, axis: 1 }),
      inputShape: [4, 3, 3],
    },
    {
      name: 'instance_norm tracking',
      layer: () => new InstanceNorm({ affine: true, trackRunningStats: true }),
      inputShape: [3, 3, 4],
    },
    { name: 'instance_norm plain', layer: () => new InstanceNorm(), inputShape: [3, 3, 4], dense: true },
    { name: 'rms_norm with β, sequence', layer: () => new RMSNorm({ center: true }), inputShape: [5, 6] },
    // Trains on wasm through @gradflow/backend-wasm's Conv2DBackpropFilter (stock wasm has none).
    {
      name: 'weightStandardizedConv2d',
      layer: () => new WeightStandardizedConv2d({ filters: 5, kernelSize: 3, padding: 'same' }),
      inputShape: [5, 5, 3],
    },
    {
      name: 'weightStandardizedConv2d strided valid, no bias',
      layer: () =>
        new WeightStandardizedConv2d({ filters: 4, kernelSize: [3, 2], strides: 2, useBias: false }),
      inputShape: [7, 6, 2],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const layer = c.layer();
      await runLayerContract({
        name: c.name,
        inputShape: c.inputShape,
        build: c.dense ? withDense(c.inputShape[c.inputShape.length - 1]!, layer) : apply(layer),
        ...(c.backends ? { backends: c.backends } : {}),
      });
    });
  }
});
