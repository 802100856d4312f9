import { InvalidArgumentError } from './errors.js';

/**
 * A small, fast, seedable PRNG (sfc32, 128-bit state, passes PractRand to 2^40+), seeded through
 * splitmix32 so that nearby seeds give unrelated streams. Everything random in gradflow that
 * must be reproducible across backends draws from one of these on the CPU.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.uniform(); // in [0, 1)
 * rng.normal(0, 1); // standard normal
 * rng.int(10); // integer in [0, 10)
 * const order = rng.permutation(5); // e.g. Int32Array [3, 0, 4, 1, 2]
 * const child = rng.fork(); // independent stream, same determinism
 * child.fill(3, (r) => r.uniform(-1, 1)); // Float32Array of 3 draws
 * // Same seed, same stream:
 * if (new Rng(7).uniform() !== new Rng(7).uniform()) throw new Error('not reproducible');
 * if ([...order].sort().join() !== '0,1,2,3,4') throw new Error('not a permutation');
 * ```
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new InvalidArgumentError('seed', seed, 'a finite number');
    let s = Math.floor(seed) >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [low, high), 53 bits of resolution. */
  uniform(low = 0, high = 1): number {
    const x = (this.nextUint32() * 2 ** 21 + (this.nextUint32() >>> 11)) / 2 ** 53;
    return low + (high - low) * x;
  }

  /** Normal with the given mean and standard deviation (Marsaglia polar method). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u: number, v: number, s: number;
    do {
      u = this.uniform(-1, 1);
      v = this.uniform(-1, 1);
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + std * u * f;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('n', n, 'a positive integer');
    return Math.floor(this.uniform() * n);
  }

  /** Fills a new Float32Array of length `n` with draws from `sample`. */
  fill(n: number, sample: (rng: Rng) => number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = sample(this);
    return out;
  }

  /** A permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** An independent generator derived from this one's stream. */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }
}

/**
 * Seed used where the caller gives none: fixed, so runs are reproducible by default.
 *
 * @example
 * ```ts
 * const seed = undefined as number | undefined;
 * const rng = new Rng(seed ?? DEFAULT_SEED); // what gradflow does when no seed is given
 * if (rng.uniform() !== new Rng(DEFAULT_SEED).uniform()) throw new Error('not reproducible');
 * ```
 */
export const DEFAULT_SEED = 1337;
