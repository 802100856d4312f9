import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, checkInteger } from '@gradflow/core';
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

/** Options shared by {@link GroupNorm} and {@link InstanceNorm}. */
interface ChannelNormBaseOptions {
  /** The channel axis (default -1, NHWC). */
  axis?: number;
  /** Added to the variance (default 1e-5, PyTorch's). */
  epsilon?: number;
  /** Initializer of γ (default ones). */
  gammaInitializer?: InitializerOption;
  /** Initializer of β (default zeros). */
  betaInitializer?: InitializerOption;
  name?: string;
  trainable?: boolean;
  inputShape?: tf.Shape;
  batchInputShape?: tf.Shape;
  dtype?: tf.DataType;
}

/** Options of {@link GroupNorm} (and of `group_norm` in {@link normLayer}). */
export interface GroupNormOptions extends ChannelNormBaseOptions {
  /** Number of groups; must divide the channels (default 32 when `groupSize` is not given). */
  groups?: number;
  /** Channels per group (timm's `group_size`), instead of `groups`; must divide the channels. */
  groupSize?: number;
  /** Learn an offset β per channel (default true). */
  center?: boolean;
  /** Learn a scale γ per channel (default true). */
  scale?: boolean;
}

/**
 * Group normalization (Wu & He 2018): channels split into `groups` contiguous groups; per sample
 * and group, normalize over the spatial axes and the group's channels; then per-channel γ, β.
 * Equals PyTorch's `GroupNorm(groups, C)` in NHWC. Same in training and inference. A channel
 * count not divisible by the groups is an `InvalidArgumentError` when the layer is built.
 *
 * @example
 * ```ts
 * const gn = new GroupNorm({ groups: 4 }); // or { groupSize: 4 }: 16 channels either way
 * const x = tf.randomNormal([2, 8, 8, 16], 2, 3); // NHWC
 * const y = gn.apply(x) as tf.Tensor;
 * // Per sample and group of 4 channels: mean 0, variance 1.
 * const [mean, variance] = tf.tidy(() => {
 *   const m = tf.moments(tf.reshape(y, [2, 8, 8, 4, 4]), [1, 2, 4]);
 *   return [m.mean.abs().max().dataSync()[0]!, m.variance.mean().dataSync()[0]!];
 * });
 * if (mean > 1e-4 || Math.abs(variance - 1) > 1e-3) throw new Error(`${mean} ${variance}`);
 * tf.dispose([x, y]);
 * gn.dispose();
 * ```
 */
export class GroupNorm extends NormLayerBase {
  static readonly className = 'GradflowGroupNorm';
  readonly axis: number;
  readonly epsilon: number;
  readonly groups: number | undefined;
  readonly groupSize: number | undefined;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly gammaInit: Initializer;
  private readonly betaInit: Initializer;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;
  private builtAxis = -1;
  private builtRank = 0;
  private channels = 0;
  private numGroups = 0;

