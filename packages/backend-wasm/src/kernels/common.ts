import type * as tf from '@tensorflow/tfjs';
import { ShapeError, UnsupportedError } from '@gradflow/core';

/** Shared pieces of gradflow's wasm kernels: their arguments, input checks and the stock fallback. */
export type Attrs = Record<string, unknown>;

/** What every kernel here is called with (tfjs's kernel function arguments). */
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: Attrs };

/** A float32 input by name (other dtypes are an UnsupportedError naming the input). */
export function input(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
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

/** A rank-4 shape (NHWC tensor, HWIO filter), else a ShapeError. */
export function rank4(t: tf.TensorInfo | number[], what: string): [number, number, number, number] {
  const shape = Array.isArray(t) ? t : t.shape;
  if (shape.length !== 4) throw new ShapeError(what, shape, 'rank 4 (NHWC input, HWIO filter)');
  return shape as [number, number, number, number];
}

/** The stock wasm kernels gradflow's replaced (filled by registerGradflowKernels()). */
export const stock = new Map<string, tf.KernelConfig>();

/** Runs the stock kernel a gradflow kernel falls back to for inputs it does not cover. */
export function callStock(kernelName: string, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const config = stock.get(kernelName);
  if (!config) throw new UnsupportedError(`${kernelName}: no stock wasm kernel to fall back to`);
  return config.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
}
