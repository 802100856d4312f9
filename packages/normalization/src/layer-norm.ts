import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError } from '@gradflow/core';
import {
  NormLayerBase,
  channelAxis,
  checkBoolean,
  checkEpsilon,
  getShape,
  oneTensor,
  range,
} from './base.js';
import { meanSquareOver, momentsOver, normalize } from './kernel.js';
import { serializeInitializer, toInitializer, type Initializer, type InitializerOption } from './init.js';

/** Options of {@link LayerNorm} and {@link RMSNorm} (and of `layer_norm` / `rms_norm` in {@link normLayer}). */
export interface AxesNormOptions {
  /**
   * The normalized axis or axes (default -1: the channels of NHWC / the features of a sequence).
   * Statistics are per sample over these axes; γ and β have their shape. `[1, 2, 3]` on NHWC is
   * PyTorch's `LayerNorm([C, H, W])` in channels-last layout.
   */
  axis?: number | number[];
  /** Added to the variance (LayerNorm, default 1e-5) or the mean square (RMSNorm, default 1e-6). */
  epsilon?: number;
  /** Learn an offset β (default true for LayerNorm, false for RMSNorm). */
  center?: boolean;
  /** Learn a scale γ (default true). */
  scale?: boolean;
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

/** Shared by LayerNorm (centred) and RMSNorm (uncentred): per-sample statistics over `axis`. */
abstract class AxesNorm extends NormLayerBase {
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  protected readonly gammaInit: Initializer;
  protected readonly betaInit: Initializer;
  protected abstract readonly centred: boolean;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;
  private axes: number[] = [];
  private builtShape: tf.Shape = [];

  constructor(options: AxesNormOptions, defaults: { epsilon: number; center: boolean }) {
    super(options);
    const axis = options.axis ?? -1;
    if (
      Array.isArray(axis)
        ? axis.length === 0 || axis.some((a) => !Number.isInteger(a))
        : !Number.isInteger(axis)
    ) {
      throw new InvalidArgumentError('axis', axis, 'an integer or a non-empty array of integers');
    }
    this.axis = Array.isArray(axis) ? [...axis] : axis;
    this.epsilon = checkEpsilon(options.epsilon ?? defaults.epsilon);
    this.center = checkBoolean('center', options.center ?? defaults.center);
    this.scale = checkBoolean('scale', options.scale ?? true);
    this.gammaInit = toInitializer('gammaInitializer', options.gammaInitializer, 'ones');
    this.betaInit = toInitializer('betaInitializer', options.betaInitializer, 'zeros');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = getShape(inputShape);
    const list = Array.isArray(this.axis) ? this.axis : [this.axis];
    const axes = [...new Set(list.map((a) => channelAxis(a, shape.length)))].sort((a, b) => a - b);
    if (axes.length !== list.length) throw new InvalidArgumentError('axis', this.axis, 'distinct axes');
    for (const a of axes) {
      if (shape[a] === null || shape[a] === undefined)
        throw new ShapeError('input', shape, `a defined size on normalized axis ${a}`);
    }
    this.axes = axes;
    this.builtShape = shape;
    const paramShape = axes.map((a) => shape[a]!);
    if (this.scale)
      this.gamma = this.addWeight('gamma', paramShape, 'float32', this.gammaInit, undefined, true);
    if (this.center)
      this.beta = this.addWeight('beta', paramShape, 'float32', this.betaInit, undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const rank = this.builtShape.length;
      const fixed: Record<number, number> = {};
      for (const a of this.axes) fixed[a] = this.builtShape[a]!;
      this.checkInput(x, rank, fixed);
      const bshape = range(rank).map((a) => fixed[a] ?? 1);
      const otherAxes = range(rank).filter((a) => !this.axes.includes(a));
      const gamma = this.gamma ? tf.reshape(this.gamma.read(), bshape) : null;
      const beta = this.beta ? tf.reshape(this.beta.read(), bshape) : null;
      let mean: tf.Tensor | null = null;
      let variance: tf.Tensor;
      if (this.centred) ({ mean, variance } = momentsOver(x, this.axes));
      else variance = meanSquareOver(x, this.axes);
      const v = variance;
      this.recordCall(
        x,
        kwargs?.training ?? false,
        () =>
          gamma
            ? tf.mul(tf.mean(tf.abs(gamma)), tf.mean(tf.rsqrt(tf.add(v, this.epsilon))))
            : tf.rsqrt(tf.add(v, this.epsilon)),
        mean ?? undefined,
        mean ? v : undefined,
      );
      return normalize({
        x,
        mean,
        variance,
        epsilon: this.epsilon,
        statAxes: this.axes,
        gamma,
        beta,
        paramReduceAxes: otherAxes,
      });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: serializeInitializer(this.gammaInit) as unknown as tf.serialization.ConfigDict,
      betaInitializer: serializeInitializer(this.betaInit) as unknown as tf.serialization.ConfigDict,
      ...super.getConfig(),
    };
  }
}

/**
 * Layer normalization (Ba et al. 2016): per sample, normalize over `axis` (default the last),
 * then γ, β of that shape. Equals PyTorch's `LayerNorm(normalized_shape)` when `axis` covers the
 * trailing axes; ε defaults to PyTorch's 1e-5 (tfjs/Keras use 1e-3). Same in training and inference.
 *
 * @example
 * ```ts
 * const ln = new LayerNorm(); // over the last axis; `{ axis: [1, 2, 3] }` on NHWC is LayerNorm([C, H, W])
 * const x = tf.randomNormal([2, 10, 16], 3, 4); // [batch, time, features]
 * const y = ln.apply(x) as tf.Tensor;
 * const [mean, variance] = tf.tidy(() => {
 *   const m = tf.moments(y, -1); // per sample and timestep
 *   return [m.mean.abs().max().dataSync()[0]!, m.variance.mean().dataSync()[0]!];
 * });
 * if (mean > 1e-4 || Math.abs(variance - 1) > 1e-3) throw new Error(`${mean} ${variance}`);
 * tf.dispose([x, y]);
 * ln.dispose();
 * ```
 */
export class LayerNorm extends AxesNorm {
  static readonly className = 'GradflowLayerNorm';
  protected readonly centred = true;
  constructor(options: AxesNormOptions = {}) {
    super(options, { epsilon: 1e-5, center: true });
  }
}

/**
 * RMSNorm (Zhang & Sennrich 2019): y = x / √(mean(x²) + ε) · γ over `axis`, with no centring
 * and, by default, no β (`center: true` adds one). ε (default 1e-6) is inside the square root, as
 * in T5, LLaMA and PyTorch ≥ 2.4's `nn.RMSNorm` (whose default ε is float32's machine epsilon,
 * 1.19e-7: pass `epsilon` to match it). Same in training and inference.
 *
 * @example
 * ```ts
 * const rms = new RMSNorm(); // over the last axis, γ only
 * const x = tf.randomNormal([4, 32], 1, 3);
 * const y = rms.apply(x) as tf.Tensor;
 * // Every row now has a root mean square of 1 (γ starts at ones); the mean is not removed.
 * const worst = tf.tidy(() => tf.sqrt(tf.mean(tf.square(y), -1)).sub(1).abs().max().dataSync()[0]!);
 * if (worst > 1e-3) throw new Error(`rms off by ${worst}`);
 * tf.dispose([x, y]);
 * rms.dispose();
 * ```
 */
export class RMSNorm extends AxesNorm {
  static readonly className = 'GradflowRMSNorm';
  protected readonly centred = false;
  constructor(options: AxesNormOptions = {}) {
    super(options, { epsilon: 1e-6, center: false });
  }
}
