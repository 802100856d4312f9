import * as tf from '@tensorflow/tfjs';
import { MOMENTS_KERNEL } from './kernels/elementwise.js';

/**
 * Per-channel mean and population variance of a channels-last `x` over every axis but the last
 * (BatchNorm's training statistics), each `[C]`, in one pass over x on wasm where the composed
 * `tf.moments` reads it three times and writes it once. Null where the kernel does not apply:
 * another backend, gradflow's kernels not registered, another dtype, rank < 2, or no rows. No
 * gradient flows through the result (use `tf.moments` where one must).
 *
 * @example
 * ```ts
 * const x = tf.tensor2d([[1, 10], [3, 30]]);
 * const m = channelMoments(x); // on wasm: mean [2, 20], variance [1, 100]
 * if (tf.getBackend() !== 'wasm' && m !== null) throw new Error('channelMoments is wasm only');
 * if (m) tf.dispose([m.mean, m.variance]);
 * x.dispose();
 * ```
 */
export function channelMoments(x: tf.Tensor): { mean: tf.Tensor; variance: tf.Tensor } | null {
  const rows = x.rank >= 2 ? x.size / x.shape[x.rank - 1]! : 0;
  if (
    tf.getBackend() !== 'wasm' ||
    tf.getKernel(MOMENTS_KERNEL, 'wasm') === undefined ||
    x.dtype !== 'float32' ||
    !(rows >= 1)
  ) {
    return null;
  }
  const [mean, variance] = tf.engine().runKernel(MOMENTS_KERNEL, { x }, {}) as tf.Tensor[];
  return { mean: mean!, variance: variance! };
}
