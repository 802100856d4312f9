import * as tf from '@tensorflow/tfjs';
import { ShapeError, UnsupportedError } from '@gradflow/core';
import {
  ptrOf,
  release,
  runtimeFor,
  scratch,
  writeGeom,
  type KernelRuntime,
  type WasmBackendLike,
} from './runtime.js';
import { convByImages, gemmSplit, threadsFor } from './parallel.js';
import {
  BATCH_NORM_GRAD_KERNEL,
  REDUCE_GRAD_KERNEL,
  RELU_GRAD_KERNEL,
  installGradients,
  uninstallGradients,
} from './gradients.js';

type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs };

/** im2col / col2im scratch budget per chunk (floats). */
const COL_FLOATS = 1 << 18;

function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new UnsupportedError(`${kernel}: missing input '${name}'`);
  if (t.dtype !== 'float32') {
    throw new UnsupportedError(`${kernel}: input '${name}' has dtype ${t.dtype}; only float32 is supported`, {
      value: t.dtype,
      accepted: ['float32'],
    });
  }
  return t;
}

function rank4(t: tf.TensorInfo | number[], what: string): [number, number, number, number] {
  const shape = Array.isArray(t) ? t : t.shape;
  if (shape.length !== 4) throw new ShapeError(what, shape, 'rank 4 (NHWC input, HWIO filter)');
  return shape as [number, number, number, number];
}

function channelsLast(attrs: Attrs, kernel: string): void {
  const format = attrs.dataFormat ?? 'NHWC';
  if (format !== 'NHWC' && format !== 'channelsLast') {
    throw new UnsupportedError(
      `${kernel}: dataFormat ${String(format)} is not supported; tfjs-layers always uses NHWC`,
      {
        value: format,
        accepted: ['NHWC'],
      },
    );
  }
}

function convInfo(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: Attrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  const strides = (attrs.strides ?? 1) as number | [number, number];
  const dilations = (attrs.dilations ?? 1) as number | [number, number];
  const pad = attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  const rounding = attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined;
  return tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    strides,
    dilations,
    pad,
    rounding,
    depthwise,
    'channelsLast',
  );
}

function geomValues(info: tf.backend_util.Conv2DInfo): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/** Multiply-adds x 2 of the convolution (each of forward, dX and dW costs the same). */
function convFlops(info: tf.backend_util.Conv2DInfo): number {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  return 2 * info.batchSize * info.outHeight * info.outWidth * k * info.outChannels;
}

/** im2col rows per chunk for `batch` images (default: the whole batch). */
function chunkRows(info: tf.backend_util.Conv2DInfo, batch = info.batchSize): number {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const m = batch * info.outHeight * info.outWidth;
  return Math.max(1, Math.min(m, Math.floor(COL_FLOATS / Math.max(1, k))));
}

function withCol<T>(
  rt: KernelRuntime,
  info: tf.backend_util.Conv2DInfo,
  fn: (col: number, rows: number) => T,
): T {
  const rows = chunkRows(info);
  const col = scratch(rt, rows * info.filterHeight * info.filterWidth * info.inChannels * 4);
  try {
    return fn(col, rows);
  } finally {
    release(rt, col);
  }
}

function conv2DBackpropFilter({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
  const name = 'Conv2DBackpropFilter';
  channelsLast(attrs, name);
  const x = input(inputs, 'x', name);
  const dy = input(inputs, 'dy', name);
  const filterShape = rank4(attrs.filterShape as number[], `${name} filterShape`);
  const info = convInfo(rank4(x, `${name} x`), filterShape, attrs, false);
  checkDy(dy, info, name);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...filterShape], 'float32');
  const ptrs = { a: ptrOf(b, x), b: ptrOf(b, dy), out: ptrOf(b, out) };
  const threads = threadsFor(rt, convFlops(info), info.batchSize);
  convByImages(rt, 'gf_conv2d_backprop_filter', info, geomValues(info), ptrs, () => 0, threads);
  return out;
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const name = 'Conv2DBackpropInput';
  channelsLast(attrs, name);
  const dy = input(inputs, 'dy', name);
  const filter = input(inputs, 'filter', name);
  const inputShape = rank4(attrs.inputShape as number[], `${name} inputShape`);
  const info = convInfo(inputShape, rank4(filter, `${name} filter`), attrs, false);
  checkDy(dy, info, name);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...inputShape], 'float32');
  const threads = threadsFor(rt, convFlops(info), info.batchSize);
  if (threads > 1) {
    const ptrs = { a: ptrOf(b, dy), b: ptrOf(b, filter), out: ptrOf(b, out) };
    convByImages(
      rt,
      'gf_conv2d_backprop_input',
      info,
      geomValues(info),
      ptrs,
      (n) => chunkRows(info, n),
      threads,
    );
    return out;
  }
  const geom = writeGeom(rt, geomValues(info));
  withCol(rt, info, (col, rows) =>
    rt.exports.gf_conv2d_backprop_input(
      geom,
      ptrOf(b, dy),
      ptrOf(b, filter),
      ptrOf(b, out),
      col,
      rows,
      rt.ws,
    ),
  );
  return out;
}

