/** Data-movement and reduction kernels: matrix products, Tile, Sum/Mean, Identity, Slice, SplitV, Cast. */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, UnsupportedError } from '@gradflow/core';
import { gemmSplit, splitFloats, threadsFor } from '../parallel.js';
import {
  ptrOf,
  release,
  runtimeFor,
  scratch,
  writeInts,
  type KernelRuntime,
  type WasmBackendLike,
} from '../runtime.js';
import { callStock, type KernelArgs } from './common.js';

export function batchMatMul(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const a = inputs.a;
  const bIn = inputs.b;
  if (
    !a ||
    !bIn ||
    a.dtype !== 'float32' ||
    bIn.dtype !== 'float32' ||
    a.shape.length < 2 ||
    bIn.shape.length < 2
  ) {
    return callStock('BatchMatMul', args);
  }
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const ra = a.shape.length;
  const rb = bIn.shape.length;
  const [a0, a1] = [a.shape[ra - 2] as number, a.shape[ra - 1] as number];
  const [b0, b1] = [bIn.shape[rb - 2] as number, bIn.shape[rb - 1] as number];
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const kb = transposeB ? b1 : b0;
  const n = transposeB ? b0 : b1;
  if (k !== kb) {
    throw new ShapeError(
      'BatchMatMul',
      [a.shape, bIn.shape],
      `inner dimensions to agree (${k} vs ${kb})`,
      `transposeA=${transposeA}, transposeB=${transposeB}`,
    );
  }
  const batchShapeA = a.shape.slice(0, -2);
  const batchShapeB = bIn.shape.slice(0, -2);
  const batchA = batchShapeA.reduce((p, d) => p * d, 1);
  const batchB = batchShapeB.reduce((p, d) => p * d, 1);
  const sameBatch =
    batchShapeA.length === batchShapeB.length && batchShapeA.every((d, i) => d === batchShapeB[i]);
  if (!sameBatch && batchA !== 1 && batchB !== 1) return callStock('BatchMatMul', args);
  const outBatchShape = tf.backend_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
  const batch = Math.max(batchA, batchB);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...outBatchShape, m, n], 'float32');
  const threads = batch === 1 ? threadsFor(rt, 2 * m * n * k, Math.max(m, n)) : 1;
  if (threads > 1) {
    const [rsa, csa] = transposeA ? [1, m] : [k, 1];
    const [rsb, csb] = transposeB ? [1, k] : [n, 1];
    const gemm = { m, n, k, a: ptrOf(b, a), rsa, csa, b: ptrOf(b, bIn), rsb, csb, c: ptrOf(b, out), ldc: n };
    gemmSplit(rt, gemm, threads);
    return out;
  }
  rt.exports.gf_sgemm_batched(
    batch,
    m,
    n,
    k,
    ptrOf(b, a),
    batchA === 1 ? 0 : m * k,
    transposeA ? 1 : k,
    transposeA ? m : 1,
    ptrOf(b, bIn),
    batchB === 1 ? 0 : k * n,
    transposeB ? 1 : n,
    transposeB ? k : 1,
    ptrOf(b, out),
    m * n,
    n,
    rt.ws,
  );
  return out;
}

/**
 * Tile where every repeated axis is preceded only by size-1 axes of the input (the BatchNorm
 * gradient tiles [1,1,1,C] to [N,H,W,C]): the output is whole copies of the input block.
 */
export function tile(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x;
  const reps = attrs.reps as number[] | undefined;
  if (!x || !reps || (x.dtype !== 'float32' && x.dtype !== 'int32') || reps.length !== x.shape.length) {
    return callStock('Tile', args);
  }
  let last = -1;
  reps.forEach((r, i) => {
    if (r !== 1) last = i;
  });
  for (let i = 0; i <= last; i++) if (x.shape[i] !== 1) return callStock('Tile', args);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const outShape = x.shape.map((d, i) => d * (reps[i] as number));
  const out = b.makeOutput(outShape, x.dtype);
  const block = x.shape.reduce((p, d) => p * d, 1);
  const copies = reps.reduce((p, r) => p * r, 1);
  rt.exports.gf_repeat_block(ptrOf(b, x), block, copies, ptrOf(b, out));
  return out;
}

