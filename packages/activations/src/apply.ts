import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, type Rng } from '@gradflow/core';
import { resolveActivation, type ActivationLike, type ResolvedActivation } from './registry.js';
import type { OpContext } from './spec.js';

/** Options of {@link applyActivation}. */
export interface ApplyActivationOptions {
  /** Training mode: RReLU draws random slopes (default false: inference). */
  training?: boolean;
  /** Random source for RReLU in training (default: a fresh `Rng(seed)` per call). */
  rng?: Rng;
  /** PReLU's slope tensor (broadcast against x); default: the `init` parameter. */
  alpha?: tf.Tensor;
}

/**
 * Resolutions of activations given by name (names and aliases only, so the map stays small):
 * resolving validates every parameter, which costs about as much as a kernel on a small tensor.
 * Entries are never handed out: only `spec.op` sees their (readonly) params.
 */
const resolvedByName = new Map<string, ResolvedActivation>();

function resolve(activation: ActivationLike | ResolvedActivation): ResolvedActivation {
  if (typeof activation !== 'string') return resolveActivation(activation);
  let resolved = resolvedByName.get(activation);
  if (resolved === undefined) {
    resolved = resolveActivation(activation);
    resolvedByName.set(activation, resolved);
  }
  return resolved;
}

const INFERENCE: OpContext = { training: false };

/**
 * Applies an activation to a float32 tensor, as an op (differentiable with `tf.grad`). Non-float32
 * input throws `InvalidArgumentError`; names and parameters are validated as in
 * {@link resolveActivation}.
 *
 * @example
 * ```ts
 * const x = tf.tensor1d([-2, 0, 3]);
 * const y = applyActivation({ name: 'leaky_relu', slope: 0.2 }, x); // [-0.4, 0, 3]
 * const z = applyActivation('gelu', x); // [-0.0455, 0, 2.996]
 * tf.test_util.expectArraysClose(y.dataSync(), [-0.4, 0, 3]);
 * // RReLU draws random slopes (seeded, so reproducible) only in training mode:
 * const r = applyActivation({ name: 'rrelu', seed: 1 }, x, { training: true });
 * tf.dispose([x, y, z, r]);
 * ```
 */
export function applyActivation(
  activation: ActivationLike | ResolvedActivation,
  x: tf.Tensor,
  options: ApplyActivationOptions = {},
): tf.Tensor {
  const { spec, params } = resolve(activation);
  if (x.dtype !== 'float32') {
    throw new InvalidArgumentError(
      'activation input dtype',
      x.dtype,
      "'float32'",
      'cast with tf.cast(x, "float32")',
    );
  }
  const context: OpContext =
    options.training === undefined && options.rng === undefined && options.alpha === undefined
      ? INFERENCE
      : {
          training: options.training ?? false,
          ...(options.rng ? { rng: options.rng } : {}),
          ...(options.alpha ? { alpha: options.alpha } : {}),
        };
  // every op cleans up after itself (a tf.tidy, a tf.customGrad or one kernel; the tests check for
  // leaks), so no tidy here: on small tensors it would cost ~5% of a one-kernel activation
  return spec.op(x, params, context);
}
