/** Pooling gradients (the U-Net's MaxPool, DenseNet's AvgPool transitions), split by images over the threads. */
import * as tf from '@tensorflow/tfjs';
import { splitFloats } from '../parallel.js';
import { ptrOf, runtimeFor, writeGeom, type KernelRuntime, type WasmBackendLike } from '../runtime.js';
import { callStock, input, rank4, type Attrs, type KernelArgs } from './common.js';
import { checkDy, geomValues } from './conv.js';

type PoolGradName = 'MaxPoolGrad' | 'AvgPoolGrad';

/** The pooling window of an NHWC input `x` (dilation 1, as both gradients define it). */
function poolInfo(x: tf.TensorInfo, attrs: Attrs, name: PoolGradName): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    rank4(x, `${name} input`),
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}

/**
 * Runs a pooling-gradient export over the images of dx, split over the pool; `args(n0, n1)` are
 * its arguments after the geometry. One geometry block serves every chunk: the threads only read it.
 */
function byImages(
  rt: KernelRuntime,
  info: tf.backend_util.Conv2DInfo,
  fn: 'gf_max_pool_grad' | 'gf_avg_pool_grad',
  args: (n0: number, n1: number) => number[],
): void {
  const image = info.inHeight * info.inWidth * info.inChannels;
  if (image === 0 || info.batchSize === 0) return;
  const geom = writeGeom(rt, geomValues(info));
  splitFloats(rt, fn, info.batchSize * image, image, (begin, end) => [
    geom,
    ...args(begin / image, end / image),
  ]);
}

/**
 * A pooling gradient for NHWC float32 (else stock): dx of x's shape from dy, one export over the
 * images. The max gradient also reads x (where each window's maximum is); the average one only dy.
 */
function poolGrad(
  args: KernelArgs,
  name: PoolGradName,
  fn: 'gf_max_pool_grad' | 'gf_avg_pool_grad',
): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const dy = input(inputs, 'dy', name);
  const x = input(inputs, 'input', name);
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return callStock(name, args);
  const info = poolInfo(x, attrs, name);
  checkDy(dy, info, name);
  const b = backend as WasmBackendLike;
  const out = b.makeOutput([...x.shape], 'float32');
  const reads = fn === 'gf_max_pool_grad' ? [ptrOf(b, x), ptrOf(b, dy)] : [ptrOf(b, dy)];
  const pdx = ptrOf(b, out);
  byImages(runtimeFor(b), info, fn, (n0, n1) => [n0, n1, ...reads, pdx]);
  return out;
}

/**
 * MaxPoolGrad for NHWC float32: one pass per output pixel that finds its window's first maximum
 * in SIMD over channels and adds dy there (the positions tfjs's cpu backend picks); stock 4.22
 * runs it element by element (14 ms of a 190 ms U-Net step). Other layouts run stock.
 */
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  return poolGrad(args, 'MaxPoolGrad', 'gf_max_pool_grad');
}

/**
 * AvgPoolGrad for NHWC float32: each output's dy added to its window in SIMD over channels, then
 * scaled by 1/(window size) as tfjs's cpu backend does; stock 4.22 took 6.7 ms for one of
 * DenseNet-BC's transition layers at batch 8. Other layouts run stock.
 */
export function avgPoolGrad(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  return poolGrad(args, 'AvgPoolGrad', 'gf_avg_pool_grad');
}