/**
 * out (cols) = scale * the sum of x's rows, the rows split over the kernel pool: thread t > 0 sums
 * its rows into a partial of its own, added to out at the end.
 */
function sumRowsSplit(
  rt: KernelRuntime,
  x: number,
  rows: number,
  cols: number,
  scale: number,
  out: number,
): void {
  const partials: number[] = [];
  try {
    splitFloats(rt, 'gf_sum_rows', rows * cols, cols, (begin, end, chunk) => {
      let into = out;
      if (chunk > 0) {
        into = scratch(rt, cols * 4);
        partials.push(into);
      }
      return [x + begin * 4, (end - begin) / cols, cols, scale, into];
    });
    for (const partial of partials) rt.exports.gf_binary(0, out, cols, partial, cols, out, cols);
  } finally {
    for (const partial of partials) release(rt, partial);
  }
}

/** Sum / Mean over leading axes (per-channel statistics of NHWC tensors, the BatchNorm reductions). */
export function runReduce(kernelName: 'Sum' | 'Mean', args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x;
  if (!x || x.dtype !== 'float32' || x.shape.length < 1) return callStock(kernelName, args);
  const axes = [...tf.util.parseAxisParam(attrs.axis as number | number[], x.shape)].sort((p, q) => p - q);
  const k = axes.length;
  const lo = axes[0] ?? 0;
  // One contiguous run of axes [lo, lo + k): x is [outer, R, inner] and the result [outer, inner].
  if (k === 0 || axes.some((a, i) => a !== lo + i)) return callStock(kernelName, args);
  const size = (from: number, to: number): number => x.shape.slice(from, to).reduce((p, d) => p * d, 1);
  const [outer, r, inner] = [size(0, lo), size(lo, lo + k), size(lo + k, x.shape.length)];
  if (r === 0) return callStock(kernelName, args); // the mean of nothing is NaN, as stock says
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const outShape =
    attrs.keepDims === true
      ? x.shape.map((d, i) => (i >= lo && i < lo + k ? 1 : d))
      : x.shape.filter((_, i) => i < lo || i >= lo + k);
  const out = b.makeOutput(outShape, 'float32');
  const scale = kernelName === 'Mean' ? 1 / Math.max(r, 1) : 1;
  const [px, pout] = [ptrOf(b, x), ptrOf(b, out)];
  if (outer === 1 && inner > 1) {
    sumRowsSplit(rt, px, r, inner, scale, pout);
  } else {
    rt.exports.gf_sum_mid(px, outer, r, inner, scale, pout);
  }
  return out;
}

/**
 * Identity shares the input's heap buffer (refcounted, like the cpu backend) instead of copying
 * it: tensors are immutable, and a shared id is safe for XNNPACK's per-id operator cache because
 * the values behind an id never change.
 */
