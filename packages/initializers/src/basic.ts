import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, checkFinite, sizeOf } from '@gradflow/core';
import { GradflowInitializer, checkKeys, checkSeed, type SeedArgs } from './base.js';
import { truncatedStandardNormal } from './sampling.js';

/**
 * All zeros (biases, the last norm scale of a residual branch). Also makes int32 tensors.
 *
 * @example
 * ```ts
 * const b = new Zeros().apply([4]); // [0, 0, 0, 0]
 * const norm = tf.layers.batchNormalization({ gammaInitializer: new Zeros() }); // zero-γ residual branch
 * norm.apply(tf.input({ shape: [8] }));
 * const [gamma] = norm.getWeights(); // [0, 0, ..., 0]
 * if (b.dataSync().some((v) => v !== 0) || gamma!.dataSync().some((v) => v !== 0)) throw new Error('unexpected');
 * b.dispose();
 * norm.dispose();
 * ```
 */
export class Zeros extends GradflowInitializer {
  static className = 'GradflowZeros';
  static readonly options: readonly string[] = [];
  constructor(args: object = {}) {
    checkKeys('zeros', args, Zeros.options);
    super();
  }
  protected override integral(): boolean {
    return true;
  }
  protected sample(shape: readonly number[]): Float32Array {
    return new Float32Array(sizeOf(shape));
  }
}

/**
 * All ones (norm scales). Also makes int32 tensors.
 *
 * @example
 * ```ts
 * const g = new Ones().apply([3], 'int32'); // int32 [1, 1, 1]
 * if (g.dtype !== 'int32' || g.dataSync().join() !== '1,1,1') throw new Error('unexpected');
 * g.dispose();
 * ```
 */
export class Ones extends GradflowInitializer {
  static className = 'GradflowOnes';
  static readonly options: readonly string[] = [];
  constructor(args: object = {}) {
    checkKeys('ones', args, Ones.options);
    super();
  }
  protected override integral(): boolean {
    return true;
  }
  protected sample(shape: readonly number[]): Float32Array {
    return new Float32Array(sizeOf(shape)).fill(1);
  }
}

/** Options of {@link Constant}. */
export interface ConstantArgs {
  /** The value of every element (default 0). */
  value?: number;
}

/**
 * Every element equal to `value` (`torch.nn.init.constant_`).
 *
 * @example
 * ```ts
 * // LSTM-style forget-gate bias of 1
 * const bias = new Constant({ value: 1 }).apply([2, 2]); // [[1, 1], [1, 1]]
 * tf.test_util.expectArraysClose(bias.dataSync(), [1, 1, 1, 1]);
 * bias.dispose();
 * ```
 */
export class Constant extends GradflowInitializer {
  static className = 'GradflowConstant';
  static readonly options: readonly string[] = ['value'];
  readonly value: number;
  constructor(args: ConstantArgs = {}) {
    checkKeys('constant', args, Constant.options);
    super();
    this.value = checkFinite('value', args.value ?? 0);
  }
  protected override integral(): boolean {
    return Number.isInteger(this.value);
  }
  protected sample(shape: readonly number[]): Float32Array {
    return new Float32Array(sizeOf(shape)).fill(this.value);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { value: this.value };
  }
}

/** Options of {@link Normal}. */
export interface NormalArgs extends SeedArgs {
  /** Mean (default 0). */
  mean?: number;
  /** Standard deviation (default 1, as `torch.nn.init.normal_`). */
  std?: number;
}

/**
 * N(mean, std²) (`torch.nn.init.normal_`; default N(0, 1)).
 *
 * @example
 * ```ts
 * const w = new Normal({ std: 0.02, seed: 0 }).apply([100, 100]); // GPT-2-style embedding init
 * const std = tf.tidy(() => Math.sqrt(tf.moments(w).variance.dataSync()[0]!)); // ≈ 0.02
 * if (Math.abs(std / 0.02 - 1) > 0.03) throw new Error(`std ${std}`);
 * w.dispose();
 * ```
 */
export class Normal extends GradflowInitializer {
  static className = 'GradflowNormal';
  static readonly options: readonly string[] = ['mean', 'std', 'seed'];
  readonly mean: number;
  readonly std: number;
  constructor(args: NormalArgs = {}) {
    checkKeys('normal', args, Normal.options);
    super(checkSeed(args.seed));
    this.mean = checkFinite('mean', args.mean ?? 0);
    this.std = checkFinite('std', args.std ?? 1, { min: 0 });
  }
  protected sample(shape: readonly number[]): Float32Array {
    const rng = this.nextRng();
    return rng.fill(sizeOf(shape), (r) => r.normal(this.mean, this.std));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { mean: this.mean, std: this.std, seed: this.seed };
  }
}

