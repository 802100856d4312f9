import type * as tf from '@tensorflow/tfjs';

/*
 * Reductions over tensor data on the host, in float64. On the cpu and wasm backends reading a
 * tensor is a memory copy at most, so one pass in JS over each tensor costs less than the
 * dozens of small kernels (each with engine bookkeeping) the same statistics take on the device.
 */

const dataOf = (t: tf.Tensor) => t.dataSync() as Float32Array;

export function sumSqHost(t: tf.Tensor): number {
  const d = dataOf(t);
  let s = 0;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    s += v * v;
  }
  return s;
}

/** Sum of squares of the elementwise sum of same-shaped tensors. */
export function sumSqOfSumHost(ts: tf.Tensor[]): number {
  if (ts.length === 1) return sumSqHost(ts[0]!);
  const arrays = ts.map(dataOf);
  const n = arrays[0]!.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const a of arrays) v += a[i]!;
    s += v * v;
  }
  return s;
}

export interface HostActivation {
  mean: number;
  variance: number;
  saturated: number | null;
  dead: number | null;
}

/**
 * Mean and (population) variance of all elements; fraction saturated by `isSaturated`; with
 * `dead`, the fraction of channels (last axis) that are exactly zero everywhere.
 */
export function activationHost(
  t: tf.Tensor,
  isSaturated: ((y: number) => boolean) | null,
  dead: boolean,
): HostActivation {
  const d = dataOf(t);
  const n = d.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += d[i]!;
  const mean = sum / n;
  let sq = 0;
  let sat = 0;
  for (let i = 0; i < n; i++) {
    const v = d[i]!;
    sq += (v - mean) * (v - mean);
    if (isSaturated && isSaturated(v)) sat++;
  }
  let deadFraction: number | null = null;
  if (dead) {
    const C = t.rank >= 2 ? (t.shape[t.rank - 1] ?? 1) : 1;
    const alive = new Uint8Array(C);
    for (let i = 0; i < n; i++) if (d[i] !== 0) alive[i % C] = 1;
    let zero = 0;
    for (let c = 0; c < C; c++) if (alive[c] === 0) zero++;
    deadFraction = zero / C;
  }
  return { mean, variance: sq / n, saturated: isSaturated ? sat / n : null, dead: deadFraction };
}

/** Per-channel (last axis) moments averaged over channels: mean of squared means, mean of variances. */
export function channelMomentsHost(t: tf.Tensor): { avgSquaredMean: number; avgVariance: number } {
  const d = dataOf(t);
  const C = t.rank >= 2 ? (t.shape[t.rank - 1] ?? 1) : 1;
  const sum = new Float64Array(C);
  const sumSq = new Float64Array(C);
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    const c = i % C;
    sum[c] = sum[c]! + v;
    sumSq[c] = sumSq[c]! + v * v;
  }
  const per = d.length / C;
  let sqMean = 0;
  let variance = 0;
  for (let c = 0; c < C; c++) {
    const m = sum[c]! / per;
    sqMean += m * m;
    variance += Math.max(0, sumSq[c]! / per - m * m);
  }
  return { avgSquaredMean: sqMean / C, avgVariance: variance / C };
}
