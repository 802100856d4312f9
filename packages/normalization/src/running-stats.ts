import * as tf from '@tensorflow/tfjs';
import { GradflowError, InvalidArgumentError, checkOneOf } from '@gradflow/core';
import type { Initializer } from './init.js';

/**
 * How running statistics are averaged. Two conventions exist with opposite meanings, so they
 * have different option names and giving both is an error:
 *
 * - `momentum` — PyTorch's: the weight of the NEW batch, `running = (1 − momentum)·running +
 *   momentum·batch` (default 0.1). `momentum: null` is PyTorch's cumulative moving average
 *   (`running` is the plain mean of every batch seen so far).
 * - `decay` — Keras/TensorFlow's `momentum`: the weight of the OLD value,
 *   `running = decay·running + (1 − decay)·batch` (0.99 in Keras). `decay: d` is `momentum: 1 − d`.
 *
 * `momentum` above 0.5 is refused: that is almost always a Keras/tfjs value (0.9, 0.99) given
 * under the PyTorch name; pass it as `decay` (or, if you really mean it, `decay: 1 − momentum`).
 */
export interface RunningStatsOptions {
  /** PyTorch convention: weight of the new batch, in [0, 0.5]; null for a cumulative average. */
  momentum?: number | null;
  /** Keras convention: weight of the old running value, in [0, 1]. */
  decay?: number;
  /**
   * What a training call does when the batch statistics are not finite (the input had a NaN or
   * an infinity): `'skip'` (default: skip the update) leaves the running statistics as they were (the
   * output is NaN, as in PyTorch, but the layer's state is not poisoned); `'throw'` raises a
   * `GradflowError` before any state is written (costs one device read per call).
   */
  onNonFinite?: NonFinitePolicy;
}

/**
 * The accepted values of the `onNonFinite` option ({@link RunningStatsOptions}).
 *
 * @example
 * ```ts
 * if (NON_FINITE_POLICIES.join() !== 'skip,throw') throw new Error(NON_FINITE_POLICIES.join());
 * // 'throw': a training call on a non-finite batch raises before any state is written.
 * const bn = new BatchNorm({ onNonFinite: 'throw' });
 * const x = tf.tensor2d([[NaN, 1], [2, 3]]);
 * let message = '';
 * try {
 *   bn.apply(x, { training: true });
 * } catch (e) {
 *   message = (e as Error).message; // a GradflowError; the running statistics are unchanged
 * }
 * if (!message.includes('not finite')) throw new Error(`expected a non-finite error, got '${message}'`);
 * x.dispose();
 * bn.dispose();
 * ```
 */
export const NON_FINITE_POLICIES = ['skip', 'throw'] as const;
/** What a training call does when its batch statistics are not finite: `'skip'` the update or `'throw'`. */
export type NonFinitePolicy = (typeof NON_FINITE_POLICIES)[number];

/** The resolved averaging rule: a fixed factor (weight of the new batch) or cumulative. */
export type Averaging = { kind: 'exponential'; factor: number } | { kind: 'cumulative' };

export function resolveAveraging(options: RunningStatsOptions): Averaging {
  const hasMomentum = options.momentum !== undefined;
  const hasDecay = options.decay !== undefined && options.decay !== null;
  if (hasMomentum && hasDecay) {
    throw new InvalidArgumentError(
      'momentum/decay',
      { momentum: options.momentum, decay: options.decay },
      'only one of them',
      "momentum is PyTorch's convention (weight of the new batch, 0.1), decay is Keras's (weight of the old value, 0.99)",
    );
  }
  if (hasDecay) {
    const d = options.decay;
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > 1) {
      throw new InvalidArgumentError(
        'decay',
        d,
        'a number in [0, 1] (Keras convention: weight of the old running value, e.g. 0.99)',
      );
    }
    return { kind: 'exponential', factor: 1 - d };
  }
  if (options.momentum === null) return { kind: 'cumulative' };
  const m = options.momentum ?? 0.1;
  if (typeof m !== 'number' || !Number.isFinite(m) || m < 0 || m > 0.5) {
    throw new InvalidArgumentError(
      'momentum',
      m,
      'a number in [0, 0.5] (PyTorch convention: weight of the new batch, e.g. 0.1) or null (cumulative average)',
      typeof m === 'number' && m > 0.5 && m <= 1
        ? `for the Keras/tfjs convention pass decay: ${m}`
        : undefined,
    );
  }
  return { kind: 'exponential', factor: m };
}

export function resolveNonFinite(value: unknown): NonFinitePolicy {
  return checkOneOf('onNonFinite', value ?? 'skip', NON_FINITE_POLICIES);
}

/** The running-statistics weights of a layer. */
export interface RunningStats {
  mean: tf.LayerVariable;
  variance: tf.LayerVariable;
  /** Number of batches folded in (only kept for the cumulative average, as a float32 scalar). */
  count: tf.LayerVariable | null;
}

/** A layer's `addWeight` for a non-trainable float32 weight (bound in its `build`). */
export type AddStateWeight = (name: string, shape: number[], init: Initializer) => tf.LayerVariable;

/**
 * Creates the running-statistics weights in a layer's `build`, under Keras's and PyTorch's names:
 * `moving_mean` (zeros), `moving_variance` (ones) and, for the cumulative average only,
 * `num_batches_tracked`.
 */
export function addRunningStats(add: AddStateWeight, channels: number, averaging: Averaging): RunningStats {
  return {
    mean: add('moving_mean', [channels], tf.initializers.zeros()),
    variance: add('moving_variance', [channels], tf.initializers.ones()),
    count: averaging.kind === 'cumulative' ? add('num_batches_tracked', [], tf.initializers.zeros()) : null,
  };
}

/**
 * Folds one batch's statistics (`batchMean`, unbiased `batchVar`, both of the running shape)
 * into the running statistics. All validation happens before the first write; a non-finite
 * batch either throws (nothing written) or leaves every running value as it was.
 */
export function updateRunningStats(
  stats: RunningStats,
  batchMean: tf.Tensor,
  batchVar: tf.Tensor,
  averaging: Averaging,
  policy: NonFinitePolicy,
  layerName: string,
): void {
  tf.tidy(() => {
    const finite = tf.logicalAnd(tf.all(tf.isFinite(batchMean)), tf.all(tf.isFinite(batchVar)));
    if (policy === 'throw' && !finite.dataSync()[0]) {
      throw new GradflowError(
        'INVALID_ARGUMENT',
        `layer '${layerName}': the batch statistics are not finite (the input holds NaN or Infinity); running statistics left unchanged`,
        {
          value: 'non-finite input',
          accepted: 'finite inputs',
        },
      );
    }
    const oldMean = stats.mean.read();
    const oldVar = stats.variance.read();
    let factor: tf.Tensor | number;
    let newCount: tf.Tensor | null = null;
    if (averaging.kind === 'cumulative') {
      newCount = tf.add(stats.count!.read(), tf.cast(finite, 'float32'));
      factor = tf.div(1, tf.maximum(newCount, 1));
    } else {
      factor = averaging.factor;
    }
    const keep = tf.sub(1, factor);
    const candMean = tf.add(tf.mul(oldMean, keep), tf.mul(batchMean, factor));
    const candVar = tf.add(tf.mul(oldVar, keep), tf.mul(batchVar, factor));
    const ok = tf.logicalAnd(finite, tf.onesLike(oldMean).cast('bool'));
    stats.mean.write(tf.where(ok, candMean, oldMean));
    stats.variance.write(tf.where(ok, candVar, oldVar));
    if (newCount) stats.count!.write(newCount);
  });
}