/** Options of {@link Uniform}. */
export interface UniformArgs extends SeedArgs {
  /** Lower bound (default 0, as `torch.nn.init.uniform_`). */
  a?: number;
  /** Upper bound (default 1). */
  b?: number;
}

/**
 * U(a, b) (`torch.nn.init.uniform_`; default U(0, 1)).
 *
 * @example
 * ```ts
 * const w = new Uniform({ a: -0.1, b: 0.1, seed: 0 }).apply([8, 8]);
 * const [min, max] = tf.tidy(() => [w.min().dataSync()[0]!, w.max().dataSync()[0]!]);
 * if (min! < -0.1 * (1 + 1e-6) || max! > 0.1 * (1 + 1e-6)) throw new Error('out of bounds');
 * w.dispose();
 * // new Uniform({ a: 1, b: 0 }) throws InvalidArgumentError: b must be > a
 * ```
 */
export class Uniform extends GradflowInitializer {
  static className = 'GradflowUniform';
  static readonly options: readonly string[] = ['a', 'b', 'seed'];
  readonly a: number;
  readonly b: number;
  constructor(args: UniformArgs = {}) {
    checkKeys('uniform', args, Uniform.options);
    super(checkSeed(args.seed));
    this.a = checkFinite('a', args.a ?? 0);
    this.b = checkFinite('b', args.b ?? 1);
    if (!(this.a < this.b)) throw new InvalidArgumentError('b', this.b, `a number > a = ${this.a}`);
  }
  protected sample(shape: readonly number[]): Float32Array {
    const rng = this.nextRng();
    return rng.fill(sizeOf(shape), (r) => r.uniform(this.a, this.b));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { a: this.a, b: this.b, seed: this.seed };
  }
}

/** Options of {@link TruncNormal} (PyTorch's `trunc_normal_` arguments). */
export interface TruncNormalArgs extends SeedArgs {
  /** Mean of the underlying normal (default 0). */
  mean?: number;
  /** Standard deviation of the underlying normal (default 1). */
  std?: number;
  /** ABSOLUTE lower bound, not in units of std (default -2, as `torch.nn.init.trunc_normal_`). */
  a?: number;
  /** ABSOLUTE upper bound (default 2). */
  b?: number;
}

/**
 * `torch.nn.init.trunc_normal_`: N(mean, std²) restricted to [a, b], where a and b are absolute
 * values (with the defaults mean 0, std 1, a -2, b 2 that is ±2 std; with std 0.02 as in ViTs it
 * is ±100 std, i.e. practically untruncated, exactly as in PyTorch). Sampled exactly by
 * rejection, so the values follow the truncated law (no clipping pile-up at the bounds).
 *
 * @example
 * ```ts
 * // ViT-style: std 0.02 cut at ±2 std (bounds are absolute, so pass them scaled)
 * const w = new TruncNormal({ std: 0.02, a: -0.04, b: 0.04, seed: 0 }).apply([64, 64]);
 * const max = tf.tidy(() => w.abs().max().dataSync()[0]!);
 * if (max > 0.04 * (1 + 1e-6)) throw new Error('out of bounds');
 * w.dispose();
 * ```
 */
export class TruncNormal extends GradflowInitializer {
  static className = 'GradflowTruncNormal';
  static readonly options: readonly string[] = ['mean', 'std', 'a', 'b', 'seed'];
  readonly mean: number;
  readonly std: number;
  readonly a: number;
  readonly b: number;
  constructor(args: TruncNormalArgs = {}) {
    checkKeys('trunc_normal', args, TruncNormal.options);
    super(checkSeed(args.seed));
    this.mean = checkFinite('mean', args.mean ?? 0);
    this.std = checkFinite('std', args.std ?? 1, { min: 0, minExclusive: true });
    this.a = checkFinite('a', args.a ?? -2);
    this.b = checkFinite('b', args.b ?? 2);
    if (!(this.a < this.b)) throw new InvalidArgumentError('b', this.b, `a number > a = ${this.a}`);
  }
  protected sample(shape: readonly number[]): Float32Array {
    const rng = this.nextRng();
    const lo = (this.a - this.mean) / this.std;
    const hi = (this.b - this.mean) / this.std;
    return rng.fill(sizeOf(shape), (r) => {
      const x = this.mean + this.std * truncatedStandardNormal(r, lo, hi);
      // Rounding in mean + std * z may step a hair outside; keep the bounds exact.
      return Math.min(this.b, Math.max(this.a, x));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { mean: this.mean, std: this.std, a: this.a, b: this.b, seed: this.seed };
  }
}