export function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const x = inputs.x;
  if (!x) throw new UnsupportedError('Identity: missing input x');
  (backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * `begin`/`size` with the dims that need no slicing merged: a trailing dim taken whole folds into
 * the one before it, and size-1 dims of the input drop out. What is left is copied run by run.
 */
function mergeSliceDims(shape: number[], begin: number[], size: number[]): [number[], number[], number[]] {
  const dims = shape
    .map((d, i) => [d, begin[i] as number, size[i] as number] as [number, number, number])
    .filter(([d]) => d !== 1);
  if (dims.length === 0) return [[1], [0], [1]];
  for (let i = dims.length - 1; i > 0; i--) {
    const [d, b, n] = dims[i] as [number, number, number];
    if (b !== 0 || n !== d) break;
    const prev = dims[i - 1] as [number, number, number];
    dims.splice(i - 1, 2, [prev[0] * d, prev[1] * d, prev[2] * d]);
  }
  return [dims.map((t) => t[0]), dims.map((t) => t[1]), dims.map((t) => t[2])];
}

/** Slice of any rank for 4-byte dtypes, in contiguous runs (stock 4.22 is element by element above rank 4). */
export function slice(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x;
  if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0)
    return callStock('Slice', args);
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as unknown as tf.Tensor,
    attrs.begin as number | number[],
    attrs.size as number | number[] | undefined,
  ) as [number[], number[]];
  tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
  const b = backend as WasmBackendLike;
  const out = b.makeOutput(size, x.dtype);
  if (size.some((d) => d === 0)) return out;
  const rt = runtimeFor(b);
  const [shapeM, beginM, sizeM] = mergeSliceDims(x.shape, begin, size);
  const rank = shapeM.length;
  const dims = scratch(rt, 5 * rank * 4);
  try {
    new Int32Array(rt.memory.buffer, dims, 3 * rank).set([...shapeM, ...beginM, ...sizeM]);
    rt.exports.gf_slice(ptrOf(b, x), ptrOf(b, out), rank, dims);
  } finally {
    release(rt, dims);
  }
  return out;
}

/**
 * Concat of float32 or int32 tensors along any axis: each output row (the axes before `axis`)
 * assembled from the inputs' rows by SIMD copies, rows split over the threads. Stock 4.22 copies
 * row by row in JavaScript (36 ms of a DenseNet-BC step at batch 8, whose every layer concatenates
 * 12 new channels). Other dtypes, and fewer than two non-empty inputs, run stock.
 */
export function concat(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { backend, attrs = {} } = args;
  const inputs = args.inputs as unknown as tf.TensorInfo[];
  const dtype = inputs[0]?.dtype;
  if ((dtype !== 'float32' && dtype !== 'int32') || inputs.some((t) => t.dtype !== dtype)) {
    return callStock('Concat', args);
  }
  const shapes = inputs.map((t) => t.shape);
  const axis = tf.util.parseAxisParam(attrs.axis as number, shapes[0]!)[0]!;
  tf.backend_util.assertParamsConsistent(shapes, axis);
  const outShape = tf.backend_util.computeOutShape(shapes, axis);
  const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (parts.length < 2) return callStock('Concat', args);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput(outShape, dtype);
  const rows = tf.util.sizeFromShape(parts[0]!.shape.slice(0, axis));
  const inner = parts.map((t) => tf.util.sizeFromShape(t.shape.slice(axis)));
  const width = inner.reduce((p, d) => p + d, 0);
  const table = scratch(rt, parts.length * 8);
  try {
    writeInts(
      rt,
      table,
      parts.flatMap((t, i) => [ptrOf(b, t), inner[i]!]),
    );
    const pout = ptrOf(b, out);
    splitFloats(rt, 'gf_concat', rows * width, width, (begin, end) => [
      parts.length,
      table,
      begin / width,
      end / width,
      width,
      pout,
    ]);
  } finally {
    release(rt, table);
  }
  return out;
}

/** SplitV through the run-copying Slice (stock splits element by element above rank 4). */
export function splitV(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, attrs = {} } = args;
  const x = inputs.x;
  if (!x || (x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0)
    return callStock('SplitV', args);
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0] as number;
  const sizes = tf.backend_util.prepareSplitSize(
    x as unknown as tf.Tensor,
    attrs.numOrSizeSplits as number | number[],
    axis,
  );
  let offset = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, i) => (i === axis ? offset : 0));
    const size = x.shape.map((d, i) => (i === axis ? s : d));
    offset += s;
    return slice({ ...args, attrs: { begin, size } }) as tf.TensorInfo;
  });
}

/** Cast to the dtype a tensor already has shares its buffer (tfjs-layers casts float32 inputs to float32). */
export function cast(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x;
  if (!x || args.attrs?.dtype !== x.dtype || x.dtype === 'string') return callStock('Cast', args);
  return identity(args);
}
