/** Element-wise kernels: broadcast arithmetic, Relu and Square, the fused BatchNorm forward and gradients of ReLU, BatchNorm and Sum/Mean. */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '@gradflow/core';
import { BATCH_NORM_GRAD_KERNEL, REDUCE_GRAD_KERNEL, RELU_GRAD_KERNEL } from '../gradients.js';
import { floatChunks, runChunks, splitFloats } from '../parallel.js';
import { ptrOf, release, runtimeFor, scratch, type WasmBackendLike } from '../runtime.js';
import { callStock, input, type KernelArgs } from './common.js';

export const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4 } as const;

export type BinaryName = keyof typeof BINARY_OPS;

/**
 * How an operand of `shape` broadcasts to `out` (shape left-padded with 1s): as [outer, mid, inner]
 * where the operand is full along outer and inner and 1 along mid. `{ outer: 1 }` is a trailing
 * block (a per-channel vector, a scalar); outer > 1 with mid > 1 is e.g. a per-sample-and-channel
 * statistic [N,1,1,C] against [N,H,W,C]. Null when the broadcast has another pattern.
 */
function broadcastPattern(
  shape: number[],
  out: number[],
): { outer: number; mid: number; inner: number } | null {
  const padded = [...Array<number>(out.length - shape.length).fill(1), ...shape];
  const differs = out.map((d, i) => padded[i] !== d);
  const first = differs.indexOf(true);
  if (first < 0) return { outer: 1, mid: 1, inner: out.reduce((p, d) => p * d, 1) };
  const last = differs.lastIndexOf(true);
  if (padded.slice(first, last + 1).some((d) => d !== 1)) return null;
  const size = (from: number, to: number): number => out.slice(from, to).reduce((p, d) => p * d, 1);
  return { outer: size(0, first), mid: size(first, last + 1), inner: size(last + 1, out.length) };
}

/** Floats per split unit of a pass with no period of its own: a few cache lines, so threads never write one line both. */
const LINE_FLOATS = 64;

/**
 * float32 Add/Sub/Multiply/RealDiv/SquaredDifference where one operand is the full output and the
 * other is full or broadcast as [outer, 1, inner] (see broadcastPattern): one SIMD pass (a loop
 * over `outer` for per-sample statistics), split over the kernel pool in whole broadcast periods.
 * This covers the BatchNorm, GroupNorm, InstanceNorm and LayerNorm arithmetic; other broadcasts
 * run stock.
 */
export function binary(kernelName: BinaryName, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend } = args;
  const a = inputs.a;
  const bIn = inputs.b;
  if (!a || !bIn || a.dtype !== 'float32' || bIn.dtype !== 'float32') return callStock(kernelName, args);
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, bIn.shape);
  const n = outShape.reduce((p, d) => p * d, 1);
  const pa = broadcastPattern(a.shape, outShape);
  const pb = broadcastPattern(bIn.shape, outShape);
  if (n === 0 || !pa || !pb) return callStock(kernelName, args);
  const aFull = pa.mid === 1;
  const bFull = pb.mid === 1;
  const small = aFull ? pb : pa;
  if (!aFull && !bFull) return callStock(kernelName, args);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput(outShape, 'float32');
  const op = BINARY_OPS[kernelName];
  const [ptrA, ptrB, ptrOut] = [ptrOf(b, a), ptrOf(b, bIn), ptrOf(b, out)];
  if (small.outer === 1) {
    const period = aFull && bFull ? LINE_FLOATS : small.inner;
    splitFloats(rt, 'gf_binary', n, period, (begin, end) => [
      op,
      aFull ? ptrA + begin * 4 : ptrA,
      aFull ? end - begin : small.inner,
      bFull ? ptrB + begin * 4 : ptrB,
      bFull ? end - begin : small.inner,
      ptrOut + begin * 4,
      end - begin,
    ]);
  } else {
    rt.exports.gf_binary_outer(op, ptrA, ptrB, aFull ? 0 : 1, small.outer, small.mid, small.inner, ptrOut);
  }
  return out;
}

/**
 * FusedBatchNorm where mean, variance and the optional offset/scale are per-channel vectors of
 * the last axis: one SIMD pass with the per-channel factor scale/sqrt(var+eps) computed once
 * (stock 4.22 runs it element by element). Else stock.
 */
