import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { InvalidArgumentError } from '@gradflow/core';
import { registerGradflowKernels, unregisterGradflowKernels, type GradflowKernelName } from './kernels.js';
import { engineHasRelaxedSimd, runtimeFor, type KernelVariant, type WasmBackendLike } from './runtime.js';

export {
  GRADFLOW_WASM_KERNELS,
  registerGradflowKernels,
  unregisterGradflowKernels,
  gradflowKernelsRegistered,
  stockKernel,
} from './kernels.js';
export type { GradflowKernelName } from './kernels.js';
export { matMul, simdPeakGflops } from './gemm.js';
export type { MatMulOptions } from './gemm.js';
export { forceKernelVariant } from './runtime.js';
export type { KernelVariant } from './runtime.js';

export interface UseWasmBackendOptions {
  /**
   * Register gradflow's kernels (conv/depthwise backprops, fast BatchMatMul, Tile). Default true;
   * false gives the stock tfjs backend (for comparisons).
   */
  kernels?: boolean;
}

export interface WasmBackendInfo {
  backend: 'wasm';
  /** The tfjs backend runs its SIMD build. */
  simd: boolean;
  /** The tfjs backend runs its multi-threaded build. */
  threads: boolean;
  /** Threads the tfjs backend's XNNPACK pool uses (1 when single-threaded). */
  threadCount: number;
  /** The engine validates relaxed SIMD (f32x4.relaxed_madd). */
  relaxedSimd: boolean;
  /** Which build of gradflow's kernels runs: 'simd', 'scalar' or 'shared-simd' (threaded heap); null if not registered. */
  kernelVariant: KernelVariant | null;
  /** Kernels this package registered on top of the stock backend. */
  kernels: GradflowKernelName[];
}

/**
 * Makes the tfjs WASM backend the active backend and registers the training kernels the stock
 * backend lacks or runs slowly. Idempotent: calling it twice is safe and cheap.
 *
 * @example
 * ```ts
 * const info = await useWasmBackend();
 * console.log(info.simd, info.kernels); // true ['Conv2DBackpropFilter', ...]
 * ```
 */
export async function useWasmBackend(options: UseWasmBackendOptions = {}): Promise<WasmBackendInfo> {
  const withKernels = options.kernels ?? true;
  if (typeof withKernels !== 'boolean')
    throw new InvalidArgumentError('options.kernels', withKernels, 'a boolean');
  const ok = await tf.setBackend('wasm');
  if (!ok)
    throw new InvalidArgumentError(
      'backend',
      'wasm',
      'a tfjs backend that initializes',
      'the wasm backend failed to initialize',
    );
  await tf.ready();
  if (!withKernels) unregisterGradflowKernels();
  const kernels = withKernels ? registerGradflowKernels() : [];
  const variant = withKernels
    ? runtimeFor(tf.findBackend('wasm') as unknown as WasmBackendLike).variant
    : null;
  const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
  return {
    backend: 'wasm',
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads,
    threadCount: threads ? getThreadsCount() : 1,
    relaxedSimd: engineHasRelaxedSimd(),
    kernelVariant: variant,
    kernels,
  };
}
