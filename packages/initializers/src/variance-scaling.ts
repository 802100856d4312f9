import type * as tf from '@tensorflow/tfjs';
import { checkFinite, checkOneOf, computeFans, sizeOf, type Fans, type Rng } from '@gradflow/core';
import { GradflowInitializer, checkKeys, checkSeed, snakeCase, type SeedArgs } from './base.js';
import { calculateGain } from './gain.js';
import { TRUNCATION_STD_CORRECTION, truncatedStandardNormal } from './sampling.js';

/**
 * The `mode` values of {@link VarianceScaling}: which fan divides the scale.
 *
 * @example
 * ```ts
 * FAN_MODES; // ['fan_in', 'fan_out', 'fan_avg']
 * for (const mode of FAN_MODES) new VarianceScaling({ mode }); // all valid
 * if (FAN_MODES.length !== 3) throw new Error('unexpected');
 * ```
 */
export const FAN_MODES = ['fan_in', 'fan_out', 'fan_avg'] as const;
/** One of {@link FAN_MODES}. */
export type FanMode = (typeof FAN_MODES)[number];
/**
 * The `distribution` values of {@link VarianceScaling} (Keras's `'untruncated_normal'` is read
 * as `'normal'`).
 *
 * @example
 * ```ts
 * DISTRIBUTIONS; // ['normal', 'truncated_normal', 'uniform']
 * const stds = DISTRIBUTIONS.map((distribution) => new VarianceScaling({ distribution }).std([100, 10]));
 * if (stds.some((s) => s !== 0.1)) throw new Error('every distribution has the same target std');
 * ```
 */
export const DISTRIBUTIONS = ['normal', 'truncated_normal', 'uniform'] as const;
/** One of {@link DISTRIBUTIONS}. */
export type Distribution = (typeof DISTRIBUTIONS)[number];

/**
 * The fan a mode selects (`fan_avg` is (fan_in + fan_out) / 2, as in Keras).
 *
 * @example
 * ```ts
 * import { computeFans } from '@gradflow/core';
 * import { fanFor } from '@gradflow/initializers';
 *
 * const fans = computeFans([3, 3, 16, 32]); // conv kernel: fanIn 144, fanOut 288
 * fanFor(fans, 'fan_avg'); // 216
 * if (fanFor(fans, 'fan_in') !== 144 || fanFor(fans, 'fan_out') !== 288) throw new Error('unexpected');
 * ```
 */
export function fanFor(fans: Fans, mode: FanMode): number {
  if (mode === 'fan_in') return fans.fanIn;
  if (mode === 'fan_out') return fans.fanOut;
  return (fans.fanIn + fans.fanOut) / 2;
}

function checkMode(mode: unknown): FanMode {
  return checkOneOf('mode', snakeCase(mode ?? 'fan_in'), FAN_MODES);
}

function checkDistribution(distribution: unknown): Distribution {
  // Keras calls the plain normal 'untruncated_normal'; accept its configs too.
  const d = snakeCase(distribution ?? 'truncated_normal');
  return checkOneOf('distribution', d === 'untruncated_normal' ? 'normal' : d, DISTRIBUTIONS);
}

/**
 * Fills `n` values with zero mean and standard deviation `std` from `distribution`:
 * normal; uniform on ±std·sqrt(3); or Keras's truncated normal, i.e. a normal of std
 * `std / 0.87962566103423978` cut at ±2 of its own standard deviations, whose std is `std`.
 */
export function fillScaled(values: Float32Array, std: number, distribution: Distribution, rng: Rng): void {
  const n = values.length;
  if (distribution === 'normal') {
    for (let i = 0; i < n; i++) values[i] = std * rng.normal();
  } else if (distribution === 'uniform') {
    const limit = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) values[i] = rng.uniform(-limit, limit);
  } else {
    const s = std / TRUNCATION_STD_CORRECTION;
    for (let i = 0; i < n; i++) values[i] = s * truncatedStandardNormal(rng, -2, 2);
  }
}

/** Options of {@link VarianceScaling}. */
export interface VarianceScalingArgs extends SeedArgs {
  /** Variance multiplier: the weights get variance `scale / fan` (default 1). */
  scale?: number;
  /** Which fan divides the scale (default 'fan_in'). */
  mode?: FanMode;
  /** Distribution of the weights (default 'truncated_normal', as in Keras). */
  distribution?: Distribution;
}

