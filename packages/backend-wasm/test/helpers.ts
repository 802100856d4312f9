// Local test helpers (@gradflow/testing depends on this package, so tests cannot import it).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { expect } from 'vitest';
import { useWasmBackend } from '../src/index.js';

export type Backend = 'cpu' | 'wasm';

let ready: Promise<unknown> | undefined;

export async function on<T>(backend: Backend, fn: () => T | Promise<T>): Promise<T> {
  if (backend === 'wasm') {
    ready ??= useWasmBackend();
    await ready;
  }
  await tf.setBackend(backend);
  return fn();
}

/** Norm-wise relative error: max|a-b| / max|b| (max|b| floored at 1e-12). */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!Number.isFinite(a)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, Math.abs(a - e));
    scale = Math.max(scale, Math.abs(e));
  }
  return diff / Math.max(scale, 1e-12);
}

export function randomData(rng: Rng, n: number): Float32Array {
  return rng.fill(n, (r) => r.uniform(-1, 1));
}

/** Runs a kernel on `backend` with tensors made from plain data; returns the output values. */
export async function runKernelOn(
  backend: Backend,
  kernelName: string,
  inputs: Record<string, { data: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<Float32Array> {
  return on(backend, () => {
    const before = tf.memory().numTensors;
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.data, v.shape, 'float32');
    const out = tf.engine().runKernel(kernelName, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
    const values = out.dataSync() as Float32Array;
    out.dispose();
    for (const t of Object.values(tensors)) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    return Float32Array.from(values);
  });
}

export interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  /** Channel multiplier for depthwise cases. */
  mult: number;
  k: number;
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
}

export function describeCase(c: ConvCase): string {
  return `n${c.n} ${c.h}x${c.w} ci${c.ci} co${c.co} m${c.mult} k${c.k} s${c.stride} d${c.dilation} ${c.pad}`;
}

export function info(c: ConvCase, depthwise: boolean): tf.backend_util.Conv2DInfo {
  const filter: [number, number, number, number] = [c.k, c.k, c.ci, depthwise ? c.mult : c.co];
  return tf.backend_util.computeConv2DInfo(
    [c.n, c.h, c.w, c.ci],
    filter,
    c.stride,
    c.dilation,
    c.pad,
    undefined,
    depthwise,
  );
}

/**
 * Zero-inserts a [k,k,a,b] filter to its dilated [kE,kE,a,b] equivalent, so that a dilation-1
 * reference kernel computes the dilated convolution.
 */
export function dilateFilter(w: Float32Array, k: number, a: number, b: number, d: number): Float32Array {
  const ke = (k - 1) * d + 1;
  const out = new Float32Array(ke * ke * a * b);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++)
      for (let p = 0; p < a * b; p++)
        out[(i * d * ke + j * d) * a * b + p] = w[(i * k + j) * a * b + p] as number;
  return out;
}

/** Picks the taps of a dilated [kE,kE,a,b] filter gradient back to [k,k,a,b]. */
export function undilateFilter(g: Float32Array, k: number, a: number, b: number, d: number): Float32Array {
  const ke = (k - 1) * d + 1;
  const out = new Float32Array(k * k * a * b);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++)
      for (let p = 0; p < a * b; p++)
        out[(i * k + j) * a * b + p] = g[(i * d * ke + j * d) * a * b + p] as number;
  return out;
}

/**
 * Forward convolution in float64 straight from the definition (NHWC, HWIO or depthwise
 * [k,k,c,mult]), and L = sum(y * dy): the function whose gradients the kernels compute.
 */
export function lossF64(
  c: ConvCase,
  depthwise: boolean,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
): number {
  const g = info(c, depthwise);
  const co = depthwise ? c.ci * c.mult : c.co;
  let loss = 0;
  for (let n = 0; n < c.n; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let o = 0; o < co; o++) {
          let y = 0;
          for (let kh = 0; kh < c.k; kh++) {
            const ih = oh * c.stride - g.padInfo.top + kh * c.dilation;
            if (ih < 0 || ih >= c.h) continue;
            for (let kw = 0; kw < c.k; kw++) {
              const iw = ow * c.stride - g.padInfo.left + kw * c.dilation;
              if (iw < 0 || iw >= c.w) continue;
              const xb = ((n * c.h + ih) * c.w + iw) * c.ci;
              if (depthwise) {
                const ch = Math.floor(o / c.mult);
                const q = o % c.mult;
                y += (x[xb + ch] as number) * (w[((kh * c.k + kw) * c.ci + ch) * c.mult + q] as number);
              } else {
                for (let i = 0; i < c.ci; i++)
                  y += (x[xb + i] as number) * (w[((kh * c.k + kw) * c.ci + i) * co + o] as number);
              }
            }
          }
          loss += y * (dy[((n * g.outHeight + oh) * g.outWidth + ow) * co + o] as number);
        }
  return loss;
}

/** Central finite difference of `f` w.r.t. coordinate `i` of `v` (float64 copy). */
export function finiteDifference(
  f: (v: Float64Array) => number,
  v: ArrayLike<number>,
  i: number,
  h = 1e-3,
): number {
  const p = Float64Array.from(v as ArrayLike<number>);
  const m = Float64Array.from(v as ArrayLike<number>);
  p[i] = (p[i] as number) + h;
  m[i] = (m[i] as number) - h;
  return (f(p) - f(m)) / (2 * h);
}

/**
 * The grid: every (kernel 1/3/5/7, stride 1/2, same/valid, dilation 1/2) combination,
 * each with a random odd-ish size, batch 1 or 3 and channels from 1..64 (large channel counts
 * only with small kernels, to keep the suite fast).
 */
export function grid(seed: number): ConvCase[] {
  const rng = new Rng(seed);
  const channels = [1, 2, 3, 5, 8, 13, 16, 32, 64];
  const cases: ConvCase[] = [];
  for (const k of [1, 3, 5, 7])
    for (const stride of [1, 2])
      for (const pad of ['same', 'valid'] as const)
        for (const dilation of k === 1 ? [1] : [1, 2]) {
          const big = k * dilation >= 5;
          const pick = (): number => channels[rng.int(big ? 5 : channels.length)] as number;
          const ke = (k - 1) * dilation + 1;
          const size = (): number => ke + 1 + 2 * rng.int(big ? 2 : 4);
          cases.push({
            n: rng.int(2) === 0 ? 1 : 3,
            h: size(),
            w: size(),
            ci: pick(),
            co: pick(),
            mult: 1 + rng.int(3),
            k,
            stride,
            dilation,
            pad,
          });
        }
  return cases;
}

/** max|a - b|, for values whose own scale says nothing (a mean near 0 of data of scale 1). */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  for (let i = 0; i < expected.length; i++)
    diff = Math.max(diff, Math.abs((actual[i] as number) - (expected[i] as number)));
  return diff;
}

/** Per-channel mean and population variance of channels-last `data` in float64 (two passes). */
export function channelMomentsF64(data: ArrayLike<number>, channels: number): [Float64Array, Float64Array] {
  const rows = data.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < data.length; i++) mean[i % channels]! += (data[i] as number) / rows;
  for (let i = 0; i < data.length; i++)
    variance[i % channels]! += ((data[i] as number) - mean[i % channels]!) ** 2 / rows;
  return [mean, variance];
}