/**
 * Short filter rows (kh*kw*ci < 256, e.g. 3x3 over 16 channels) where the filter does not outweigh
 * the output: XNNPACK's indirect GEMM reads x in place and beats im2col + GEMM there (about 1.2x at
 * 32x32x16 in bench/kernels.ts), and re-packing such a small filter every step costs little.
 */
function xnnpackWins(info: tf.backend_util.Conv2DInfo): boolean {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  return k < 256 && k <= info.batchSize * info.outHeight * info.outWidth;
}

/**
 * Conv2D / FusedConv2D (bias, and 'linear' or 'relu'): im2col + gradflow's packed GEMM, images
 * split over the threads, except where XNNPACK wins (see xnnpackWins). Faster than XNNPACK from
 * 32 channels up, and far faster on deep, small-spatial layers, where XNNPACK re-packs the whole
 * filter on every call (in training the weights change every step, so its operator cache never
 * hits). Other activations, PReLU weights and NCHW run stock.
 */
function convForward(
  kernelName: 'Conv2D' | 'FusedConv2D',
  args: KernelArgs,
): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const { x, filter, bias, preluActivationWeights } = inputs;
  const activation = (attrs.activation ?? 'linear') as string;
  const format = attrs.dataFormat ?? 'NHWC';
  if (
    !x ||
    !filter ||
    x.dtype !== 'float32' ||
    filter.dtype !== 'float32' ||
    (bias && bias.dtype !== 'float32') ||
    preluActivationWeights ||
    (activation !== 'linear' && activation !== 'relu') ||
    (format !== 'NHWC' && format !== 'channelsLast') ||
    x.shape.length !== 4 ||
    filter.shape.length !== 4
  ) {
    return callStock(kernelName, args);
  }
  const info = convInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs,
    false,
  );
  const co = info.outChannels;
  if (bias && bias.shape.reduce((p, d) => p * d, 1) !== co) return callStock(kernelName, args);
  if (xnnpackWins(info)) return callStock(kernelName, args);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([info.batchSize, info.outHeight, info.outWidth, co], 'float32');
  const ptrs = { a: ptrOf(b, x), b: ptrOf(b, filter), out: ptrOf(b, out) };
  const threads = threadsFor(rt, convFlops(info), info.batchSize);
  convByImages(rt, 'gf_conv2d_forward', info, geomValues(info), ptrs, (n) => chunkRows(info, n), threads);
  if (bias || activation === 'relu') {
    const rows = info.batchSize * info.outHeight * info.outWidth;
    rt.exports.gf_bias_act(ptrs.out, rows, co, bias ? ptrOf(b, bias) : 0, activation === 'relu' ? 1 : 0);
  }
  return out;
}

