/** The convolution kernels: forward and input gradient (indirect GEMM), filter gradient, depthwise gradients. */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, UnsupportedError } from '@gradflow/core';
import { convByImages, threadsFor } from '../parallel.js';
import {
  ptrOf,
  release,
  runtimeFor,
  scratch,
  writeGeom,
  type KernelRuntime,
  type WasmBackendLike,
} from '../runtime.js';
import { callStock, input, rank4, type Attrs, type KernelArgs } from './common.js';

/**
 * Filter taps (kh * kw) the indirect-GEMM kernels take: their per-(pixel, tap) pointers live in
 * a fixed block of the GEMM workspace (MC * KC = 32768 slots, at least 4 pixels' worth).
 */
const MAX_TAPS = 4096;

function checkTaps(info: tf.backend_util.Conv2DInfo, name: string): void {
  const taps = info.filterHeight * info.filterWidth;
  if (taps > MAX_TAPS) {
    throw new UnsupportedError(
      `${name}: a ${info.filterHeight}x${info.filterWidth} filter has ${taps} taps; gradflow's kernels take up to ${MAX_TAPS}`,
      { value: [info.filterHeight, info.filterWidth], accepted: `filterHeight * filterWidth <= ${MAX_TAPS}` },
    );
  }
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

export function geomValues(info: tf.backend_util.Conv2DInfo): number[] {
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

/**
 * Input plus output channels up to which Winograd runs: a block of at least 4 tiles' transforms
 * must fit the workspace (wasm/kernels.c's tiles_per_block), and the transformed filter is
 * 16 x in x out floats (64 MiB at 1024 x 1024).
 */
const WINOGRAD_MAX_CHANNELS = 2048;

/** The Winograd GEMMs' depth and width: the conv's in and out channels, swapped for dX. */
function winogradChannels(info: tf.backend_util.Conv2DInfo, inputGradient: boolean): [number, number] {
  return inputGradient ? [info.outChannels, info.inChannels] : [info.inChannels, info.outChannels];
}

/**
 * Whether a convolution (or its filter gradient) runs as Winograd F(2x2, 3x3) (wasm/kernels.c):
 * 3x3, stride 1, no dilation, the conv's input channels (dy's for the input gradient) a multiple
 * of 4 and its output channels (x's for the input gradient) of 8. SIMD builds only.
 */
export function winogradFits(
  rt: KernelRuntime,
  info: tf.backend_util.Conv2DInfo,
  inputGradient: boolean,
): boolean {
  const [depth, width] = winogradChannels(info, inputGradient);
  return (
    rt.variant !== 'scalar' &&
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    depth % 4 === 0 &&
    width % 8 === 0 &&
    depth + width <= WINOGRAD_MAX_CHANNELS
  );
}

/**
 * Runs the forward or input-gradient conv export over the images, as Winograd where it fits: the
 * filter transformed once per call into scratch, passed in its place, the geometry flagged.
 */
function runConv(
  rt: KernelRuntime,
  fn: 'gf_conv2d_forward' | 'gf_conv2d_backprop_input',
  info: tf.backend_util.Conv2DInfo,
  ptrs: { a: number; b: number; out: number },
): void {
  const threads = threadsFor(rt, convFlops(info), info.batchSize);
  const inputGradient = fn === 'gf_conv2d_backprop_input';
  if (!winogradFits(rt, info, inputGradient)) {
    convByImages(rt, fn, geomValues(info), ptrs, threads);
    return;
  }
  const [depth, width] = winogradChannels(info, inputGradient);
  const u = scratch(rt, 16 * depth * width * 4);
  try {
    rt.exports.gf_winograd_filter(depth, width, ptrs.b, inputGradient ? 1 : 0, u);
    convByImages(rt, fn, [...geomValues(info), 1], { ...ptrs, b: u }, threads);
  } finally {
    release(rt, u);
  }
}

/** Multiply-adds x 2 of the convolution (each of forward, dX and dW costs the same). */
function convFlops(info: tf.backend_util.Conv2DInfo): number {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  return 2 * info.batchSize * info.outHeight * info.outWidth * k * info.outChannels;
}

export function conv2DBackpropFilter({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo {
  const name = 'Conv2DBackpropFilter';
  channelsLast(attrs, name);
  const x = input(inputs, 'x', name);
  const dy = input(inputs, 'dy', name);
  const filterShape = rank4(attrs.filterShape as number[], `${name} filterShape`);
  const info = convInfo(rank4(x, `${name} x`), filterShape, attrs, false);
  checkDy(dy, info, name);
  checkTaps(info, name);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...filterShape], 'float32');
  const ptrs = { a: ptrOf(b, x), b: ptrOf(b, dy), out: ptrOf(b, out) };
  const threads = threadsFor(rt, convFlops(info), info.batchSize);
  const winograd = winogradFits(rt, info, false) ? [1] : [];
  convByImages(rt, 'gf_conv2d_backprop_filter', [...geomValues(info), ...winograd], ptrs, threads);
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
  if (info.filterHeight * info.filterWidth > MAX_TAPS) return callStock(name, args) as tf.TensorInfo;
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...inputShape], 'float32');
  runConv(rt, 'gf_conv2d_backprop_input', info, { a: ptrOf(b, dy), b: ptrOf(b, filter), out: ptrOf(b, out) });
  return out;
}

/**
 * Conv2D / FusedConv2D (bias, and 'linear' or 'relu'): gradflow's indirect GEMM (the input read
 * in place through a pointer per pixel and tap, no im2col), images split over the threads. Faster
 * than stock XNNPACK at every ResNet shape measured (1.25x at 3x3 over 16 channels, 1.3x at 1x1
 * over 64), and it packs the filter once per call where XNNPACK's operator cache never hits in
 * training (the weights change every step). Other activations, PReLU weights and NCHW run stock.
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
  if (info.filterHeight * info.filterWidth > MAX_TAPS) return callStock(kernelName, args);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([info.batchSize, info.outHeight, info.outWidth, co], 'float32');
  const ptrs = { a: ptrOf(b, x), b: ptrOf(b, filter), out: ptrOf(b, out) };
  runConv(rt, 'gf_conv2d_forward', info, ptrs);
  if (bias || activation === 'relu') {
    const rows = info.batchSize * info.outHeight * info.outWidth;
    rt.exports.gf_bias_act(ptrs.out, rows, co, bias ? ptrOf(b, bias) : 0, activation === 'relu' ? 1 : 0);
  }
  return out;
}

export function checkDy(dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, name: string): void {
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
