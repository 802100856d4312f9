import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, checkInteger } from '@gradflow/core';
import {
  applyLayer,
  checkActivation,
  checkName,
  checkNorm,
  type ChannelCheck,
  checkRate,
  initializer,
  isNoNorm,
  nhwc,
  normAct,
  type ActivationLike,
  type Initializer,
  type InitializerLike,
  type NormLike,
} from './parts.js';

/** Options shared by the dense layer, the dense block and the transition. */
export interface DenseCommonOptions {
  /** Activation by name (default `'relu'`). */
  activation?: ActivationLike;
  /** Norm by name, `{ name, ...options }` or `'none'` (default `'batch_norm'`). */
  norm?: NormLike;
  /** Conv kernel initializer (default `'he_normal'`). */
  kernelInitializer?: InitializerLike;
  /** Conv biases (default: only without a norm; torchvision's DenseNet has none). */
  useBias?: boolean;
  /** Layer name prefix. */
  name?: string;
}

/** Options of {@link denseLayer}. */
export interface DenseLayerOptions extends DenseCommonOptions {
  /** Growth rate k: channels each layer adds. */
  growthRate: number;
  /** DenseNet-B: a 1x1 conv to `bottleneckWidth * k` channels before the 3x3 (default true). */
  bottleneck?: boolean;
  /** Width multiplier of the bottleneck (`bn_size` in torchvision, default 4). */
  bottleneckWidth?: number;
  /** Dropout rate after the 3x3 conv, in [0, 1) (default 0). */
  dropout?: number;
}

/** Options of {@link denseBlock}: a dense layer's options plus the number of layers. */
export interface DenseBlockOptions extends DenseLayerOptions {
  /** Number of dense layers in the block. */
  layers: number;
}

interface Resolved {
  growthRate: number;
  bottleneck: boolean;
  bottleneckWidth: number;
  dropout: number;
  activation: ActivationLike;
  norm: NormLike;
  kernelInitializer: Initializer;
  useBias: boolean;
  normChannels: ChannelCheck;
}

function resolve(options: DenseLayerOptions): Resolved {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('dense options', options, 'an object with at least { growthRate }');
  }
  const growthRate = checkInteger('growthRate', options.growthRate);
  const bottleneck = options.bottleneck ?? true;
  if (typeof bottleneck !== 'boolean')
    throw new InvalidArgumentError('bottleneck', bottleneck, 'true or false');
  const bottleneckWidth = checkInteger('bottleneckWidth', options.bottleneckWidth ?? 4);
  const dropout = checkRate('dropout', options.dropout ?? 0);
  const activation = options.activation ?? 'relu';
  checkActivation(activation);
  const norm = options.norm ?? 'batch_norm';
  const normChannels = checkNorm(norm);
  const kernelInitializer = initializer(options.kernelInitializer ?? 'he_normal');
  const useBias = options.useBias ?? isNoNorm(norm);
  if (typeof useBias !== 'boolean') throw new InvalidArgumentError('useBias', useBias, 'true or false');
  return {
    growthRate,
    bottleneck,
    bottleneckWidth,
    dropout,
    activation,
    norm,
    kernelInitializer,
    useBias,
    normChannels,
  };
}

/** Checks the channel counts every norm of a dense layer on `channels` inputs will see. */
function checkLayerNorms(r: Resolved, channels: number, p: string): void {
  r.normChannels(channels, `${p}_norm1`);
  if (r.bottleneck) r.normChannels(r.bottleneckWidth * r.growthRate, `${p}_norm2`);
}

function build(x: tf.SymbolicTensor, r: Resolved, p: string): tf.SymbolicTensor {
  const conv = (h: tf.SymbolicTensor, filters: number, kernelSize: number, suffix: string) =>
    applyLayer(
      tf.layers.conv2d({
        filters,
        kernelSize,
        padding: 'same',
        useBias: r.useBias,
        kernelInitializer: r.kernelInitializer,
        name: `${p}_conv${suffix}`,
      }),
      h,
    );
  let h = normAct(x, r, p, '1');
  if (r.bottleneck) {
    h = conv(h, r.bottleneckWidth * r.growthRate, 1, '1');
    h = conv(normAct(h, r, p, '2'), r.growthRate, 3, '2');
  } else {
    h = conv(h, r.growthRate, 3, '1');
  }
  if (r.dropout > 0) h = applyLayer(tf.layers.dropout({ rate: r.dropout, name: `${p}_dropout` }), h);
  return h;
}

/**
 * One DenseNet layer (Huang et al. 2017): norm-act-conv 1x1 to `bottleneckWidth * k` (DenseNet-B),
 * norm-act-conv 3x3 to `k`, optional dropout. Returns only the `k` new feature maps; a dense
 * block concatenates them to its input. Layers: `<name>_norm1`, `_act1`, `_conv1`, `_norm2`,
 * `_act2`, `_conv2`, `_dropout`.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [8, 8, 64] });
 * const k = denseLayer(x, { growthRate: 32, name: 'block1_layer1' }); // [8, 8, 32]
 * if (k.shape.join() !== ',8,8,32') throw new Error(String(k.shape));
 * ```
 */