/** SplitV through the run-copying Slice (stock splits element by element above rank 4). */
function splitV(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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

function checkDy(dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, name: string): void {
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${name} dy`, dy.shape, `[${expected.join(', ')}]`);
  }
}

function depthwiseBackpropFilter({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
  const name = 'DepthwiseConv2dNativeBackpropFilter';
  const x = input(inputs, 'x', name);
  const dy = input(inputs, 'dy', name);
  const filterShape = rank4(attrs.filterShape as number[], `${name} filterShape`);
  const info = convInfo(rank4(x, `${name} x`), filterShape, attrs, true);
  checkDy(dy, info, name);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...filterShape], 'float32');
  const geom = writeGeom(rt, geomValues(info));
  rt.exports.gf_depthwise_backprop_filter(geom, filterShape[3], ptrOf(b, x), ptrOf(b, dy), ptrOf(b, out));
  return out;
}

function depthwiseBackpropInput({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
  const name = 'DepthwiseConv2dNativeBackpropInput';
  const dy = input(inputs, 'dy', name);
  const filter = input(inputs, 'filter', name);
  const inputShape = rank4(attrs.inputShape as number[], `${name} inputShape`);
  const filterShape = rank4(filter, `${name} filter`);
  const info = convInfo(inputShape, filterShape, attrs, true);
  checkDy(dy, info, name);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...inputShape], 'float32');
  const geom = writeGeom(rt, geomValues(info));
  rt.exports.gf_depthwise_backprop_input(geom, filterShape[3], ptrOf(b, dy), ptrOf(b, filter), ptrOf(b, out));
  return out;
}

const stock = new Map<string, tf.KernelConfig>();

function callStock(kernelName: string, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const config = stock.get(kernelName);
  if (!config) throw new UnsupportedError(`${kernelName}: no stock wasm kernel to fall back to`);
  return config.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
}

function batchMatMul(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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
function tile(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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

/** Sum / Mean over leading axes (per-channel statistics of NHWC tensors, the BatchNorm reductions). */
function runReduce(kernelName: 'Sum' | 'Mean', args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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
  rt.exports.gf_sum_mid(ptrOf(b, x), outer, r, inner, scale, ptrOf(b, out));
  return out;
}

/**
 * Identity shares the input's heap buffer (refcounted, like the cpu backend) instead of copying
 * it: tensors are immutable, and a shared id is safe for XNNPACK's per-id operator cache because
 * the values behind an id never change.
 */
function identity({ inputs, backend }: KernelArgs): tf.TensorInfo {
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
function slice(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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

/** Cast to the dtype a tensor already has shares its buffer (tfjs-layers casts float32 inputs to float32). */
function cast(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x;
  if (!x || args.attrs?.dtype !== x.dtype || x.dtype === 'string') return callStock('Cast', args);
  return identity(args);
}

const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, SquaredDifference: 4 } as const;
type BinaryName = keyof typeof BINARY_OPS;

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

/**
 * float32 Add/Sub/Multiply/RealDiv/SquaredDifference where one operand is the full output and the
 * other is full or broadcast as [outer, 1, inner] (see broadcastPattern): one SIMD pass (a loop
 * over `outer` for per-sample statistics). This covers the BatchNorm, GroupNorm, InstanceNorm and
 * LayerNorm arithmetic; other broadcasts run stock.
 */
function binary(kernelName: BinaryName, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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
    rt.exports.gf_binary(op, ptrA, aFull ? n : small.inner, ptrB, bFull ? n : small.inner, ptrOut, n);
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
function fusedBatchNorm(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
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
  const tmp = scratch(rt, 2 * c * 4);
  try {
    rt.exports.gf_batchnorm(
      ptrOf(b, x),
      size / c,
      c,
      ptrOf(b, mean),
      ptrOf(b, variance),
      offset ? ptrOf(b, offset) : 0,
      scale ? ptrOf(b, scale) : 0,
      eps,
      ptrOf(b, out),
      tmp,
    );
  } finally {
    release(rt, tmp);
  }
  return out;
}

/** dy * step(x) (the ReLU gradient) in one pass: see gradients.ts. */
function reluGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
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
  if (n > 0) rt.exports.gf_relu_grad(ptrOf(b, dy), ptrOf(b, x), ptrOf(b, out), n);
  return out;
}

/**
 * The FusedBatchNorm gradient for per-channel statistics: outputs [dx, dmean, dvariance, dscale,
 * doffset] from two passes over x and dy (see gradients.ts).
 */
function batchNormGrad({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo[] {
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
  const rows = c === 0 ? 0 : x.shape.reduce((p, d) => p * d, 1) / c;
  const tmp = scratch(rt, c * (2 * 8 + 3 * 4));
  try {
    rt.exports.gf_batchnorm_grad(
      ptrOf(b, x),
      ptrOf(b, dy),
      rows,
      c,
      ptrOf(b, mean),
      ptrOf(b, variance),
      scale ? ptrOf(b, scale) : 0,
      eps,
      ptrOf(b, dx),
      ptrOf(b, dmean),
      ptrOf(b, dvar),
      ptrOf(b, dscale),
      ptrOf(b, doffset),
      tmp,
    );
  } finally {
    release(rt, tmp);
  }
  return [dx, dmean, dvar, dscale, doffset];
}

/** dy (the reduced tensor) repeated over the leading axes of `shape`, divided by `divisor`. */
function reduceGrad({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
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
  if (n > 0) rt.exports.gf_repeat_div(ptrOf(b, dy), block, n / block, divisor, ptrOf(b, out));
  return out;
}

/**
 * Kernels this package registers for the 'wasm' backend: the kernel name, whether it replaces a
 * stock tfjs kernel or fills a missing one, and the path it takes.
 *
 * @example
 * ```ts
 * const names = GRADFLOW_WASM_KERNELS.map((k) => k.kernelName);
 * if (!names.includes('Conv2DBackpropFilter')) throw new Error('conv backprop kernel missing');
 * ```
 */
export const GRADFLOW_WASM_KERNELS = [
  {
    kernelName: 'Conv2DBackpropFilter',
    replacesStock: false,
    path: 'packed SIMD GEMM dW^T = dy^T im2col(x), the im2col operand packed straight from x (no im2col pass; 1x1 stride 1: GEMM on x); images split over the threads',
    kernelFunc: conv2DBackpropFilter,
  },
  {
    kernelName: 'Conv2DBackpropInput',
    replacesStock: true,
    path: 'SIMD GEMM dy W^T + col2im (strided: no work on inserted zeros), images split over the threads',
    kernelFunc: conv2DBackpropInput,
  },
  {
    kernelName: 'Conv2D',
    replacesStock: true,
    path: 'im2col + SIMD GEMM, images split over the threads (XNNPACK re-packs the filter on every call, and in training the filter changes every step); filter rows under 256 (3x3x16) and other data formats stock',
    kernelFunc: (a: KernelArgs) => convForward('Conv2D', a),
  },
  {
    kernelName: 'FusedConv2D',
    replacesStock: true,
    path: 'as Conv2D, with the bias and a linear or ReLU activation in one pass after the GEMM; other activations stock',
    kernelFunc: (a: KernelArgs) => convForward('FusedConv2D', a),
  },
  {
    kernelName: 'SplitV',
    replacesStock: true,
    path: 'the pieces through Slice (contiguous runs; the Concat gradient of DenseNets); else stock',
    kernelFunc: splitV,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    replacesStock: false,
    path: 'direct loops, SIMD over channels (multiplier 1)',
    kernelFunc: depthwiseBackpropFilter,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    replacesStock: false,
    path: 'direct loops, SIMD over channels (multiplier 1)',
    kernelFunc: depthwiseBackpropInput,
  },
  {
    kernelName: 'BatchMatMul',
    replacesStock: true,
    path: 'packed 4x8 SIMD GEMM, every transpose combination by strides, batch broadcast; one-row products as a streaming GEMV; rows or columns split over the threads',
    kernelFunc: batchMatMul,
  },
  {
    kernelName: 'Tile',
    replacesStock: true,
    path: 'block copies when only leading size-1 axes repeat (the BatchNorm gradient); else stock',
    kernelFunc: tile,
  },
  {
    kernelName: 'Identity',
    replacesStock: true,
    path: 'shares the buffer (refcount), no copy',
    kernelFunc: identity,
  },
  {
    kernelName: 'Slice',
    replacesStock: true,
    path: "any rank, 4-byte dtypes: contiguous runs copied in SIMD (stock is element by element above rank 4, e.g. the ResNet option-A shortcut's subsampling); else stock",
    kernelFunc: slice,
  },
  {
    kernelName: 'Cast',
    replacesStock: true,
    path: 'to the same dtype: shares the buffer like Identity; else stock',
    kernelFunc: cast,
  },
  ...(Object.keys(BINARY_OPS) as BinaryName[]).map((kernelName) => ({
    kernelName,
    replacesStock: true,
    path: 'one SIMD pass for same-shape, per-channel, per-sample-and-channel and scalar operands; else stock',
    kernelFunc: (a: KernelArgs) => binary(kernelName, a),
  })),
  {
    kernelName: 'Sum',
    replacesStock: true,
    path: 'SIMD sums over any contiguous run of axes (per-channel, per-sample and per-row statistics); else stock',
    kernelFunc: (a: KernelArgs) => runReduce('Sum', a),
  },
  {
    kernelName: 'Mean',
    replacesStock: true,
    path: 'SIMD sums over any contiguous run of axes (per-channel, per-sample and per-row statistics); else stock',
    kernelFunc: (a: KernelArgs) => runReduce('Mean', a),
  },
  {
    kernelName: 'FusedBatchNorm',
    replacesStock: true,
    path: 'per-channel mean/variance/offset/scale: one SIMD pass, scale/sqrt(var+eps) once per channel; else stock',
    kernelFunc: fusedBatchNorm,
  },
  {
    kernelName: BATCH_NORM_GRAD_KERNEL,
    replacesStock: false,
    path: "the FusedBatchNorm gradient (per-channel statistics) in two SIMD passes; registered with a 'FusedBatchNorm' gradient that uses it on wasm",
    kernelFunc: batchNormGrad,
  },
  {
    kernelName: REDUCE_GRAD_KERNEL,
    replacesStock: false,
    path: "the Sum/Mean gradient over leading axes: dy repeated (and divided by the count) in one pass; registered with 'Sum'/'Mean' gradients that use it on wasm",
    kernelFunc: reduceGrad,
  },
  {
    kernelName: RELU_GRAD_KERNEL,
    replacesStock: false,
    path: "the Relu gradient dy*step(x) in one SIMD pass (bit-identical); registered with a 'Relu' gradient that uses it on wasm",
    kernelFunc: reluGrad,
  },
] as const satisfies readonly {
  kernelName: string;
  replacesStock: boolean;
  path: string;
  kernelFunc: (args: KernelArgs) => unknown;
}[];

/**
 * The README's kernel table (markdown), derived from GRADFLOW_WASM_KERNELS.
 *
 * @example
 * ```ts
 * const table = kernelTableMarkdown();
 * if (!table.startsWith('| kernel |')) throw new Error('unexpected table header');
 * if (table.split('\n').length !== GRADFLOW_WASM_KERNELS.length + 2) throw new Error('one row per kernel');
 * ```
 */
export function kernelTableMarkdown(): string {
  const rows = GRADFLOW_WASM_KERNELS.map(
    (k) => `| \`${k.kernelName}\` | ${k.replacesStock ? 'replaces stock' : 'missing in stock'} | ${k.path} |`,
  );
  return ['| kernel | stock 4.22 | gradflow path |', '|---|---|---|', ...rows].join('\n');
}