/**
 * Keras's `VarianceScaling`, with the truncated normal done right: weights of variance
 * `scale / fan` where `fan` is the fan-in, fan-out or their average of the kernel shape
 * (tfjs layout `[in, out]` / `[...k, in, out]`, numbers equal to PyTorch's fans).
 *
 * @example
 * ```ts
 * const init = new VarianceScaling({ scale: 2, mode: 'fan_in', distribution: 'truncated_normal', seed: 1 });
 * const layer = tf.layers.dense({ units: 64, kernelInitializer: init });
 * init.std([128, 64]); // sqrt(2 / 128) = 0.125
 * if (init.std([128, 64]) !== 0.125) throw new Error('unexpected');
 * layer.apply(tf.input({ shape: [128] })); // builds the layer: kernel [128, 64] drawn from init
 * layer.dispose();
 * ```
 */
export class VarianceScaling extends GradflowInitializer {
  static className = 'GradflowVarianceScaling';
  static readonly options: readonly string[] = ['scale', 'mode', 'distribution', 'seed'];
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: Distribution;

  constructor(args: VarianceScalingArgs = {}) {
    checkKeys('variance_scaling', args, VarianceScaling.options);
    super(checkSeed(args.seed));
    this.scale = checkFinite('scale', args.scale ?? 1, { min: 0, minExclusive: true });
    this.mode = checkMode(args.mode);
    this.distribution = checkDistribution(args.distribution);
  }

  /** The standard deviation the weights of `shape` get. */
  std(shape: readonly number[]): number {
    return Math.sqrt(this.scale / fanFor(computeFans(shape), this.mode));
  }

  protected sample(shape: readonly number[]): Float32Array {
    const std = this.std(shape);
    const values = new Float32Array(sizeOf(shape));
    fillScaled(values, std, this.distribution, this.nextRng());
    return values;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed };
  }
}

/** Options of the Glorot / Xavier initializers. */
export interface GlorotArgs extends SeedArgs {
  /** Multiplies the std (PyTorch's `xavier_*_(gain=)`, default 1). */
  gain?: number;
}

/** Shared by the glorot/xavier initializers: std = gain · sqrt(2 / (fan_in + fan_out)). */
abstract class GlorotBase extends VarianceScaling {
  static override readonly options: readonly string[] = ['gain', 'seed'];
  readonly gain: number;
  constructor(args: GlorotArgs, distribution: Distribution) {
    checkKeys('glorot', args, GlorotBase.options);
    const gain = checkFinite('gain', args.gain ?? 1, { min: 0, minExclusive: true });
    super({ scale: gain * gain, mode: 'fan_avg', distribution, seed: args.seed ?? null });
    this.gain = gain;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { gain: this.gain, seed: this.seed };
  }
}

/**
 * Glorot & Bengio (2010) normal: std = gain · sqrt(2 / (fan_in + fan_out)); `xavier_normal_`.
 *
 * @example
 * ```ts
 * const init = new GlorotNormal({ gain: calculateGain('tanh'), seed: 0 });
 * init.std([100, 50]); // (5/3) · sqrt(2 / 150) ≈ 0.1925
 * const w = init.apply([100, 50]);
 * if (Math.abs(init.std([100, 50]) - (5 / 3) * Math.sqrt(2 / 150)) > 1e-12) throw new Error('unexpected');
 * w.dispose();
 * ```
 */
export class GlorotNormal extends GlorotBase {
  static override className = 'GradflowGlorotNormal';
  constructor(args: GlorotArgs = {}) {
    super(args, 'normal');
  }
}
/**
 * Glorot normal truncated at ±2 std (std corrected to the target, as Keras does):
 * Keras's `GlorotNormal`.
 *
 * @example
 * ```ts
 * const init = new GlorotTruncatedNormal({ seed: 0 });
 * const w = init.apply([64, 64]);
 * const limit = (2 * init.std([64, 64])) / TRUNCATION_STD_CORRECTION; // ±2 std of the underlying normal
 * const max = tf.tidy(() => w.abs().max().dataSync()[0]!);
 * if (max > limit * 1.0001) throw new Error('not truncated');
 * w.dispose();
 * ```
 */