export function denseLayer(x: tf.SymbolicTensor, options: DenseLayerOptions): tf.SymbolicTensor {
  const { channels } = nhwc(x, 'dense layer');
  const name = checkName(options?.name, 'dense_layer');
  const r = resolve(options);
  checkLayerNorms(r, channels, name);
  return build(x, r, name);
}

/**
 * A dense block: `layers` dense layers, each fed the concatenation of the block input and all
 * earlier layers' outputs (in that order, as torchvision). Output channels: `C + layers * k`.
 * Layers of layer i are named `<name>_layer<i>_...`, its concatenation `<name>_layer<i>_concat`.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [8, 8, 64] });
 * const y = denseBlock(x, { layers: 6, growthRate: 32, name: 'block1' }); // 64 + 6*32 = 256 channels
 * if (y.shape[3] !== 256) throw new Error(String(y.shape));
 * ```
 */
export function denseBlock(x: tf.SymbolicTensor, options: DenseBlockOptions): tf.SymbolicTensor {
  const { channels } = nhwc(x, 'dense block');
  const layers = checkInteger('layers', options?.layers);
  const name = checkName(options.name, 'dense_block');
  const r = resolve(options);
  for (let i = 1; i <= layers; i++)
    checkLayerNorms(r, channels + (i - 1) * r.growthRate, `${name}_layer${i}`);
  let h = x;
  for (let i = 1; i <= layers; i++) {
    const fresh = build(h, r, `${name}_layer${i}`);
    h = applyLayer(tf.layers.concatenate({ axis: -1, name: `${name}_layer${i}_concat` }), [h, fresh]);
  }
  return h;
}

/** Options of {@link transition}. */
export interface TransitionOptions extends DenseCommonOptions {
  /** Compression θ in (0, 1]: the 1x1 conv keeps `floor(θ C)` channels (default 0.5, DenseNet-C). */
  compression?: number;
}

/**
 * Channels a transition keeps: `floor(θ C)`, as torchvision (`int(num_features * compression)`).
 *
 * @example
 * ```ts
 * if (transitionChannels(256, 0.5) !== 128) throw new Error('θ = 0.5 halves');
 * if (transitionChannels(75, 0.5) !== 37) throw new Error('rounds down');
 * ```
 */
export function transitionChannels(channels: number, compression: number): number {
  return Math.floor(channels * compression);
}

/**
 * A DenseNet transition: norm-act-conv 1x1 to `floor(θ C)` channels, then 2x2 average pooling
 * with stride 2 (floor, as PyTorch's `AvgPool2d(2, 2)`). Layers: `<name>_norm`, `_act`, `_conv`, `_pool`.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [8, 8, 256] });
 * const y = transition(x, { compression: 0.5, name: 'transition1' }); // [4, 4, 128]
 * if (y.shape.join() !== ',4,4,128') throw new Error(String(y.shape));
 * ```
 */
export function transition(x: tf.SymbolicTensor, options: TransitionOptions = {}): tf.SymbolicTensor {
  const shape = nhwc(x, 'transition');
  const compression = options.compression ?? 0.5;
  if (
    typeof compression !== 'number' ||
    !Number.isFinite(compression) ||
    compression <= 0 ||
    compression > 1
  ) {
    throw new InvalidArgumentError('compression', compression, 'a number in (0, 1]');
  }
  const filters = transitionChannels(shape.channels, compression);
  if (filters < 1) {
    throw new InvalidArgumentError(
      'compression',
      compression,
      `at least 1/${shape.channels} so that floor(θ · ${shape.channels}) >= 1`,
    );
  }
  for (const [axis, size] of [
    ['height', shape.height],
    ['width', shape.width],
  ] as const) {
    if (size !== null && size < 2) {
      throw new InvalidArgumentError(
        `transition input ${axis}`,
        size,
        'at least 2 (the transition halves it)',
      );
    }
  }
  const name = checkName(options.name, 'transition');
  const activation = options.activation ?? 'relu';
  checkActivation(activation);
  const norm = options.norm ?? 'batch_norm';
  checkNorm(norm)(shape.channels, `${name}_norm`);
  const kernelInitializer = initializer(options.kernelInitializer ?? 'he_normal');
  const useBias = options.useBias ?? isNoNorm(norm);
  let h = normAct(x, { norm, activation }, name);
  h = applyLayer(
    tf.layers.conv2d({ filters, kernelSize: 1, useBias, kernelInitializer, name: `${name}_conv` }),
    h,
  );
  return applyLayer(
    tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `${name}_pool` }),
    h,
  );
}
