import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, checkInteger } from '@gradflow/core';
import {
  activation,
  applyLayer,
  checkActivation,
  checkName,
  initializer,
  nhwc,
  type ActivationLike,
  type InitializerLike,
} from './parts.js';

/** The `se` option of every block: the reduction ratio and the inner activation. */
export interface SqueezeExcitationOptions {
  /** Reduction ratio r: the bottleneck has `channels / r` units; r must divide the channels. */
  ratio: number;
  /** Activation between the two dense layers (default: the block's activation). */
  activation?: ActivationLike;
}

/** Validates SE options for `channels`; returns them with the activation filled in. */
export function checkSqueezeExcitation(
  se: SqueezeExcitationOptions,
  channels: number,
  fallback: ActivationLike,
): Required<SqueezeExcitationOptions> {
  if (se === null || typeof se !== 'object') throw new InvalidArgumentError('se', se, '{ ratio } or null');
  const ratio = checkInteger('se.ratio', se.ratio);
  if (channels % ratio !== 0) {
    const divisors = [] as number[];
    for (let d = 1; d <= channels; d++) if (channels % d === 0) divisors.push(d);
    throw new InvalidArgumentError(
      'se.ratio',
      ratio,
      `a divisor of the ${channels} channels it squeezes`,
      `divisors: ${divisors.join(', ')}`,
    );
  }
  const act = se.activation ?? fallback;
  checkActivation(act);
  return { ratio, activation: act };
}

/** Options of {@link squeezeExcitation}. */
export interface SqueezeExcitationBuildOptions extends SqueezeExcitationOptions {
  /** Layer name prefix (default `'se<n>'`). */
  name?: string;
  /** Kernel initializer of the two dense layers (default `'he_normal'`). */
  kernelInitializer?: InitializerLike;
}

/**
 * Squeeze-and-excitation (Hu et al. 2018): global average pool, dense to `C / ratio` units,
 * activation, dense to `C`, sigmoid, channel-wise rescale of `x`. Adds `2 C² / r + C / r + C`
 * parameters. Layers: `<name>_pool`, `_reduce`, `_act`, `_expand`, `_gate`, `_reshape`, `_mul`.
 *
 * @example
 * ```ts
 * const x = tf.input({ shape: [8, 8, 16] });
 * const y = squeezeExcitation(x, { ratio: 4, name: 'block1_se' }); // same shape, channels rescaled
 * if (y.shape.join() !== ',8,8,16') throw new Error(String(y.shape));
 * ```
 */
export function squeezeExcitation(
  x: tf.SymbolicTensor,
  options: SqueezeExcitationBuildOptions,
): tf.SymbolicTensor {
  const { channels } = nhwc(x, 'squeeze-excitation');
  const se = checkSqueezeExcitation(options, channels, 'relu');
  const name = checkName(options.name, 'se');
  const init = initializer(options.kernelInitializer ?? 'he_normal');
  let s = applyLayer(tf.layers.globalAveragePooling2d({ name: `${name}_pool` }), x);
  s = applyLayer(
    tf.layers.dense({ units: channels / se.ratio, kernelInitializer: init, name: `${name}_reduce` }),
    s,
  );
  s = applyLayer(activation(se.activation, `${name}_act`), s);
  s = applyLayer(tf.layers.dense({ units: channels, kernelInitializer: init, name: `${name}_expand` }), s);
  s = applyLayer(activation('sigmoid', `${name}_gate`), s);
  s = applyLayer(tf.layers.reshape({ targetShape: [1, 1, channels], name: `${name}_reshape` }), s);
  return applyLayer(tf.layers.multiply({ name: `${name}_mul` }), [x, s]);
}