export function fusedBatchNorm(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const { x, mean, variance, offset, scale } = inputs;
  if (!x || !mean || !variance || x.dtype !== 'float32' || x.shape.length === 0) {
    return callStock('FusedBatchNorm', args);
  }
  const c = x.shape[x.shape.length - 1] as number;
  const size = x.shape.reduce((p, d) => p * d, 1);
  const params = [mean, variance, offset, scale].filter((t): t is tf.TensorInfo => t !== undefined);
  const perChannel = (t: tf.TensorInfo): boolean =>
    t.dtype === 'float32' && t.shape.reduce((p, d) => p * d, 1) === c && (t.shape.at(-1) ?? 1) === c;
  if (size === 0 || c === 0 || !params.every(perChannel)) return callStock('FusedBatchNorm', args);
  const eps = (attrs.varianceEpsilon ?? 0.001) as number;
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...x.shape], 'float32');
  const [px, pout] = [ptrOf(b, x), ptrOf(b, out)];
  const stats = [
    ptrOf(b, mean),
    ptrOf(b, variance),
    offset ? ptrOf(b, offset) : 0,
    scale ? ptrOf(b, scale) : 0,
  ];
  // Per-channel factors, 2c floats for each chunk.
  const ranges = floatChunks(rt, size, c);
  const tmp = scratch(rt, 2 * c * 4 * ranges.length);
  try {
    runChunks(rt, 'gf_batchnorm', ranges, (begin, end, chunk) => [
      px + begin * 4,
      (end - begin) / c,
      c,
      ...stats,
      eps,
      pout + begin * 4,
      tmp + chunk * 2 * c * 4,
    ]);
  } finally {
    release(rt, tmp);
  }
  return out;
}

/** dy * step(x) (the ReLU gradient) in one pass: see gradients.ts. */
export function reluGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const name = RELU_GRAD_KERNEL;
  const dy = input(inputs, 'dy', name);
  const x = input(inputs, 'x', name);
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`${name} dy`, dy.shape, `the shape of x [${x.shape.join(', ')}]`);
  }
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...x.shape], 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  const [pdy, px, pout] = [ptrOf(b, dy), ptrOf(b, x), ptrOf(b, out)];
  if (n > 0) {
    splitFloats(rt, 'gf_relu_grad', n, LINE_FLOATS, (begin, end) => [
      pdy + begin * 4,
      px + begin * 4,
      pout + begin * 4,
      end - begin,
    ]);
  }
  return out;
}

const UNARY_OPS = { Relu: 0, Square: 1 } as const;

/**
 * float32 Relu or Square in one SIMD pass, split over the kernel pool. (Stock 4.22's took 1.6-1.8x
 * longer in the threaded build than in the single-threaded one: ResNet-20 step profile.)
 */
export function unary(kernelName: keyof typeof UNARY_OPS, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x;
  if (!x || x.dtype !== 'float32') return callStock(kernelName, args);
  const b = args.backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...x.shape], 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  const [px, pout] = [ptrOf(b, x), ptrOf(b, out)];
  const op = UNARY_OPS[kernelName];
  if (n > 0) {
    splitFloats(rt, 'gf_unary', n, LINE_FLOATS, (begin, end) => [
      op,
      px + begin * 4,
      pout + begin * 4,
      end - begin,
    ]);
  }
  return out;
}

/**
 * The FusedBatchNorm gradient for per-channel statistics: outputs [dx, dmean, dvariance, dscale,
 * doffset] from two passes over x and dy (see gradients.ts). With `batchStatistics: true` the
 * mean and variance are x's own batch statistics and dx includes the paths through them (the
 * training-mode BatchNorm gradient, see batchNormTrainingGrad).
 */
