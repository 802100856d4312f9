/**
 * The browser side of the speed suite, bundled by bundle.ts: sets up gradflow's wasm backend in
 * the page (the .wasm binaries are served next to the bundle) and exposes the same measurement
 * the Node worker runs (speed/measure.ts) on `globalThis.gradflowSpeed`.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useWasmBackend } from '@gradflow/backend-wasm';
import { measureModel } from '../speed/measure.js';
import { API_GLOBAL, type BrowserBackendInfo, type BrowserSpeedApi } from './protocol.js';

setWasmPaths(new URL('./', location.href).href);

/**
 * Runs the backend's first initialization with navigator.hardwareConcurrency reporting at least
 * `2 * threads`: tfjs-backend-wasm 4.22 caps its pthreadpool at emscripten_num_logical_cores() / 2,
 * which in a browser is hardwareConcurrency / 2 (1 thread on a 2-core machine, whatever
 * setThreadsCount says). The Node runner does the same with os.cpus() (@gradflow/backend-wasm).
 */
async function withReportedCores<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const real = navigator.hardwareConcurrency;
  if (threads < 2 || real >= 2 * threads) return init();
  Object.defineProperty(navigator, 'hardwareConcurrency', { configurable: true, get: () => 2 * threads });
  try {
    return await init();
  } finally {
    Reflect.deleteProperty(navigator, 'hardwareConcurrency');
  }
}

const api: BrowserSpeedApi = {
  async setUp(threads: number): Promise<BrowserBackendInfo> {
    // A cross-origin isolated page makes tfjs pick its threaded build even for one thread; one
    // thread gets the single-threaded SIMD build instead, as the Node 1-thread runner does.
    if (threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const info = await withReportedCores(threads, () => useWasmBackend({ threads }));
    await tf.ready();
    return {
      crossOriginIsolated: globalThis.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      simd: info.simd,
      threads: info.threads,
      threadCount: info.threadCount,
      kernelVariant: info.kernelVariant,
      kernelThreads: info.kernelThreads,
    };
  },
  measure: measureModel,
};

Object.assign(globalThis, { [API_GLOBAL]: api });
