import * as tf from '@tensorflow/tfjs';

/*
 * Reductions over tensor data on the host, in float64. On the cpu and wasm backends reading a
 * tensor is a memory copy at most, so one pass in JS over each tensor costs less than the
 * dozens of small kernels (each with engine bookkeeping) the same statistics take on the device.
 *
 * The loops are written for V8: four independent accumulators (so additions pipeline), rows of
 * channels instead of `i % C`, no closures in the common (ReLU / linear) case.
 */

/** What the wasm backend of tfjs 4.x keeps per tensor (read-only use, checked before use). */
interface WasmBackendLike {
  dataIdMap?: { get(dataId: unknown): { memoryOffset?: unknown; dtype?: unknown } | undefined };
  wasm?: { HEAPU8?: Uint8Array };
}

/**
 * The float32 data of `t` for immediate, read-only use. On the wasm backend this is a view onto
 * the wasm heap where the tensor lives (`dataSync()` would copy it into a fresh ArrayBuffer, which
 * for the probe's hundreds of small tensors costs more than reducing them); the view must be used
 * before any tfjs op runs (an op may grow the heap and detach the view). Anywhere else, or if
 * the backend does not look as expected, `dataSync()` (on cpu: no copy either).
 */
export function dataOf(t: tf.Tensor): Float32Array {
  if (t.dtype === 'float32' && t.size > 0) {
    const info = (
      tf.engine() as unknown as {
        state?: { tensorInfo?: { get(dataId: unknown): { backend?: unknown } | undefined } };
      }
    ).state?.tensorInfo?.get(t.dataId);
    const backend = info?.backend as WasmBackendLike | undefined;
    const heap = backend?.wasm?.HEAPU8;
    const entry = heap ? backend?.dataIdMap?.get(t.dataId) : undefined;
    const offset = entry?.memoryOffset;
    if (
      heap &&
      entry?.dtype === 'float32' &&
      typeof offset === 'number' &&
      offset % 4 === 0 &&
      offset + 4 * t.size <= heap.byteLength
    ) {
      return new Float32Array(heap.buffer, heap.byteOffset + offset, t.size);
    }
  }
  return t.dataSync() as Float32Array;
}

function sumSqOf(d: Float32Array): number {
  const n = d.length;
  const m = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < m; i += 4) {
    const a = d[i]!;
    const b = d[i + 1]!;
    const c = d[i + 2]!;
    const e = d[i + 3]!;
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += e * e;
  }
  for (let i = m; i < n; i++) {
    const a = d[i]!;
    s0 += a * a;
  }
  return s0 + s1 + (s2 + s3);
}

function sumOf(d: Float32Array): number {
  const n = d.length;
  const m = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < m; i += 4) {
    s0 += d[i]!;
    s1 += d[i + 1]!;
    s2 += d[i + 2]!;
    s3 += d[i + 3]!;
  }
  for (let i = m; i < n; i++) s0 += d[i]!;
  return s0 + s1 + (s2 + s3);
}

/** Sum of (x - mean)^2 over all elements (the second pass of a two-pass variance). */
function centredSumSqOf(d: Float32Array, mean: number): number {
  const n = d.length;
  const m = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < m; i += 4) {
    const a = d[i]! - mean;
    const b = d[i + 1]! - mean;
    const c = d[i + 2]! - mean;
    const e = d[i + 3]! - mean;
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += e * e;
  }
  for (let i = m; i < n; i++) {
    const a = d[i]! - mean;
    s0 += a * a;
  }
  return s0 + s1 + (s2 + s3);
}

/** Sum of squares of all elements, in float64. */
export function sumSqHost(t: tf.Tensor): number {
  return sumSqOf(dataOf(t));
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
 * Mean and (population, two-pass) variance of all elements; fraction saturated by
 * `isSaturated`; with `dead`, the fraction of channels (last axis) that are exactly zero
 * everywhere.
 */
export function activationHost(
  t: tf.Tensor,
  isSaturated: ((y: number) => boolean) | null,
  dead: boolean,
): HostActivation {
  const d = dataOf(t);
  const n = d.length;
  const mean = sumOf(d) / n;
  const variance = centredSumSqOf(d, mean) / n;
  let saturated: number | null = null;
  if (isSaturated) {
    let sat = 0;
    for (let i = 0; i < n; i++) if (isSaturated(d[i]!)) sat++;
    saturated = sat / n;
  }
  let deadFraction: number | null = null;
  if (dead) {
    const C = t.rank >= 2 ? (t.shape[t.rank - 1] ?? 1) : 1;
    const alive = new Uint8Array(C);
    let zero = C;
    // Row by row; stop as soon as every channel has fired once (the usual case, after a few rows).
    for (let base = 0; base < n && zero > 0; base += C) {
      for (let c = 0; c < C; c++) {
        if (alive[c] === 0 && d[base + c] !== 0) {
          alive[c] = 1;
          zero--;
        }
      }
    }
    deadFraction = zero / C;
  }
  return { mean, variance, saturated, dead: deadFraction };
}

/** Per-channel (last axis) moments averaged over channels: mean of squared means, mean of variances. */
export function channelMomentsHost(t: tf.Tensor): { avgSquaredMean: number; avgVariance: number } {
  const d = dataOf(t);
  const C = t.rank >= 2 ? (t.shape[t.rank - 1] ?? 1) : 1;
  const n = d.length;
  const per = n / C;
  let sqMean = 0;
  let variance = 0;
  // Channel by channel with a stride: the accumulators stay in registers.
  for (let c = 0; c < C; c++) {
    let s = 0;
    let ss = 0;
    for (let i = c; i < n; i += C) {
      const v = d[i]!;
      s += v;
      ss += v * v;
    }
    const m = s / per;
    sqMean += m * m;
    variance += Math.max(0, ss / per - m * m);
  }
  return { avgSquaredMean: sqMean / C, avgVariance: variance / C };
}