export function batchNormGrad({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo[] {
  const name = BATCH_NORM_GRAD_KERNEL;
  const x = input(inputs, 'x', name);
  const dy = input(inputs, 'dy', name);
  const mean = input(inputs, 'mean', name);
  const variance = input(inputs, 'variance', name);
  const scale = inputs.scale ? input(inputs, 'scale', name) : undefined;
  if (x.shape.length === 0) throw new ShapeError(`${name} x`, x.shape, 'rank >= 1 (channels last)');
  const c = x.shape[x.shape.length - 1] as number;
  if (dy.shape.length !== x.shape.length || dy.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`${name} dy`, dy.shape, `the shape of x [${x.shape.join(', ')}]`);
  }
  for (const [what, t] of [
    ['mean', mean],
    ['variance', variance],
    ['scale', scale],
  ] as const) {
    if (t && (t.shape.length !== 1 || t.shape[0] !== c))
      throw new ShapeError(`${name} ${what}`, t.shape, `[${c}]`);
  }
  const eps = (attrs.varianceEpsilon ?? 0.001) as number;
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const dx = b.makeOutput([...x.shape], 'float32');
  const outs = [0, 1, 2, 3].map(() => b.makeOutput([c], 'float32'));
  const [dmean, dvar, dscale, doffset] = outs as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
  const size = x.shape.reduce((p, d) => p * d, 1);
  const rows = c === 0 ? 0 : size / c;
  const batchStats = attrs.batchStatistics === true ? 1 : 0;
  const [px, pdy, pdx, pmean] = [ptrOf(b, x), ptrOf(b, dy), ptrOf(b, dx), ptrOf(b, mean)];
  // Whole blocks of 256 rows per chunk: the float32 block sums do not depend on the split.
  const row = Math.max(c, 1);
  const ranges = floatChunks(rt, size, 256 * row);
  // Per chunk 2c doubles of partial sums; then 3c floats of factors.
  const tmp = scratch(rt, ranges.length * 2 * c * 8 + 3 * c * 4);
  const sums = (chunk: number) => tmp + chunk * 2 * c * 8;
  const factors = tmp + ranges.length * 2 * c * 8;
  try {
    runChunks(rt, 'gf_batchnorm_grad_sums', ranges, (begin, end, chunk) => [
      px + begin * 4,
      pdy + begin * 4,
      (end - begin) / row,
      c,
      pmean,
      sums(chunk),
    ]);
    rt.exports.gf_batchnorm_grad_finish(
      rows,
      c,
      ranges.length,
      sums(0),
      pmean,
      ptrOf(b, variance),
      scale ? ptrOf(b, scale) : 0,
      eps,
      batchStats,
      ptrOf(b, dmean),
      ptrOf(b, dvar),
      ptrOf(b, dscale),
      ptrOf(b, doffset),
      factors,
    );
    splitFloats(rt, 'gf_batchnorm_grad_dx', size, row, (begin, end) => [
      px + begin * 4,
      pdy + begin * 4,
      (end - begin) / row,
      c,
      batchStats,
      factors,
      pdx + begin * 4,
    ]);
  } finally {
    release(rt, tmp);
  }
  return [dx, dmean, dvar, dscale, doffset];
}

/** A kernel of our own: per-channel mean and variance over every axis but the last, in one pass. */
export const MOMENTS_KERNEL = 'GradflowMoments';

/**
 * Per-channel mean and population variance of x over every axis but the last: outputs [mean,
 * variance], each [C]. One pass over x split by rows (the composed form reads x three times and
 * writes it once); the sums are shifted by x's first row, so a large mean costs no precision.
 */
export function moments({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const name = MOMENTS_KERNEL;
  const x = input(inputs, 'x', name);
  if (x.shape.length < 2) throw new ShapeError(`${name} x`, x.shape, 'rank >= 2 (channels last)');
  const c = x.shape[x.shape.length - 1]!;
  const size = x.shape.reduce((p, d) => p * d, 1);
  const rows = c === 0 ? 0 : size / c;
  if (rows === 0)
    throw new ShapeError(`${name} x`, x.shape, 'at least one row (the moments of nothing are undefined)');
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const [mean, variance] = [b.makeOutput([c], 'float32'), b.makeOutput([c], 'float32')];
  const px = ptrOf(b, x);
  // Per chunk 2c doubles of partial sums.
  const ranges = floatChunks(rt, size, 256 * c);
  const tmp = scratch(rt, ranges.length * 2 * c * 8);
  const sums = (chunk: number) => tmp + chunk * 2 * c * 8;
  try {
    runChunks(rt, 'gf_moments_sums', ranges, (begin, end, chunk) => [
      px + begin * 4,
      px,
      (end - begin) / c,
      c,
      sums(chunk),
    ]);
    rt.exports.gf_moments_finish(px, rows, c, ranges.length, sums(0), ptrOf(b, mean), ptrOf(b, variance));
  } finally {
    release(rt, tmp);
  }
  return [mean, variance];
}

/** dy (the reduced tensor) repeated over the leading axes of `shape`, divided by `divisor`. */
export function reduceGrad({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
  const name = REDUCE_GRAD_KERNEL;
  const dy = input(inputs, 'dy', name);
  const shape = attrs.shape as number[];
  const divisor = attrs.divisor as number;
  const n = shape.reduce((p, d) => p * d, 1);
  const block = dy.shape.reduce((p, d) => p * d, 1);
  if (block === 0 ? n !== 0 : n % block !== 0) {
    throw new ShapeError(`${name} dy`, dy.shape, `a trailing block of [${shape.join(', ')}]`);
  }
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...shape], 'float32');
  const [pdy, pout] = [ptrOf(b, dy), ptrOf(b, out)];
  if (n > 0) {
    splitFloats(rt, 'gf_repeat_div', n, block, (begin, end) => [
      pdy,
      block,
      (end - begin) / block,
      divisor,
      pout + begin * 4,
    ]);
  }
  return out;
}
