import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@gradflow/core';
import {
  NormLayerBase,
  broadcastShape,
  channelAxis,
  checkBoolean,
  checkEpsilon,
  getShape,
  oneTensor,
  range,
} from './base.js';
import { channelMoments } from '@gradflow/backend-wasm';
import { momentsOver, normalize } from './kernel.js';
import { serializeInitializer, toInitializer, type Initializer, type InitializerOption } from './init.js';
import {
  addRunningStats,
  resolveAveraging,
  resolveNonFinite,
  updateRunningStats,
  type Averaging,
  type NonFinitePolicy,
  type RunningStats,
  type RunningStatsOptions,
} from './running-stats.js';

/**
 * Options of {@link BatchNorm} (and of `batch_norm` / `frozen_batch_norm` in {@link normLayer}).
 * The running-statistics options (`momentum`, `decay`, `onNonFinite`) are {@link RunningStatsOptions}.
 */
export interface BatchNormOptions extends RunningStatsOptions {
  /** The channel (feature) axis: statistics are per index of this axis (default -1, NHWC). */
  axis?: number;
  /** Added to the variance (default 1e-5, PyTorch's; Keras uses 1e-3). */
  epsilon?: number;
  /** Learn an offset β (default true). */
  center?: boolean;
  /** Learn a scale γ (default true). */
  scale?: boolean;
  /** Initializer of γ (default ones; `'zeros'` for the last norm of a residual branch). */
  gammaInitializer?: InitializerOption;
  /** Initializer of β (default zeros). */
  betaInitializer?: InitializerOption;
  /**
   * FrozenBatchNorm: always normalize with the running statistics, never update them, and keep
   * γ and β non-trainable (detectron2/torchvision `FrozenBatchNorm2d`). Registered as its own
   * name, `frozen_batch_norm`, which is this layer with `frozen: true`.
   */
  frozen?: boolean;
  name?: string;
  trainable?: boolean;
  inputShape?: tf.Shape;
  batchInputShape?: tf.Shape;
  dtype?: tf.DataType;
}

/**
 * The batch's mean and variance with kept dims: channels last on wasm in one pass over x
 * (@gradflow/backend-wasm's channelMoments), else momentsOver's two passes.
 */
function batchMoments(
  x: tf.Tensor,
  axis: number,
  bshape: number[],
  reduceAxes: number[],
): { mean: tf.Tensor; variance: tf.Tensor } {
  const fused = axis === x.rank - 1 ? channelMoments(x) : null;
  if (!fused) return momentsOver(x, reduceAxes);
  return { mean: tf.reshape(fused.mean, bshape), variance: tf.reshape(fused.variance, bshape) };
}

/**
 * Batch normalization with PyTorch's numerics in NHWC (or any layout, any rank).
 *
 * Training call: normalize with the batch statistics (biased variance), then fold the batch mean
 * and the UNBIASED batch variance (× n/(n−1), as PyTorch) into the running statistics. Inference
 * call: normalize with the running statistics. Differences from tfjs-layers' `batchNormalization`:
 * PyTorch defaults (ε = 1e-5, momentum 0.1 = weight of the new batch; Keras's 0.99 is `decay`),
 * unbiased running variance, `scale: false` / `center: false` work in training (tfjs#2868),
 * any rank and axis, a hand-written gradient (no `Tile`), and typed errors.
 *
 * A training call with one value per channel (batch 1 of a dense input, or N·H·W = 1) throws a
 * `ShapeError` before touching any state, as PyTorch does ("Expected more than 1 value per
 * channel when training"): the batch variance is 0, the output would be β everywhere and the
 * unbiased running variance is undefined (n − 1 = 0).
 *
 * @example
 * ```ts
 * const bn = new BatchNorm({ momentum: 0.1 }); // PyTorch convention: weight of the new batch
 * // new BatchNorm({ decay: 0.99 })   Keras convention: weight of the old value
 * // new BatchNorm({ momentum: null }) cumulative average
 * const x = tf.randomNormal([16, 4, 4, 8], 5, 2); // NHWC, mean 5, std 2
 * const y = bn.apply(x, { training: true }) as tf.Tensor; // batch statistics; updates running ones
 * const [mean, variance] = tf.tidy(() => {
 *   const m = tf.moments(y, [0, 1, 2]); // per channel
 *   return [m.mean.abs().max().dataSync()[0]!, m.variance.mean().dataSync()[0]!];
 * });
 * if (mean > 1e-3 || Math.abs(variance - 1) > 1e-2) throw new Error(`${mean} ${variance}`);
 * // The running mean moved 10% of the way from 0 towards the batch mean (≈ 5):
 * const running = tf.tidy(() => bn.getWeights()[2]!.mean().dataSync()[0]!); // [γ, β, mean, var]
 * if (Math.abs(running - 0.5) > 0.1) throw new Error(`running mean ${running}`);
 * tf.dispose([x, y]);
 * bn.dispose();
 * ```
 */