  constructor(options: GroupNormOptions = {}) {
    super(options);
    if (options.groups !== undefined && options.groupSize !== undefined) {
      throw new InvalidArgumentError(
        'groups/groupSize',
        { groups: options.groups, groupSize: options.groupSize },
        'only one of them',
      );
    }
    this.groups = options.groups === undefined ? undefined : checkInteger('groups', options.groups);
    this.groupSize =
      options.groupSize === undefined ? undefined : checkInteger('groupSize', options.groupSize);
    this.axis = options.axis ?? -1;
    this.epsilon = checkEpsilon(options.epsilon ?? 1e-5);
    this.center = checkBoolean('center', options.center ?? true);
    this.scale = checkBoolean('scale', options.scale ?? true);
    this.gammaInit = toInitializer('gammaInitializer', options.gammaInitializer, 'ones');
    this.betaInit = toInitializer('betaInitializer', options.betaInitializer, 'zeros');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = getShape(inputShape);
    const axis = channelAxis(this.axis, shape.length);
    const channels = shape[axis];
    if (channels === null || channels === undefined)
      throw new ShapeError('input', shape, `a defined size on the channel axis ${axis}`);
    let groups: number;
    if (this.groupSize !== undefined) {
      if (channels % this.groupSize !== 0)
        throw new InvalidArgumentError('groupSize', this.groupSize, `a divisor of the ${channels} channels`);
      groups = channels / this.groupSize;
    } else {
      groups = this.groups ?? 32;
      if (channels % groups !== 0) {
        throw new InvalidArgumentError(
          'groups',
          groups,
          `a divisor of the ${channels} channels`,
          `e.g. { name: 'group_norm', groups: ${largestDivisorAtMost(channels, groups)} }`,
        );
      }
    }
    this.builtAxis = axis;
    this.builtRank = shape.length;
    this.channels = channels;
    this.numGroups = groups;
    if (this.scale)
      this.gamma = this.addWeight('gamma', [channels], 'float32', this.gammaInit, undefined, true);
    if (this.center)
      this.beta = this.addWeight('beta', [channels], 'float32', this.betaInit, undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const axis = this.builtAxis;
      const rank = this.builtRank;
      this.checkInput(x, rank, { [axis]: this.channels });
      const g = this.numGroups;
      const perGroup = this.channels / g;
      const c = this.channels;
      const n = x.shape[0]!;
      // Channel view [N, B, C, A] (B, A: products of the axes before/after the channels, dropped
      // when 1). The work runs on per-(sample, channel) statistics, constant within a group, so
      // every broadcast is [N, 1, C]-like (tfjs-wasm broadcasts [N, 1, G, 1] against
      // [N, S, G, C/G] an order of magnitude slower); group sums are taken on those small tensors.
      const before = x.shape.slice(1, axis).reduce((p, d) => p * d, 1);
      const after = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
      const view = [n, ...(before > 1 ? [before] : []), c, ...(after > 1 ? [after] : [])];
      const cAxis = before > 1 ? 2 : 1;
      const xv = tf.reshape(x, view);
      const statAxes = range(view.length).filter((a) => a !== 0 && a !== cAxis);
      const paramReduceAxes = range(view.length).filter((a) => a !== cAxis);
      const pshape = broadcastShape(view.length, [cAxis], [c]);
      const gamma = this.gamma ? tf.reshape(this.gamma.read(), pshape) : null;
      const beta = this.beta ? tf.reshape(this.beta.read(), pshape) : null;
      // Per-channel moments, then the group's by the law of total variance (two-pass stable).
      const { mean: channelMean, variance: channelVar } = momentsOver(xv, statAxes);
      const statShape = channelMean.shape;
      const grouped = (t: tf.Tensor) => tf.reshape(t, [n, g, perGroup]);
      // `combine` also runs in the backward pass, after this call's tidy: it captures no tensor.
      const expand = (t: tf.Tensor) => tf.reshape(tf.mul(t, tf.ones([1, 1, perGroup])), statShape);
      const groupMean = tf.mean(grouped(channelMean), 2, true);
      const groupVar = tf.mean(
        tf.add(grouped(channelVar), tf.squaredDifference(grouped(channelMean), groupMean)),
        2,
        true,
      );
      const combine = (t: tf.Tensor) => expand(tf.sum(grouped(t), 2, true));
      this.recordCall(
        x,
        kwargs?.training ?? false,
        () => tf.mul(gamma ? tf.mean(tf.abs(gamma)) : 1, tf.mean(tf.rsqrt(tf.add(groupVar, this.epsilon)))),
        groupMean,
        groupVar,
      );
      const count = statAxes.reduce((k, a) => k * view[a]!, 1) * perGroup;
      const y = normalize({
        x: xv,
        mean: expand(groupMean),
        variance: expand(groupVar),
        epsilon: this.epsilon,
        statAxes,
        gamma,
        beta,
        paramReduceAxes,
        combine,
        statCount: count,
      });
      return tf.reshape(y, x.shape);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: serializeInitializer(this.gammaInit) as unknown as tf.serialization.ConfigDict,
      betaInitializer: serializeInitializer(this.betaInit) as unknown as tf.serialization.ConfigDict,
    };
    if (this.groupSize !== undefined) config.groupSize = this.groupSize;
    else config.groups = this.groups ?? 32;
    return { ...config, ...super.getConfig() };
  }
}