/** The name of one kernel in GRADFLOW_WASM_KERNELS (a tfjs kernel name such as 'Conv2DBackpropFilter'). */
export type GradflowKernelName = (typeof GRADFLOW_WASM_KERNELS)[number]['kernelName'];

let registered = false;

/**
 * Registers every kernel of GRADFLOW_WASM_KERNELS for 'wasm' (keeping the stock ones as
 * fallbacks) and returns their names. Idempotent; `useWasmBackend()` already calls it.
 *
 * @example
 * ```ts
 * await useWasmBackend({ kernels: false }); // stock kernels only
 * const names = registerGradflowKernels();
 * if (!gradflowKernelsRegistered() || names.length !== GRADFLOW_WASM_KERNELS.length) throw new Error('not registered');
 * await tf.setBackend('cpu');
 * ```
 */
export function registerGradflowKernels(): GradflowKernelName[] {
  if (!registered) {
    for (const k of GRADFLOW_WASM_KERNELS) {
      const existing = tf.getKernel(k.kernelName, 'wasm');
      if (existing) {
        stock.set(k.kernelName, existing);
        tf.unregisterKernel(k.kernelName, 'wasm');
      }
      tf.registerKernel({
        kernelName: k.kernelName,
        backendName: 'wasm',
        kernelFunc: k.kernelFunc as unknown as tf.KernelFunc,
      });
    }
    installGradients();
    registered = true;
  }
  return GRADFLOW_WASM_KERNELS.map((k) => k.kernelName);
}

