/** Pooling gradients: MaxPoolGrad (the U-Net's downsampling), split by images over the threads. */
import * as tf from '@tensorflow/tfjs';
import { splitFloats } from '../parallel.js';
import { ptrOf, runtimeFor, writeGeom, type WasmBackendLike } from '../runtime.js';
import { callStock, input, rank4, type KernelArgs } from './common.js';
import { checkDy, geomValues } from './conv.js';

/**
 * MaxPoolGrad for NHWC float32: one pass per output pixel that finds its window's first maximum
 * in SIMD over channels and adds dy there (the positions tfjs's cpu backend picks); stock 4.22
 * runs it element by element (14 ms of a 190 ms U-Net step). Other layouts run stock.
 */
export function maxPoolGrad(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const { inputs, backend, attrs = {} } = args;
  const name = 'MaxPoolGrad';
  const dy = input(inputs, 'dy', name);
  const x = input(inputs, 'input', name);
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') return callStock(name, args);
  const info = tf.backend_util.computePool2DInfo(
    rank4(x, `${name} input`),
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  checkDy(dy, info, name);
  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const out = b.makeOutput([...x.shape], 'float32');
  const image = info.inHeight * info.inWidth * info.inChannels;
  if (image === 0 || info.batchSize === 0) return out;
  // One geometry block for every chunk: the threads only read it.
  const geom = writeGeom(rt, geomValues(info));
  const [px, pdy, pdx] = [ptrOf(b, x), ptrOf(b, dy), ptrOf(b, out)];
  splitFloats(rt, 'gf_max_pool_grad', info.batchSize * image, image, (begin, end) => [
    geom,
    begin / image,
    end / image,
    px,
    pdy,
    pdx,
  ]);
  return out;
}
