import type * as tf from '@tensorflow/tfjs';
import * as tfl from '@tensorflow/tfjs';
import { InvalidArgumentError, checkInteger } from '@gradflow/core';
import {
  activation,
  applyLayer,
  checkActivation,
  checkName,
  checkNorm,
  conv,
  initializer,
  isNoNorm,
  nhwc,
  norm,
  type ActivationLike,
  type InitializerLike,
  type NormLike,
} from './parts.js';

/** Options of {@link stem}. */
export interface StemOptions {
  /** Output channels (default 64). */
  filters?: number;
  /** ResNet-C deep stem: three 3x3 convs (filters/2, filters/2, filters) instead of one k x k conv. */
  deep?: boolean;
  /** Kernel of the single stem conv (default 7; ignored when `deep`). */
  kernelSize?: number;
  /** Stride of the first conv (default 2; 1 for CIFAR). */
  stride?: number;
  /** 3x3 stride-2 max-pool after the convs (default true; false for CIFAR). */
  pool?: boolean;
  /** Pre-activation network: no norm/activation after the last stem conv (the first block has them). */
  preact?: boolean;
  /** Activation by name (default `'relu'`). */
  activation?: ActivationLike;
  /** Norm by name or `'none'` (default `'batch_norm'`). */
  norm?: NormLike;
  /** Conv kernel initializer (default `'he_normal'`). */
  kernelInitializer?: InitializerLike;
  /** Conv biases (default: only without a norm). */
  useBias?: boolean;
  /** Layer name prefix (default `stem`). */
  name?: string;
}

/**
 * The input stem of a ResNet: `conv(k, stride) - norm - act - maxpool(3, 2)` (torchvision), or
 * with `deep: true` the ResNet-C stem of Bag of Tricks (He et al. 2019): three 3x3 convs.
 * Padding is PyTorch's (symmetric); the pool pads with zeros, which equals PyTorch's -inf
 * padding on the non-negative outputs of ReLU-family activations.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [224, 224, 3] });
 * const y = stem(x, { deep: true }); // [56, 56, 64]
 * const cifar = stem(tf.input({ shape: [32, 32, 3] }), { filters: 16, kernelSize: 3, stride: 1, pool: false });
 * ```
 */
export function stem(x: tf.SymbolicTensor, options: StemOptions = {}): tf.SymbolicTensor {
  nhwc(x, 'stem');
  const name = checkName(options.name ?? 'stem', 'stem');
  const filters = checkInteger('filters', options.filters ?? 64);
  const deep = options.deep ?? false;
  if (deep && filters % 2 !== 0)
    throw new InvalidArgumentError(
      'filters',
      filters,
      'an even number for a deep stem (its first convs have filters / 2)',
    );
  const kernelSize = checkInteger('kernelSize', options.kernelSize ?? 7);
  if (kernelSize % 2 === 0)
    throw new InvalidArgumentError('kernelSize', kernelSize, 'an odd kernel size (symmetric padding)');
  const stride = checkInteger('stride', options.stride ?? 2);
  const act = options.activation ?? 'relu';
  checkActivation(act);
  const normSpec = options.norm ?? 'batch_norm';
  const normChannels = checkNorm(normSpec);
  const init = initializer(options.kernelInitializer ?? 'he_normal');
  const useBias = options.useBias ?? isNoNorm(normSpec);
  const preact = options.preact ?? false;
  const pool = options.pool ?? true;

  const convs = deep
    ? [
        { kernelSize: 3, filters: filters / 2, stride },
        { kernelSize: 3, filters: filters / 2, stride: 1 },
        { kernelSize: 3, filters, stride: 1 },
      ]
    : [{ kernelSize, filters, stride }];
  convs.forEach((c, i) => {
    if (!(preact && i === convs.length - 1)) normChannels(c.filters, `${name}_norm${i + 1}`);
  });
  let h = x;
  convs.forEach((c, i) => {
    const k = i + 1;
    h = conv(h, `${name}_conv${k}`, { ...c, useBias, kernelInitializer: init });
    if (preact && i === convs.length - 1) return;
    const n = norm(normSpec, `${name}_norm${k}`);
    if (n) h = applyLayer(n, h);
    h = applyLayer(activation(act, `${name}_act${k}`), h);
  });
  if (pool) {
    h = applyLayer(tfl.layers.zeroPadding2d({ padding: 1, name: `${name}_pool_pad` }), h);
    h = applyLayer(
      tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: `${name}_pool` }),
      h,
    );
  }
  return h;
}