export class GlorotTruncatedNormal extends GlorotBase {
  static override className = 'GradflowGlorotTruncatedNormal';
  constructor(args: GlorotArgs = {}) {
    super(args, 'truncated_normal');
  }
}
/**
 * Glorot uniform: U(±gain · sqrt(6 / (fan_in + fan_out))); `xavier_uniform_`, Keras's and tfjs's
 * default kernel initializer.
 *
 * @example
 * ```ts
 * const w = new GlorotUniform({ seed: 0 }).apply([30, 20]); // U(±sqrt(6 / 50)) = U(±0.3464)
 * const max = tf.tidy(() => w.abs().max().dataSync()[0]!);
 * if (max > Math.sqrt(6 / 50) * (1 + 1e-6)) throw new Error('out of bounds');
 * w.dispose();
 * ```
 */
export class GlorotUniform extends GlorotBase {
  static override className = 'GradflowGlorotUniform';
  constructor(args: GlorotArgs = {}) {
    super(args, 'uniform');
  }
}

/** Options of the He / Kaiming initializers (PyTorch's `kaiming_*_` arguments). */
export interface KaimingArgs extends SeedArgs {
  /** Negative slope of the rectifier after this layer (used with 'leaky_relu' only, as in PyTorch; default 0). */
  a?: number;
  /** 'fan_in' keeps forward activations' scale, 'fan_out' backward gradients' (default 'fan_in'). */
  mode?: 'fan_in' | 'fan_out';
  /** Nonlinearity after this layer, for `calculateGain` (default 'leaky_relu', as in PyTorch). */
  nonlinearity?: string;
}

/**
 * Shared by he/kaiming: std = gain / sqrt(fan) with gain = calculateGain(nonlinearity, a),
 * exactly `torch.nn.init.kaiming_normal_` / `kaiming_uniform_`.
 */
abstract class KaimingBase extends VarianceScaling {
  static override readonly options: readonly string[] = ['a', 'mode', 'nonlinearity', 'seed'];
  readonly a: number;
  readonly nonlinearity: string;
  constructor(args: KaimingArgs, distribution: Distribution) {
    checkKeys('kaiming', args, KaimingBase.options);
    const a = checkFinite('a', args.a ?? 0, { min: 0 });
    const mode = checkOneOf('mode', snakeCase(args.mode ?? 'fan_in'), ['fan_in', 'fan_out'] as const);
    const nonlinearity = String(snakeCase(args.nonlinearity ?? 'leaky_relu'));
    // As in PyTorch, `a` is the negative slope of leaky_relu and ignored for other nonlinearities.
    const gain = nonlinearity === 'leaky_relu' ? calculateGain(nonlinearity, a) : calculateGain(nonlinearity);
    super({ scale: gain * gain, mode, distribution, seed: args.seed ?? null });
    this.a = a;
    this.nonlinearity = nonlinearity;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { a: this.a, mode: this.mode, nonlinearity: this.nonlinearity, seed: this.seed };
  }
}

/**
 * He et al. (2015) normal: std = gain / sqrt(fan); `torch.nn.init.kaiming_normal_` (same
 * defaults: `nonlinearity: 'leaky_relu'`, `a: 0`, i.e. gain √2).
 *
 * @example
 * ```ts
 * const init = new HeNormal({ mode: 'fan_out', nonlinearity: 'relu', seed: 0 });
 * init.std([3, 3, 16, 32]); // sqrt(2 / (3·3·32)) ≈ 0.0833
 * const conv = tf.layers.conv2d({ filters: 32, kernelSize: 3, kernelInitializer: init });
 * conv.apply(tf.input({ shape: [8, 8, 16] })); // builds the kernel [3, 3, 16, 32] from init
 * if (Math.abs(init.std([3, 3, 16, 32]) - Math.sqrt(2 / 288)) > 1e-12) throw new Error('unexpected');
 * conv.dispose();
 * ```
 */
