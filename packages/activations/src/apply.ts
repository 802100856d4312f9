import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, type Rng } from '@gradflow/core';
import { resolveActivation, type ActivationLike, type ResolvedActivation } from './registry.js';

export interface ApplyActivationOptions {
  /** Training mode: RReLU draws random slopes (default false: inference). */
  training?: boolean;
  /** Random source for RReLU in training (default: a fresh `Rng(seed)` per call). */
  rng?: Rng;
  /** PReLU's slope tensor (broadcast against x); default: the `init` parameter. */
  alpha?: tf.Tensor;
}

/**
 * Applies an activation to a float32 tensor, as an op (differentiable with `tf.grad`).
 *
 * @example
 * ```ts
 * const y = applyActivation({ name: 'leaky_relu', slope: 0.2 }, x);
 * const z = applyActivation('gelu', x);
 * ```
 */
export function applyActivation(
  activation: ActivationLike | ResolvedActivation,
  x: tf.Tensor,
  options: ApplyActivationOptions = {},
): tf.Tensor {
  const { spec, params } = resolveActivation(activation);
  if (x.dtype !== 'float32') {
    throw new InvalidArgumentError(
      'activation input dtype',
      x.dtype,
      "'float32'",
      'cast with tf.cast(x, "float32")',
    );
  }
  return tf.tidy(() =>
    spec.op(x, params, {
      training: options.training ?? false,
      ...(options.rng ? { rng: options.rng } : {}),
      ...(options.alpha ? { alpha: options.alpha } : {}),
    }),
  );
}