export class BatchNorm extends NormLayerBase {
  static readonly className = 'GradflowBatchNorm';
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly frozen: boolean;
  readonly averaging: Averaging;
  readonly onNonFinite: NonFinitePolicy;
  private readonly momentumOption: number | null | undefined;
  private readonly decayOption: number | undefined;
  private readonly gammaInit: Initializer;
  private readonly betaInit: Initializer;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;
  private running: RunningStats | null = null;
  private builtAxis = -1;
  private builtRank = 0;

  constructor(options: BatchNormOptions = {}) {
    super(options);
    this.axis = options.axis ?? -1;
    this.epsilon = checkEpsilon(options.epsilon ?? 1e-5);
    this.center = checkBoolean('center', options.center ?? true);
    this.scale = checkBoolean('scale', options.scale ?? true);
    this.frozen = checkBoolean('frozen', options.frozen ?? false);
    this.averaging = resolveAveraging(options);
    this.momentumOption =
      options.decay !== undefined ? undefined : options.momentum === null ? null : (options.momentum ?? 0.1);
    this.decayOption = options.decay;
    this.onNonFinite = resolveNonFinite(options.onNonFinite);
    this.gammaInit = toInitializer('gammaInitializer', options.gammaInitializer, 'ones');
    this.betaInit = toInitializer('betaInitializer', options.betaInitializer, 'zeros');
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = getShape(inputShape);
    const axis = channelAxis(this.axis, shape.length);
    const channels = shape[axis];
    if (channels === null || channels === undefined)
      throw new ShapeError('input', shape, `a defined size on the channel axis ${axis}`);
    this.builtAxis = axis;
    this.builtRank = shape.length;
    const affineTrainable = !this.frozen;
    if (this.scale)
      this.gamma = this.addWeight('gamma', [channels], 'float32', this.gammaInit, undefined, affineTrainable);
    if (this.center)
      this.beta = this.addWeight('beta', [channels], 'float32', this.betaInit, undefined, affineTrainable);
    this.running = addRunningStats(this.addStateWeight, channels, this.averaging);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const rank = this.builtRank;
      const axis = this.builtAxis;
      const channels = this.running!.mean.shape[0]!;
      this.checkInput(x, rank, { [axis]: channels });
      const training = !this.frozen && (kwargs?.training ?? false);
      const bshape = broadcastShape(rank, [axis], [channels]);
      const reduceAxes = range(rank).filter((a) => a !== axis);
      const gamma = this.gamma ? tf.reshape(this.gamma.read(), bshape) : null;
      const beta = this.beta ? tf.reshape(this.beta.read(), bshape) : null;

      if (!training) {
        const mean = tf.reshape(this.running!.mean.read(), bshape);
        const variance = tf.reshape(this.running!.variance.read(), bshape);
        const invStd = tf.rsqrt(tf.add(variance, this.epsilon));
        // y = x·s + o with per-channel s = γ/√(σ²+ε), o = β − μ·s: two element-wise passes,
        // and autodiff of a broadcast mul/add is cheap (used when training on top of a frozen BN).
        const s = gamma ? tf.mul(gamma, invStd) : invStd;
        const o = beta ? tf.sub(beta, tf.mul(mean, s)) : tf.neg(tf.mul(mean, s));
        this.recordCall(x, false, () => s);
        return tf.add(tf.mul(x, s), o);
      }

      const n = reduceAxes.reduce((k, a) => k * x.shape[a]!, 1);
      if (n <= 1) {
        throw new ShapeError(
          `training input of layer '${this.name}'`,
          x.shape,
          'more than 1 value per channel when training (as PyTorch)',
          'the batch variance of one value is 0 and the unbiased running variance is undefined; use a batch > 1, call with training: false, or use group_norm/layer_norm',
        );
      }
      const { mean, variance } = batchMoments(x, axis, bshape, reduceAxes);
      updateRunningStats(
        this.running!,
        tf.reshape(mean, [channels]),
        tf.mul(tf.reshape(variance, [channels]), n / (n - 1)),
        this.averaging,
        this.onNonFinite,
        this.name,
      );
      this.recordCall(
        x,
        true,
        () =>
          gamma
            ? tf.mul(gamma, tf.rsqrt(tf.add(variance, this.epsilon)))
            : tf.rsqrt(tf.add(variance, this.epsilon)),
        mean,
        variance,
      );
      return normalize({
        x,
        mean,
        variance,
        epsilon: this.epsilon,
        statAxes: reduceAxes,
        gamma,
        beta,
        paramReduceAxes: reduceAxes,
      });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      frozen: this.frozen,
      onNonFinite: this.onNonFinite,
      gammaInitializer: serializeInitializer(this.gammaInit) as unknown as tf.serialization.ConfigDict,
      betaInitializer: serializeInitializer(this.betaInit) as unknown as tf.serialization.ConfigDict,
    };
    if (this.decayOption !== undefined) config.decay = this.decayOption;
    else config.momentum = this.momentumOption ?? null;
    return { ...config, ...super.getConfig() };
  }
}