export class HeNormal extends KaimingBase {
  static override className = 'GradflowHeNormal';
  constructor(args: KaimingArgs = {}) {
    super(args, 'normal');
  }
}
/**
 * He normal truncated at ±2 std (std corrected to the target): Keras's `HeNormal`, without
 * tfjs's too-narrow variance (tfjs#8594).
 *
 * @example
 * ```ts
 * const init = new HeTruncatedNormal({ nonlinearity: 'relu', seed: 0 });
 * const w = init.apply([512, 64]);
 * const std = tf.tidy(() => Math.sqrt(tf.moments(w).variance.dataSync()[0]!)); // ≈ sqrt(2 / 512) = 0.0625
 * if (Math.abs(std / 0.0625 - 1) > 0.03) throw new Error(`std ${std}`);
 * w.dispose();
 * ```
 */
export class HeTruncatedNormal extends KaimingBase {
  static override className = 'GradflowHeTruncatedNormal';
  constructor(args: KaimingArgs = {}) {
    super(args, 'truncated_normal');
  }
}
/**
 * He uniform: U(±gain · sqrt(3 / fan)); `torch.nn.init.kaiming_uniform_`.
 *
 * @example
 * ```ts
 * // PyTorch's nn.Linear default is kaiming_uniform_(a=sqrt(5)): U(±1/sqrt(fan_in))
 * const w = new HeUniform({ a: Math.sqrt(5), seed: 0 }).apply([64, 10]);
 * const max = tf.tidy(() => w.abs().max().dataSync()[0]!);
 * if (max > (1 / Math.sqrt(64)) * (1 + 1e-6)) throw new Error('out of bounds');
 * w.dispose();
 * ```
 */
export class HeUniform extends KaimingBase {
  static override className = 'GradflowHeUniform';
  constructor(args: KaimingArgs = {}) {
    super(args, 'uniform');
  }
}

/** Shared by the lecun initializers: std = sqrt(1 / fan_in) (LeCun et al. 1998; SELU nets). */
abstract class LecunBase extends VarianceScaling {
  static override readonly options: readonly string[] = ['seed'];
  constructor(args: SeedArgs, distribution: Distribution) {
    checkKeys('lecun', args, LecunBase.options);
    super({ scale: 1, mode: 'fan_in', distribution, seed: args.seed ?? null });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { seed: this.seed };
  }
}

/**
 * LeCun normal: std = sqrt(1 / fan_in), the initializer SELU's self-normalisation assumes.
 *
 * @example
 * ```ts
 * const init = new LecunNormal({ seed: 0 });
 * const dense = tf.layers.dense({ units: 64, activation: 'selu', kernelInitializer: init });
 * dense.apply(tf.input({ shape: [256] })); // kernel [256, 64] with std 1/16
 * if (init.std([256, 64]) !== 1 / 16) throw new Error('unexpected');
 * dense.dispose();
 * ```
 */
export class LecunNormal extends LecunBase {
  static override className = 'GradflowLecunNormal';
  constructor(args: SeedArgs = {}) {
    super(args, 'normal');
  }
}
/**
 * LeCun normal truncated at ±2 std (std corrected to the target): Keras's `LecunNormal`.
 *
 * @example
 * ```ts
 * const w = new LecunTruncatedNormal({ seed: 0 }).apply([400, 100]);
 * const std = tf.tidy(() => Math.sqrt(tf.moments(w).variance.dataSync()[0]!)); // ≈ sqrt(1 / 400) = 0.05
 * if (Math.abs(std / 0.05 - 1) > 0.03) throw new Error(`std ${std}`);
 * w.dispose();
 * ```
 */
export class LecunTruncatedNormal extends LecunBase {
  static override className = 'GradflowLecunTruncatedNormal';
  constructor(args: SeedArgs = {}) {
    super(args, 'truncated_normal');
  }
}
/**
 * LeCun uniform: U(±sqrt(3 / fan_in)).
 *
 * @example
 * ```ts
 * const w = new LecunUniform({ seed: 0 }).apply([12, 4]); // U(±0.5)
 * const max = tf.tidy(() => w.abs().max().dataSync()[0]!);
 * if (max > 0.5) throw new Error('out of bounds');
 * w.dispose();
 * ```
 */
export class LecunUniform extends LecunBase {
  static override className = 'GradflowLecunUniform';
  constructor(args: SeedArgs = {}) {
    super(args, 'uniform');
  }
}
