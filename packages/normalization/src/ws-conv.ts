import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, checkInteger, checkOneOf } from '@gradflow/core';
import { NormLayerBase, checkBoolean, checkEpsilon, getShape, oneTensor } from './base.js';
import { momentsOver, normalize } from './kernel.js';
import { serializeInitializer, toInitializer, type Initializer, type InitializerOption } from './init.js';

/** Options of {@link WeightStandardizedConv2d}, named as tfjs-layers' `conv2d`. */
export interface WeightStandardizedConv2dOptions {
  /** Number of output channels. */
  filters: number;
  /** Kernel height and width (one number for both). */
  kernelSize: number | [number, number];
  /** Strides (default 1); strides above 1 cannot be combined with a dilation above 1. */
  strides?: number | [number, number];
  /** `'valid'` (default) or `'same'`. */
  padding?: 'same' | 'valid';
  /** Dilation (default 1). */
  dilationRate?: number | [number, number];
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Added to the kernel variance (default 1e-6, timm's `StdConv2d`; BiT used 1e-10). */
  epsilon?: number;
  /** Initializer of the raw kernel (default glorot_uniform; its scale is removed by the standardization). */
  kernelInitializer?: InitializerOption;
  /** Initializer of the bias (default zeros). */
  biasInitializer?: InitializerOption;
  name?: string;
  trainable?: boolean;
  inputShape?: tf.Shape;
  batchInputShape?: tf.Shape;
  dtype?: tf.DataType;
}

const PADDINGS = ['same', 'valid'] as const;

function pair(
  argument: string,
  value: number | [number, number] | undefined,
  fallback: number,
): [number, number] {
  const v = value ?? fallback;
  const p: unknown[] = Array.isArray(v) ? v : [v, v];
  if (p.length !== 2) throw new InvalidArgumentError(argument, value, 'a positive integer or a pair of them');
  return [checkInteger(argument, p[0]), checkInteger(argument, p[1])];
}

/**
 * A 2-D convolution (NHWC) whose kernel is standardized per output channel in every forward
 * pass (Qiao et al. 2019; BiT, NFNets): Ŵ = (W − mean(W)) / √(var(W) + ε), the moments taken
 * over the kernel's height, width and input channels (biased variance, as timm's `StdConv2d`).
 * The gradient flows back through the standardization into the raw kernel (closed form, the
 * same kernel as the norm layers). Pair it with GroupNorm for batch-independent training.
 *
 * Stock tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter`, so training this layer on wasm
 * needs `useWasmBackend()` from `@gradflow/backend-wasm`, which provides that kernel.
 *
 * @example
 * ```ts
 * const conv = new WeightStandardizedConv2d({ filters: 8, kernelSize: 3, padding: 'same' });
 * const x = tf.randomNormal([1, 8, 8, 3]); // NHWC
 * const y = conv.apply(x) as tf.Tensor;
 * if (y.shape.join() !== '1,8,8,8') throw new Error(String(y.shape));
 * // The kernel the convolution used: mean 0, variance 1 per output channel.
 * const w = conv.standardizedKernel();
 * const [mean, variance] = tf.tidy(() => {
 *   const m = tf.moments(w, [0, 1, 2]);
 *   return [m.mean.abs().max().dataSync()[0]!, m.variance.mean().dataSync()[0]!];
 * });
 * if (mean > 1e-5 || Math.abs(variance - 1) > 1e-3) throw new Error(`${mean} ${variance}`);
 * tf.dispose([x, y, w]);
 * conv.dispose();
 * ```
 */
export class WeightStandardizedConv2d extends NormLayerBase {
  static readonly className = 'GradflowWeightStandardizedConv2d';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'same' | 'valid';
  readonly dilationRate: [number, number];
  readonly useBias: boolean;
  readonly epsilon: number;
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;
  private inChannels = 0;

  constructor(options: WeightStandardizedConv2dOptions) {
    super(options);
    this.filters = checkInteger('filters', options.filters);
    this.kernelSize = pair('kernelSize', options.kernelSize, 1);
    this.strides = pair('strides', options.strides, 1);
    this.dilationRate = pair('dilationRate', options.dilationRate, 1);
    if (this.strides.some((s) => s > 1) && this.dilationRate.some((d) => d > 1)) {
      throw new InvalidArgumentError(
        'strides/dilationRate',
        { strides: this.strides, dilationRate: this.dilationRate },
        'strides of 1 when dilated (tfjs conv2d)',
      );
    }
    this.padding = checkOneOf('padding', options.padding ?? 'valid', PADDINGS);
    this.useBias = checkBoolean('useBias', options.useBias ?? true);
    this.epsilon = checkEpsilon(options.epsilon ?? 1e-6);
    this.kernelInit = toInitializer('kernelInitializer', options.kernelInitializer, 'glorot_uniform');
    this.biasInit = toInitializer('biasInitializer', options.biasInitializer, 'zeros');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = getShape(inputShape);
    const channels = shape[3];
    if (shape.length !== 4 || channels === null || channels === undefined) {
      throw new ShapeError('input', shape, '[batch, height, width, channels] with a defined channel count');
    }
    this.inChannels = channels;
    this.kernel = this.addWeight(
      'kernel',
      [...this.kernelSize, channels, this.filters],
      'float32',
      this.kernelInit,
      undefined,
      true,
    );
    if (this.useBias)
      this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInit, undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shape = getShape(inputShape);
    const out = [1, 2].map((i) => {
      const size = shape[i];
      if (size === null || size === undefined) return null;
      const k = (this.kernelSize[i - 1]! - 1) * this.dilationRate[i - 1]! + 1;
      const s = this.strides[i - 1]!;
      return this.padding === 'same' ? Math.ceil(size / s) : Math.ceil((size - k + 1) / s);
    });
    return [shape[0] ?? null, out[0]!, out[1]!, this.filters];
  }

  /** The standardized kernel Ŵ the forward pass uses (a new tensor: dispose it). */
  standardizedKernel(): tf.Tensor4D {
    return tf.tidy(() => {
      const w = this.kernel!.read();
      const { mean, variance } = momentsOver(w, [0, 1, 2]);
      return normalize({
        x: w,
        mean,
        variance,
        epsilon: this.epsilon,
        statAxes: [0, 1, 2],
        gamma: null,
        beta: null,
        paramReduceAxes: [],
      }) as tf.Tensor4D;
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      this.checkInput(x, 4, { 3: this.inChannels });
      const w = this.kernel!.read();
      const { mean, variance } = momentsOver(w, [0, 1, 2]);
      const wHat = normalize({
        x: w,
        mean,
        variance,
        epsilon: this.epsilon,
        statAxes: [0, 1, 2],
        gamma: null,
        beta: null,
        paramReduceAxes: [],
      }) as tf.Tensor4D;
      this.recordCall(x, kwargs?.training ?? false, () => tf.rsqrt(tf.add(variance, this.epsilon)));
      let y: tf.Tensor = tf.conv2d(
        x as tf.Tensor4D,
        wHat,
        this.strides,
        this.padding,
        'NHWC',
        this.dilationRate,
      );
      if (this.bias) y = tf.add(y, this.bias.read());
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      dilationRate: this.dilationRate,
      useBias: this.useBias,
      epsilon: this.epsilon,
      kernelInitializer: serializeInitializer(this.kernelInit) as unknown as tf.serialization.ConfigDict,
      biasInitializer: serializeInitializer(this.biasInit) as unknown as tf.serialization.ConfigDict,
      ...super.getConfig(),
    };
  }
}