function largestDivisorAtMost(n: number, k: number): number {
  for (let d = Math.min(n, k); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * Options of {@link InstanceNorm} (and of `instance_norm` in {@link normLayer}); the
 * running-statistics options only matter with `trackRunningStats`.
 */
export interface InstanceNormOptions extends ChannelNormBaseOptions, RunningStatsOptions {
  /** Learn per-channel γ and β (PyTorch's `affine`, default false as in PyTorch). */
  affine?: boolean;
  /**
   * Keep running statistics (PyTorch's `track_running_stats`, default false). Training calls
   * normalize with the instance statistics and fold their batch mean (unbiased variances) into
   * the running ones; inference calls then normalize with the running statistics.
   */
  trackRunningStats?: boolean;
}

/**
 * Instance normalization (Ulyanov et al. 2016) with PyTorch's `InstanceNorm{1,2,3}d` semantics
 * in channels-last layout: per sample and channel, normalize over the spatial axes. Without
 * `trackRunningStats` it behaves the same in training and inference; with it, inference uses the
 * running statistics (like BatchNorm). A training call with a single spatial element throws a
 * `ShapeError` (PyTorch: "Expected more than 1 spatial element when training"): the output would
 * be β regardless of the input.
 *
 * @example
 * ```ts
 * const inorm = new InstanceNorm({ affine: true }); // PyTorch's InstanceNorm2d(C, affine=True)
 * const x = tf.randomNormal([2, 6, 6, 3], -1, 5); // NHWC
 * const y = inorm.apply(x) as tf.Tensor;
 * // Per sample and channel, over the spatial axes: mean 0, variance 1.
 * const [mean, variance] = tf.tidy(() => {
 *   const m = tf.moments(y, [1, 2]);
 *   return [m.mean.abs().max().dataSync()[0]!, m.variance.mean().dataSync()[0]!];
 * });
 * if (mean > 1e-4 || Math.abs(variance - 1) > 1e-3) throw new Error(`${mean} ${variance}`);
 * tf.dispose([x, y]);
 * inorm.dispose();
 * ```
 */
export class InstanceNorm extends NormLayerBase {
  static readonly className = 'GradflowInstanceNorm';
  readonly axis: number;
  readonly epsilon: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
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
  private channels = 0;

  constructor(options: InstanceNormOptions = {}) {
    super(options);
    this.axis = options.axis ?? -1;
    this.epsilon = checkEpsilon(options.epsilon ?? 1e-5);
    this.affine = checkBoolean('affine', options.affine ?? false);
    this.trackRunningStats = checkBoolean('trackRunningStats', options.trackRunningStats ?? false);
    this.averaging = resolveAveraging(options);
    this.momentumOption =
      options.decay !== undefined ? undefined : options.momentum === null ? null : (options.momentum ?? 0.1);
    this.decayOption = options.decay;
    this.onNonFinite = resolveNonFinite(options.onNonFinite);
    if (!this.affine && options.gammaInitializer !== undefined) {
      throw new InvalidArgumentError(
        'gammaInitializer',
        'given',
        'no gammaInitializer when affine is false',
        "instance_norm has no γ unless { name: 'instance_norm', affine: true }",
      );
    }
    this.gammaInit = toInitializer('gammaInitializer', options.gammaInitializer, 'ones');
    this.betaInit = toInitializer('betaInitializer', options.betaInitializer, 'zeros');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = getShape(inputShape);
    if (shape.length < 3)
      throw new ShapeError(
        'input',
        shape,
        'rank >= 3 ([batch, ...spatial, channels]): instance norm needs spatial axes',
      );
    const axis = channelAxis(this.axis, shape.length);
    const channels = shape[axis];
    if (channels === null || channels === undefined)
      throw new ShapeError('input', shape, `a defined size on the channel axis ${axis}`);
    this.builtAxis = axis;
    this.builtRank = shape.length;
    this.channels = channels;
    if (this.affine) {
      this.gamma = this.addWeight('gamma', [channels], 'float32', this.gammaInit, undefined, true);
      this.beta = this.addWeight('beta', [channels], 'float32', this.betaInit, undefined, true);
    }
    if (this.trackRunningStats) {
      this.running = addRunningStats(this.addStateWeight, channels, this.averaging);
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const axis = this.builtAxis;
      const rank = this.builtRank;
      const c = this.channels;
      this.checkInput(x, rank, { [axis]: c });
      const training = kwargs?.training ?? false;
      const bshape = broadcastShape(rank, [axis], [c]);
      const statAxes = range(rank).filter((a) => a !== 0 && a !== axis);
      const paramReduceAxes = range(rank).filter((a) => a !== axis);
      const gamma = this.gamma ? tf.reshape(this.gamma.read(), bshape) : null;
      const beta = this.beta ? tf.reshape(this.beta.read(), bshape) : null;

      if (this.running && !training) {
        const mean = tf.reshape(this.running.mean.read(), bshape);
        const variance = tf.reshape(this.running.variance.read(), bshape);
        const s = gamma
          ? tf.mul(gamma, tf.rsqrt(tf.add(variance, this.epsilon)))
          : tf.rsqrt(tf.add(variance, this.epsilon));
        const o = beta ? tf.sub(beta, tf.mul(mean, s)) : tf.neg(tf.mul(mean, s));
        this.recordCall(x, false, () => s);
        return tf.add(tf.mul(x, s), o);
      }
      const spatial = statAxes.reduce((k, a) => k * x.shape[a]!, 1);
      if (training && spatial <= 1) {
        throw new ShapeError(
          `training input of layer '${this.name}'`,
          x.shape,
          'more than 1 spatial element when training (as PyTorch)',
          'the instance variance of one value is 0',
        );
      }
      const { mean, variance } = momentsOver(x, statAxes);
      if (this.running && training) {
        // PyTorch: the running statistics take the batch mean of the per-instance statistics,
        // with each instance's variance unbiased over its spatial elements.
        const batchMean = tf.reshape(tf.mean(mean, 0), [c]);
        const batchVar = tf.reshape(tf.mul(tf.mean(variance, 0), spatial / (spatial - 1)), [c]);
        updateRunningStats(this.running, batchMean, batchVar, this.averaging, this.onNonFinite, this.name);
      }
      this.recordCall(
        x,
        training,
        () => tf.mul(gamma ? tf.mean(tf.abs(gamma)) : 1, tf.mean(tf.rsqrt(tf.add(variance, this.epsilon)))),
        mean,
        variance,
      );
      return normalize({ x, mean, variance, epsilon: this.epsilon, statAxes, gamma, beta, paramReduceAxes });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      axis: this.axis,
      epsilon: this.epsilon,
      affine: this.affine,
      trackRunningStats: this.trackRunningStats,
      onNonFinite: this.onNonFinite,
    };
    if (this.affine) {
      config.gammaInitializer = serializeInitializer(
        this.gammaInit,
      ) as unknown as tf.serialization.ConfigDict;
      config.betaInitializer = serializeInitializer(this.betaInit) as unknown as tf.serialization.ConfigDict;
    }
    if (this.decayOption !== undefined) config.decay = this.decayOption;
    else config.momentum = this.momentumOption ?? null;
    return { ...config, ...super.getConfig() };
  }
}
