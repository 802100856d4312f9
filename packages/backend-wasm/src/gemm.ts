import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { activeRuntime } from './runtime.js';

/** Options of matMul. */
export interface MatMulOptions {
  /** Use the transpose of `a` (its last two axes swapped). Default false. */
  transposeA?: boolean;
  /** Use the transpose of `b` (its last two axes swapped). Default false. */
  transposeB?: boolean;
}

/**
 * `a @ b` (optionally transposed operands, batched over leading axes), differentiable. On the
 * wasm backend after `useWasmBackend()` it runs gradflow's packed SIMD GEMM directly on the
 * tensors' heap memory, for every transpose combination (stock tfjs runs transposed operands at
 * a fraction of the speed); on any other backend it is `tf.matMul`. Meant for recurrent cells:
 * `matMul(h, wRec)`, and its gradient `matMul(dy, w, { transposeB: true })`.
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * const a = tf.tensor2d([[1, 2], [3, 4]]);
 * const b = tf.tensor2d([[1, 0], [1, 1]]);
 * const c = matMul(a, b, { transposeB: true }); // a @ b^T
 * const got = Array.from(await c.data());
 * if (got.join() !== '1,3,3,7') throw new Error(`got ${got}`);
 * tf.dispose([a, b, c]);
 * await tf.setBackend('cpu');
 * ```
 */
export function matMul<R extends tf.Rank>(
  a: tf.Tensor<R>,
  b: tf.Tensor<R>,
  options: MatMulOptions = {},
): tf.Tensor<R> {
  const transposeA = options.transposeA ?? false;
  const transposeB = options.transposeB ?? false;
  if (typeof transposeA !== 'boolean') throw new InvalidArgumentError('transposeA', transposeA, 'a boolean');
  if (typeof transposeB !== 'boolean') throw new InvalidArgumentError('transposeB', transposeB, 'a boolean');
  return tf.matMul(a, b, transposeA, transposeB) as tf.Tensor<R>;
}

/**
 * Measures the engine's SIMD multiply-add throughput in GFLOP/s (12 independent f32x4 mul+add
 * chains), the ceiling the GEMM kernels are compared with. Needs the wasm backend active.
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * const gflops = simdPeakGflops(1_000_000); // a short measurement
 * if (!(gflops > 0)) throw new Error(`bad peak ${gflops}`);
 * await tf.setBackend('cpu');
 * ```
 */
export function simdPeakGflops(iterations = 20_000_000): number {
  if (!Number.isInteger(iterations) || iterations <= 0) {
    throw new InvalidArgumentError('iterations', iterations, 'a positive integer');
  }
  const rt = activeRuntime();
  // Many short calls first: V8 starts wasm in its baseline tier and swaps in optimized code
  // between calls, never inside one long call.
  for (let i = 0; i < 200; i++) rt.exports.gf_peak_fma(10_000, 1);
  const calls = 50;
  const per = Math.max(1, Math.floor(iterations / calls));
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) rt.exports.gf_peak_fma(per, 1);
  const seconds = (performance.now() - t0) / 1000;
  const flopsPerIter = rt.variant === 'scalar' ? 2 : 12 * 4 * 2;
  return (calls * per * flopsPerIter) / seconds / 1e9;
}
