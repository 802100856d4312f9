import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export interface WasmBackendInfo {
  backend: 'wasm';
  simd: boolean;
  threads: boolean;
  /** Kernels this package registered on top of the stock backend. */
  kernels: string[];
}

/**
 * Makes the tfjs WASM backend the active backend. Idempotent.
 *
 * @example
 * ```ts
 * const info = await useWasmBackend();
 * console.log(info.simd); // true on any engine from 2021 on
 * ```
 */
export async function useWasmBackend(): Promise<WasmBackendInfo> {
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    backend: 'wasm',
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    kernels: [],
  };
}
