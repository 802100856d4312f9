import * as tf from '@tensorflow/tfjs';
import {
  DEFAULT_SEED,
  InvalidArgumentError,
  Rng,
  UnsupportedError,
  checkFinite,
  checkShape,
} from '@gradflow/core';

/**
 * The tfjs-layers initializer type (`tf.initializers.Initializer` in tfjs-layers' sources; the
 * public bundle exports only the factories, so the type is recovered from one of them).
 * Every gradflow initializer is one, so it goes wherever tfjs takes a `kernelInitializer`.
 */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/**
 * The tfjs-layers `Initializer` base class, recovered at runtime from a built-in subclass (the
 * public tfjs bundle does not export it). Extend it to write an initializer that does not need
 * gradflow's seeding, or use it for `instanceof` checks.
 *
 * @example
 * ```ts
 * if (!(tf.initializers.glorotUniform({}) instanceof InitializerBase)) throw new Error('unexpected');
 * if (!(new HeNormal() instanceof InitializerBase)) throw new Error('unexpected');
 * ```
 */
export const InitializerBase = Object.getPrototypeOf(
  tf.initializers.zeros().constructor,
) as abstract new () => Initializer;

/**
 * True for anything tfjs-layers would accept as an initializer instance (tfjs's own or gradflow's).
 *
 * @example
 * ```ts
 * isInitializer(tf.initializers.zeros()); // true
 * isInitializer(resolveInitializer('orthogonal')); // true
 * if (isInitializer('he_normal') || isInitializer({ name: 'zeros' })) throw new Error('names are not instances');
 * ```
 */
export function isInitializer(value: unknown): value is Initializer {
  return value instanceof InitializerBase;
}

// Unseeded initializers draw their seed from this generator, so a whole program is reproducible
// run to run (like PyTorch's default generator, whose initial seed is fixed) while two layers
// never get the same weights by accident.
let globalRng = new Rng(DEFAULT_SEED);

/**
 * Re-seeds the generator that unseeded initializers draw from (PyTorch's `torch.manual_seed`).
 * Initializers with an explicit `seed` are unaffected.
 *
 * @example
 * ```ts
 * setInitializerSeed(123);
 * const a = new HeNormal().apply([4, 4]);
 * setInitializerSeed(123);
 * const b = new HeNormal().apply([4, 4]); // same seed, same draws
 * if (a.dataSync().join() !== b.dataSync().join()) throw new Error('not reproducible');
 * tf.dispose([a, b]);
 * ```
 */
export function setInitializerSeed(seed: number): void {
  globalRng = new Rng(checkFinite('seed', seed));
}

/** Keys tfjs adds to every config it deserializes; accepted and ignored. */
const IGNORED_KEYS = new Set(['customObjects']);

/**
 * Validates the option keys of an initializer: typos (`mdoe`) are errors, not silent defaults.
 */
export function checkKeys(what: string, args: object, accepted: readonly string[]): void {
  for (const key of Object.keys(args)) {
    if (IGNORED_KEYS.has(key) || accepted.includes(key)) continue;
    throw new InvalidArgumentError(
      `${what} option`,
      key,
      accepted.length > 0 ? `one of ${accepted.map((k) => `'${k}'`).join(', ')}` : 'no options',
    );
  }
}

/**
 * tfjs camel-cases string values when it loads a saved model (`'fan_in'` comes back as
 * `'fanIn'`), so enum-like options are snake-cased again before they are checked.
 */
export function snakeCase(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** A seed option: a finite number, or null/undefined for "draw from the global generator". */
export function checkSeed(seed: unknown): number | null {
  if (seed === undefined || seed === null) return null;
  return checkFinite('seed', seed);
}

/** The `seed` option every random gradflow initializer takes. */
export interface SeedArgs {
  /**
   * Seed of this initializer's own stream. Each call draws the next values from that stream
   * (PyTorch semantics), so two layers sharing one seeded initializer get different weights,
   * and building the same model twice with fresh initializers gives identical weights.
   * Unseeded initializers draw from a global generator (see `setInitializerSeed`).
   */
  seed?: number | null;
}

/**
 * Base of every gradflow initializer: samples on the CPU with core's `Rng` into a Float32Array,
 * so cpu and wasm (and any backend) get bit-identical weights, and produces float32 tensors
 * (int32 too when every value is an integer). Subclass it and implement `sample` to write your
 * own initializer; `nextRng()` gives the generator for one call.
 *
 * @example
 * ```ts
 * // Weights uniform on ±0.5 / sqrt(fan_in), reproducible from a seed.
 * class SmallUniform extends GradflowInitializer {
 *   static className = 'SmallUniform';
 *   protected sample(shape: readonly number[]): Float32Array {
 *     const fanIn = shape[shape.length - 2] ?? 1;
 *     const limit = 0.5 / Math.sqrt(fanIn);
 *     const size = shape.reduce((n, d) => n * d, 1);
 *     return this.nextRng().fill(size, (r) => r.uniform(-limit, limit));
 *   }
 * }
 * const w = new SmallUniform(7).apply([16, 8]); // a float32 tensor [16, 8]
 * const max = tf.tidy(() => w.abs().max().dataSync()[0]!);
 * if (w.dtype !== 'float32' || max > 0.125) throw new Error('unexpected');
 * w.dispose();
 * ```
 */
export abstract class GradflowInitializer extends InitializerBase {
  /** Seed of this instance's stream, or null when it draws from the global generator. */
  readonly seed: number | null;
  private stream: Rng | undefined;

  constructor(seed: number | null = null) {
    super();
    this.seed = seed;
  }

  /** The generator for one call: the next fork of this instance's stream, or of the global one. */
  protected nextRng(): Rng {
    if (this.seed === null) return globalRng.fork();
    this.stream ??= new Rng(this.seed);
    return this.stream.fork();
  }

  /** Restarts a seeded instance's stream, so the next call repeats the first one. */
  reset(): void {
    this.stream = undefined;
  }

  /** Values of a tensor of `shape`, row-major. */
  protected abstract sample(shape: readonly number[]): Float32Array;

  /** Whether the values are integers, so an int32 request is meaningful (zeros, ones, ...). */
  protected integral(): boolean {
    return false;
  }

  override apply(shape: readonly (number | null)[], dtype?: tf.DataType): tf.Tensor {
    const type = dtype ?? 'float32';
    if (type !== 'float32' && !(type === 'int32' && this.integral())) {
      throw new UnsupportedError(
        `${this.getClassName()} makes float32 tensors${this.integral() ? ' or int32 ones' : ''}, not ${type}`,
        { value: type, accepted: this.integral() ? ['float32', 'int32'] : ['float32'] },
      );
    }
    const dims = [...checkShape('initializer shape', shape as number[])];
    const values = this.sample(dims);
    return tf.tensor(type === 'int32' ? Int32Array.from(values) : values, dims, type);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}
