/** The convolution kernels: forward (im2col + GEMM), input and filter gradients, depthwise gradients. */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, UnsupportedError } from '@gradflow/core';
import { convByImages, threadsFor } from '../parallel.js';
import { ptrOf, runtimeFor, writeGeom, type KernelRuntime, type WasmBackendLike } from '../runtime.js';
import { callStock, input, rank4, type Attrs, type KernelArgs } from './common.js';

/** im2col / col2im scratch budget per chunk (floats). */
const COL_FLOATS = 1 << 18;

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

export function conv2DBackpropFilter({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
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

export function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
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
  const viaXnnpack = stride1ViaXnnpack(b, rt, dy, filter, info);
  if (viaXnnpack) return viaXnnpack;
  const out = b.makeOutput([...inputShape], 'float32');
  const ptrs = { a: ptrOf(b, dy), b: ptrOf(b, filter), out: ptrOf(b, out) };
  const threads = threadsFor(rt, convFlops(info), info.batchSize);
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

/**
 * Short filter rows (kh*kw*channels in < 256, e.g. 3x3 over 16 channels) where the filter does not
 * outweigh the output: XNNPACK's indirect GEMM reads its input in place and beats im2col + GEMM
 * there (about 1.2x at 32x32x16 in bench/kernels.ts), and re-packing such a small filter every
 * step costs little.
 */
function xnnpackWins(filterRow: number, outputPixels: number): boolean {
  return filterRow < 256 && filterRow <= outputPixels;
}

/**
 * Stride 1 where XNNPACK wins (see xnnpackWins): dX = conv(dy, flip(W)ᵀ) with padding
 * (k-1)·d − pad, by the stock XNNPACK forward convolution. The flipped filter is a fresh heap
 * tensor, disposed right after, so XNNPACK's per-filter-id operator cache never sees stale weights.
 * Null where this does not apply.
 */
function stride1ViaXnnpack(
  b: WasmBackendLike,
  rt: KernelRuntime,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo | null {
  const { filterHeight: kh, filterWidth: kw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  const pixels = info.batchSize * info.inHeight * info.inWidth;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || !xnnpackWins(kh * kw * info.outChannels, pixels))
    return null;
  const top = (kh - 1) * dh - padInfo.top;
  const left = (kw - 1) * dw - padInfo.left;
  const bottom = info.inHeight - info.outHeight + padInfo.top;
  const right = info.inWidth - info.outWidth + padInfo.left;
  if (Math.min(top, left, bottom, right) < 0) return null;
  const flipped = b.makeOutput([kh, kw, info.outChannels, info.inChannels], 'float32');
  try {
    rt.exports.gf_flip_filter(ptrOf(b, filter), kh, kw, info.inChannels, info.outChannels, ptrOf(b, flipped));
    return callStock('Conv2D', {
      inputs: { x: dy, filter: flipped },
      backend: b,
      attrs: {
        strides: 1,
        dilations: [dh, dw],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    }) as tf.TensorInfo;
  } finally {
    b.disposeData(flipped.dataId, true);
  }
}

/**
 * Conv2D / FusedConv2D (bias, and 'linear' or 'relu'): im2col + gradflow's packed GEMM, images
 * split over the threads, except where XNNPACK wins (see xnnpackWins). Faster than XNNPACK from
 * 32 channels up, and far faster on deep, small-spatial layers, where XNNPACK re-packs the whole
 * filter on every call (in training the weights change every step, so its operator cache never
 * hits). Other activations, PReLU weights and NCHW run stock.
 */
export function convForward(
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
  if (
    xnnpackWins(
      info.filterHeight * info.filterWidth * info.inChannels,
      info.batchSize * info.outHeight * info.outWidth,
    )
  )
    return callStock(kernelName, args);
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

function checkDy(dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, name: string): void {
  const expected = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`${name} dy`, dy.shape, `[${expected.join(', ')}]`);
  }
}

export function depthwiseBackpropFilter({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
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

export function depthwiseBackpropInput({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
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
