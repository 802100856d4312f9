import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, normalizeAxis } from '@gradflow/core';
import type { AddStateWeight } from './running-stats.js';

/**
 * What a normalization layer saw on its last recorded call, for the gradient probe.
 *
 * - `inputMean`, `inputVar`: mean and (biased) variance of every element of the input.
 * - `effectiveScale`: the mean, over the normalized channels / groups / samples, of the factor
 *   |γ|·(σ² + ε)^(-1/2) by which the layer multiplies its centred input (σ² is the statistic the
 *   call actually used: batch statistics in training, running statistics in inference). A value
 *   far above 1 means the layer amplifies small inputs (and their gradients) by that much.
 * - `training`: whether that call ran in training mode.
 */
export interface NormStats {
  inputMean: number;
  inputVar: number;
  effectiveScale: number;
  training: boolean;
}

/** A layer that can report {@link NormStats}; every layer of this package is one. */
export interface NormStatsProvider {
  /** Set to true to record statistics on each call (off by default: it costs a device read). */
  recordStats: boolean;
  /** Statistics of the last call made while `recordStats` was true, or null. */
  normStats(): NormStats | null;
}

/**
 * True when `layer` reports normalization statistics (every layer of this package does): a
 * type guard for probes that walk a model's layers.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 8, inputShape: [4] }), new LayerNorm(), tf.layers.dense({ units: 1 })],
 * });
 * const norms = model.layers.filter(hasNormStats); // NormStatsProvider[]
 * if (norms.length !== 1) throw new Error(`${norms.length} norm layers`);
 * model.dispose();
 * ```
 */
export function hasNormStats(layer: unknown): layer is NormStatsProvider {
  return (
    typeof layer === 'object' &&
    layer !== null &&
    typeof (layer as { normStats?: unknown }).normStats === 'function' &&
    'recordStats' in layer
  );
}

/**
 * Base of the layers here: the probe statistics and a few shape helpers. Statistics are read
 * back as three numbers inside the call (one tiny device read, only while `recordStats` is on),
 * so no tensor is kept alive between calls.
 *
 * @example
 * ```ts
 * const layer: NormLayerBase = new GroupNorm({ groups: 2 });
 * layer.recordStats = true; // costs one small device read per call
 * const x = tf.randomNormal([2, 4, 4, 8], 0, 3);
 * tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
 * const stats = layer.normStats(); // { inputMean, inputVar, effectiveScale, training }
 * if (stats === null || !stats.training) throw new Error('no statistics recorded');
 * // The layer divides by σ ≈ 3, so it scales its input (and its gradient) by about 1/3.
 * if (Math.abs(stats.effectiveScale - 1 / 3) > 0.05) throw new Error(String(stats.effectiveScale));
 * x.dispose();
 * layer.dispose();
 * ```
 */
export abstract class NormLayerBase extends tf.layers.Layer implements NormStatsProvider {
  /** Set to true to record {@link NormStats} on each call (off by default). */
  recordStats = false;
  private lastStats: NormStats | null = null;

  /** `addWeight` for the running statistics: float32, not trainable (see `addRunningStats`). */
  protected readonly addStateWeight: AddStateWeight = (name, shape, init) =>
    this.addWeight(name, shape, 'float32', init, undefined, false);

  /** Statistics of the last call made while `recordStats` was true (a copy), or null. */
  normStats(): NormStats | null {
    return this.lastStats === null ? null : { ...this.lastStats };
  }

  /**
   * Records the statistics of a call. `groupMean`/`groupVar` are per-group statistics over
   * equal-sized groups that cover the input (reused so no extra pass over x is needed);
   * without them the input moments are computed here. `scale` is the per-channel/-group factor
   * |γ|·(σ²+ε)^(-1/2) (any shape).
   */
  protected recordCall(
    x: tf.Tensor,
    training: boolean,
    scale: () => tf.Tensor,
    groupMean?: tf.Tensor,
    groupVar?: tf.Tensor,
  ): void {
    if (!this.recordStats) return;
    const values = tf.tidy(() => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (groupMean && groupVar) {
        // Law of total variance over equal-sized groups.
        mean = tf.mean(groupMean);
        variance = tf.add(tf.mean(groupVar), tf.mean(tf.squaredDifference(groupMean, mean)));
      } else {
        ({ mean, variance } = tf.moments(x));
      }
      return tf.stack([tf.reshape(mean, []), tf.reshape(variance, []), tf.mean(tf.abs(scale()))]).dataSync();
    });
    this.lastStats = { inputMean: values[0]!, inputVar: values[1]!, effectiveScale: values[2]!, training };
  }

  /** Checks that a call's input has the rank and channel size the layer was built for. */
  protected checkInput(x: tf.Tensor, rank: number, fixed: Record<number, number>): void {
    const bad = x.rank !== rank || Object.entries(fixed).some(([axis, dim]) => x.shape[Number(axis)] !== dim);
    if (bad) {
      const expected = Array.from({ length: rank }, (_, i) => fixed[i] ?? '*');
      throw new ShapeError(
        `input of layer '${this.name}'`,
        x.shape,
        `[${expected.join(', ')}] (the shape it was built for)`,
      );
    }
  }
}

/** Resolves the channel axis of a norm layer: any axis but the batch axis 0. */
export function channelAxis(axis: number, rank: number): number {
  if (rank < 2)
    throw new ShapeError('input', `rank ${rank}`, 'rank >= 2 (batch and at least one feature axis)');
  const a = normalizeAxis(axis, rank);
  if (a === 0)
    throw new InvalidArgumentError(
      'axis',
      axis,
      `an integer in [1, ${rank - 1}] or [${-rank + 1}, -1] for rank ${rank}`,
      'axis 0 is the batch axis',
    );
  return a;
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Shape of rank `rank` with 1 everywhere except `dims` at `axes`. */
export function broadcastShape(rank: number, axes: number[], dims: number[]): number[] {
  const shape = new Array<number>(rank).fill(1);
  axes.forEach((a, i) => (shape[a] = dims[i]!));
  return shape;
}

export function checkEpsilon(epsilon: unknown): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new InvalidArgumentError('epsilon', epsilon, 'a finite number > 0');
  }
  return epsilon;
}

export function checkBoolean(argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, value, 'true or false');
  return value;
}

export function getShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  const shape = Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : (inputShape as tf.Shape);
  return shape;
}

export function oneTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}
