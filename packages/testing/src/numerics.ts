import * as tf from '@tensorflow/tfjs';

export interface Tolerance {
  /** Relative tolerance, scaled by |expected|. */
  rtol?: number;
  /** Absolute tolerance, for values near zero. */
  atol?: number;
}

type Values = tf.Tensor | ArrayLike<number> | number;

function toArray(v: Values): Float64Array {
  if (typeof v === 'number') return Float64Array.of(v);
  if (v instanceof tf.Tensor) return Float64Array.from(v.dataSync() as ArrayLike<number>);
  return Float64Array.from(v);
}

/**
 * Largest violation of |a - e| <= atol + rtol * |e| (numpy's allclose), with where it happened.
 * NaN matches NaN and ±Infinity matches itself, as in numpy's `equal_nan`.
 */
export function compareClose(actual: Values, expected: Values, tolerance: Tolerance = {}) {
  const { rtol = 1e-5, atol = 1e-7 } = tolerance;
  const a = toArray(actual);
  const e = toArray(expected);
  if (a.length !== e.length) {
    return { ok: false, message: `length ${a.length} != expected length ${e.length}` };
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst < 0) return { ok: true, message: '' };
  return {
    ok: false,
    message: `element ${worst}: ${a[worst]} vs expected ${e[worst]} (|diff| ${Math.abs(a[worst]! - e[worst]!)}, allowed ${atol} + ${rtol}*|expected|)`,
  };
}

/** Throws with the worst element unless `actual` and `expected` are close. */
export function expectAllClose(
  actual: Values,
  expected: Values,
  tolerance: Tolerance = {},
  what = 'values',
): void {
  const { ok, message } = compareClose(actual, expected, tolerance);
  if (!ok) throw new Error(`${what} differ: ${message}`);
}

/**
 * Central finite-difference gradient of a scalar function of a Float64Array (in float64, so
 * the reference is not itself limited by float32 rounding).
 */
export function finiteDifferenceGradient(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  eps = 1e-4,
): Float64Array {
  const point = Float64Array.from(x);
  const grad = new Float64Array(point.length);
  for (let i = 0; i < point.length; i++) {
    const saved = point[i]!;
    point[i] = saved + eps;
    const plus = f(point);
    point[i] = saved - eps;
    const minus = f(point);
    point[i] = saved;
    grad[i] = (plus - minus) / (2 * eps);
  }
  return grad;
}

/** Asserts no tensor outlives `fn` (besides what it returns, which the caller must dispose). */
export async function expectNoLeak<T>(fn: () => T | Promise<T>, what = 'call'): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const returned = countTensors(result);
  const after = tf.memory().numTensors;
  if (after - returned !== before) {
    throw new Error(
      `${what} leaked ${after - returned - before} tensor(s) (${before} before, ${after} after, ${returned} returned)`,
    );
  }
  return result;
}

function countTensors(value: unknown): number {
  if (value instanceof tf.Tensor) return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countTensors(v), 0);
  return 0;
}
