import type * as tf from '@tensorflow/tfjs';
import { checkFinite, checkOneOf, computeFans, sizeOf, type Fans, type Rng } from '@gradflow/core';
import { GradflowInitializer, checkKeys, checkSeed, snakeCase, type SeedArgs } from './base.js';
import { calculateGain } from './gain.js';
import { TRUNCATION_STD_CORRECTION, truncatedStandardNormal } from './sampling.js';

export const FAN_MODES = ['fan_in', 'fan_out', 'fan_avg'] as const;
export type FanMode = (typeof FAN_MODES)[number];
export const DISTRIBUTIONS = ['normal', 'truncated_normal', 'uniform'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

/** The fan a mode selects (`fan_avg` is (fan_in + fan_out) / 2, as in Keras). */
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
 * tf.layers.dense({ units: 64, kernelInitializer: init });
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

/** Glorot & Bengio (2010) normal: std = gain · sqrt(2 / (fan_in + fan_out)); `xavier_normal_`. */
export class GlorotNormal extends GlorotBase {
  static override className = 'GradflowGlorotNormal';
  constructor(args: GlorotArgs = {}) {
    super(args, 'normal');
  }
}
/** Glorot normal truncated at ±2 std (std corrected to the target, as Keras does). */
export class GlorotTruncatedNormal extends GlorotBase {
  static override className = 'GradflowGlorotTruncatedNormal';
  constructor(args: GlorotArgs = {}) {
    super(args, 'truncated_normal');
  }
}
/** Glorot uniform: U(±gain · sqrt(6 / (fan_in + fan_out))); `xavier_uniform_`. */
export class GlorotUniform extends GlorotBase {
  static override className = 'GradflowGlorotUniform';
  constructor(args: GlorotArgs = {}) {
    super(args, 'uniform');
  }
}

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

/** He et al. (2015) normal: std = gain / sqrt(fan); `torch.nn.init.kaiming_normal_`. */
export class HeNormal extends KaimingBase {
  static override className = 'GradflowHeNormal';
  constructor(args: KaimingArgs = {}) {
    super(args, 'normal');
  }
}
/** He normal truncated at ±2 std (std corrected to the target): Keras's `HeNormal`. */
export class HeTruncatedNormal extends KaimingBase {
  static override className = 'GradflowHeTruncatedNormal';
  constructor(args: KaimingArgs = {}) {
    super(args, 'truncated_normal');
  }
}
/** He uniform: U(±gain · sqrt(3 / fan)); `torch.nn.init.kaiming_uniform_`. */
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

/** LeCun normal: std = sqrt(1 / fan_in). */
export class LecunNormal extends LecunBase {
  static override className = 'GradflowLecunNormal';
  constructor(args: SeedArgs = {}) {
    super(args, 'normal');
  }
}
/** LeCun normal truncated at ±2 std (std corrected to the target): Keras's `LecunNormal`. */
export class LecunTruncatedNormal extends LecunBase {
  static override className = 'GradflowLecunTruncatedNormal';
  constructor(args: SeedArgs = {}) {
    super(args, 'truncated_normal');
  }
}
/** LeCun uniform: U(±sqrt(3 / fan_in)). */
export class LecunUniform extends LecunBase {
  static override className = 'GradflowLecunUniform';
  constructor(args: SeedArgs = {}) {
    super(args, 'uniform');
  }
}