/**
 * Restores the stock kernels (used by benchmarks to compare); `registerGradflowKernels()` puts
 * gradflow's back.
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * unregisterGradflowKernels();
 * if (gradflowKernelsRegistered()) throw new Error('still registered');
 * registerGradflowKernels();
 * await tf.setBackend('cpu');
 * ```
 */
export function unregisterGradflowKernels(): void {
  if (!registered) return;
  for (const k of GRADFLOW_WASM_KERNELS) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    const original = stock.get(k.kernelName);
    if (original) tf.registerKernel(original);
  }
  uninstallGradients();
  stock.clear();
  registered = false;
}

/**
 * Whether registerGradflowKernels() is in effect.
 *
 * @example
 * ```ts
 * const info = await useWasmBackend();
 * if (gradflowKernelsRegistered() !== info.kernels.length > 0) throw new Error('inconsistent');
 * await tf.setBackend('cpu');
 * ```
 */
export function gradflowKernelsRegistered(): boolean {
  return registered;
}

/**
 * The stock wasm kernel config that `kernelName` replaced, if any (for benchmarks);
 * `undefined` for kernels the stock backend lacks or when gradflow's kernels are not registered.
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * const replaced = GRADFLOW_WASM_KERNELS.filter((k) => k.replacesStock).map((k) => k.kernelName);
 * for (const name of replaced) {
 *   if (stockKernel(name)?.kernelName !== name) throw new Error(`no stock ${name}`);
 * }
 * await tf.setBackend('cpu');
 * ```
 */
export function stockKernel(kernelName: string): tf.KernelConfig | undefined {
  return stock.get(kernelName);
}
