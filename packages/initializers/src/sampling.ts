import type { Rng } from '@gradflow/core';

/**
 * Keras's correction for a normal truncated at ±2 standard deviations: the standard deviation
 * of the standard normal restricted to [-2, 2]. Dividing the target std by it makes the
 * truncated distribution's std equal the target (tfjs omits it, tfjs#8594: variance 0.774x).
 *
 * @example
 * ```ts
 * // He truncated normal for a [256, 64] kernel: target std sqrt(2/256), drawn from a normal
 * // of std target / TRUNCATION_STD_CORRECTION cut at ±2 of its own std.
 * const target = Math.sqrt(2 / 256);
 * const w = new HeTruncatedNormal({ nonlinearity: 'relu', seed: 0 }).apply([256, 64]);
 * const std = tf.tidy(() => Math.sqrt(tf.moments(w).variance.dataSync()[0]!));
 * if (Math.abs(std / target - 1) > 0.03) throw new Error(`std ${std}, expected ${target}`);
 * // tfjs's own heNormal is narrower: about TRUNCATION_STD_CORRECTION * target
 * w.dispose();
 * ```
 */
export const TRUNCATION_STD_CORRECTION = 0.87962566103423978;

/**
 * Draws one standard normal restricted to [lo, hi] exactly (no clipping, no bias), by
 * rejection with the proposal Robert (1995) shows is efficient for the interval at hand:
 * a plain normal when the interval holds the bulk of the mass, a uniform for short intervals,
 * a shifted exponential for tails. Acceptance is bounded away from 0 for every interval.
 */
export function truncatedStandardNormal(rng: Rng, lo: number, hi: number): number {
  if (lo >= 0) return tail(rng, lo, hi);
  if (hi <= 0) return -tail(rng, -hi, -lo);
  // The interval straddles 0: a normal proposal accepts with probability P(lo<=Z<=hi), a uniform
  // one with P * sqrt(2 pi) / (hi - lo); take the better.
  if (hi - lo >= Math.sqrt(2 * Math.PI)) {
    for (;;) {
      const z = rng.normal();
      if (z >= lo && z <= hi) return z;
    }
  }
  for (;;) {
    const z = rng.uniform(lo, hi);
    if (rng.uniform() <= Math.exp(-0.5 * z * z)) return z;
  }
}

/** Standard normal restricted to [lo, hi] with 0 <= lo < hi (hi may be Infinity). */
function tail(rng: Rng, lo: number, hi: number): number {
  const lambda = (lo + Math.sqrt(lo * lo + 4)) / 2;
  // Robert's threshold: below it a uniform proposal beats the exponential one.
  const uniformBetter =
    hi <
    lo +
      ((2 * Math.sqrt(Math.E)) / (lo + Math.sqrt(lo * lo + 4))) *
        Math.exp((lo * lo - lo * Math.sqrt(lo * lo + 4)) / 4);
  if (uniformBetter) {
    for (;;) {
      const z = rng.uniform(lo, hi);
      if (rng.uniform() <= Math.exp((lo * lo - z * z) / 2)) return z;
    }
  }
  for (;;) {
    const z = lo - Math.log(1 - rng.uniform()) / lambda;
    if (z > hi) continue;
    if (rng.uniform() <= Math.exp(-0.5 * (z - lambda) ** 2)) return z;
  }
}
