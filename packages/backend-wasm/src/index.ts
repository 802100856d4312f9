import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, StateError, UnsupportedError } from '@gradflow/core';
import { guardHeapAllocations } from './heap-guard.js';
import { registerGradflowKernels, unregisterGradflowKernels, type GradflowKernelName } from './kernels.js';
import { startPool, spawnBrowserWorker } from './pool.js';
import {
  engineHasRelaxedSimd,
  moduleFor,
  runtimeFor,
  type KernelRuntime,
  type KernelVariant,
  type WasmBackendLike,
} from './runtime.js';

export {
  GRADFLOW_WASM_KERNELS,
  registerGradflowKernels,
  unregisterGradflowKernels,
  gradflowKernelsRegistered,
  stockKernel,
  kernelTableMarkdown,
} from './kernels.js';
export type { GradflowKernelName } from './kernels.js';
export { matMul, simdPeakGflops } from './gemm.js';
export type { MatMulOptions } from './gemm.js';
export { forceKernelVariant } from './runtime.js';
export { recurrentSequenceKernels } from './gates.js';
export { batchNormTrainingGrad } from './gradients.js';
export { channelMoments } from './moments.js';
export type {
  FusedCell,
  RecurrentBackwardResult,
  RecurrentForwardArgs,
  RecurrentForwardResult,
  RecurrentSequenceKernels,
} from './gates.js';
export type { KernelVariant } from './runtime.js';

/** Options of useWasmBackend. */
export interface UseWasmBackendOptions {
  /**
   * Register gradflow's kernels (GRADFLOW_WASM_KERNELS: conv/depthwise backprops, BatchMatMul,
   * Tile, Sum/Mean, elementwise). Default true; false restores the stock tfjs kernels (for
   * comparisons).
   */
  kernels?: boolean;
  /**
   * Threads to train on. Default 1 (the single-threaded build). Above 1 the stock multi-threaded
   * SIMD build runs (in Node it fails by itself, tfjs#3830, and gradflow makes it start; in a
   * browser it needs cross-origin isolation), and gradflow's kernels split their work over this
   * many threads, with workers of their own on the shared heap. Must be chosen before the wasm
   * backend first initializes.
   */
  threads?: number;
  /**
   * Threads of the stock backend's own XNNPACK pool (the kernels gradflow leaves stock: pooling,
   * softmax, concat, ...). Default 1 with gradflow's kernels, `threads` without them. A second
   * pool on the same cores fights gradflow's: its threads spin between kernels, and a tf.layers
   * GRU step took 110 ms with both pools at 2 threads against 65 ms with XNNPACK's at 1 (and 64 ms
   * on one thread: those stock kernels are small, and splitting them cost more than it saved).
   */
  stockThreads?: number;
}

/** What useWasmBackend() set up: the tfjs build that runs and gradflow's kernels on top of it. */
export interface WasmBackendInfo {
  /** Always 'wasm'. */
  backend: 'wasm';
  /** The tfjs backend runs its SIMD build. */
  simd: boolean;
  /** The tfjs backend runs its multi-threaded build. */
  threads: boolean;
  /**
   * Threads the stock backend's XNNPACK pool uses (1 when single-threaded; see
   * `options.stockThreads`). In a browser tfjs caps it at navigator.hardwareConcurrency / 2.
   */
  threadCount: number;
  /** The engine validates relaxed SIMD (f32x4.relaxed_madd). */
  relaxedSimd: boolean;
  /** Which build of gradflow's kernels runs (see KernelVariant); null if not registered. */
  kernelVariant: KernelVariant | null;
  /** Kernels this package registered on top of the stock backend. */
  kernels: GradflowKernelName[];
  /** Threads gradflow's own big kernels split over (the calling thread plus pool workers). */
  kernelThreads: number;
}

let initialized = false;
let poolStarting: Promise<void> | undefined;

/** Starts the kernel pool (threadCount - 1 workers) on a threaded heap, once. */
async function ensurePool(rt: KernelRuntime, threadCount: number): Promise<void> {
  if (!rt.variant.startsWith('shared-') || threadCount < 2 || rt.pool) return;
  poolStarting ??= (async () => {
    const spawn = isNode() ? (await import('./threads.js')).spawnNodeWorker : spawnBrowserWorker;
    const wasm = rt.backend.wasm;
    rt.pool = await startPool({
      module: moduleFor(rt.variant),
      memory: rt.memory,
      workers: threadCount - 1,
      wsBytes: rt.exports.gf_workspace_bytes(),
      alloc: (bytes) => wasm._malloc(bytes),
      free: (ptr) => wasm._free(ptr),
      spawn,
      localExports: rt.exports,
      // Browsers forbid Atomics.wait on the main thread (it is allowed in Node and in workers).
      canBlock:
        isNode() || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined',
    });
  })().finally(() => {
    poolStarting = undefined;
  });
  await poolStarting;
}
let threadsRequested = 1;
let stockThreadsRequested = 1;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

function threadConflict(threads: number, stockThreads = stockThreadsRequested): StateError {
  const now = `${threadsRequested} thread(s), ${stockThreadsRequested} for stock kernels`;
  return new StateError(
    `the wasm backend already runs with ${now}; threads (${threads}, ${stockThreads} for stock kernels) must be chosen before it first initializes`,
    { value: threads, accepted: threadsRequested },
  );
}

/**
 * tfjs-backend-wasm registers the 'wasm' backend (at a higher priority than 'cpu') when it is
 * imported, so it is imported here only when useWasmBackend() runs: importing this package (as
 * @gradflow/recurrent does, for its gate kernels) leaves tfjs's default backend alone.
 */
const tfjsWasm = () => import('@tensorflow/tfjs-backend-wasm');

async function prepareThreads(threads: number, stockThreads: number): Promise<void> {
  if (initialized || tf.engine().registry.wasm !== undefined) {
    if (threadsRequested === threads && stockThreadsRequested === stockThreads) return;
    throw threadConflict(threads, stockThreads);
  }
  if (isNode()) {
    const { patchNodeWorkers } = await import('./threads.js');
    patchNodeWorkers();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  } else if (!(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))) {
    throw new UnsupportedError(
      'wasm threads need SharedArrayBuffer and cross-origin isolation (COOP: same-origin, COEP: require-corp)',
    );
  }
  (await tfjsWasm()).setThreadsCount(stockThreads);
  threadsRequested = threads;
  stockThreadsRequested = stockThreads;
}

async function withReportedCpusLazy(threads: number): Promise<boolean> {
  const { withReportedCpus } = await import('./threads.js');
  return withReportedCpus(threads, () => tf.setBackend('wasm'));
}

/**
 * Makes the tfjs WASM backend the active backend and registers the training kernels the stock
 * backend lacks or runs slowly. Idempotent: calling it twice is safe and cheap.
 *
 * @example
 * ```ts
 * const info = await useWasmBackend();
 * console.log(info.simd, info.kernels); // true ['Conv2DBackpropFilter', ...]
 * if (tf.getBackend() !== 'wasm' || !info.kernels.includes('Conv2DBackpropFilter')) throw new Error('not set up');
 * await tf.setBackend('cpu'); // switch back when done
 * ```
 */
export async function useWasmBackend(options: UseWasmBackendOptions = {}): Promise<WasmBackendInfo> {
  const withKernels = options.kernels ?? true;
  if (typeof withKernels !== 'boolean')
    throw new InvalidArgumentError('options.kernels', withKernels, 'a boolean');
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 8)) {
    throw new InvalidArgumentError('options.threads', threads, 'an integer in [1, 8]');
  }
  const stockThreads = options.stockThreads ?? (withKernels ? 1 : (threads ?? 1));
  if (!Number.isInteger(stockThreads) || stockThreads < 1 || stockThreads > (threads ?? 1)) {
    throw new InvalidArgumentError(
      'options.stockThreads',
      stockThreads,
      `an integer in [1, threads (${threads ?? 1})]`,
    );
  }
  const { getThreadsCount } = await tfjsWasm();
  if (threads !== undefined && threads > 1) await prepareThreads(threads, stockThreads);
  else if (threads === 1 && threadsRequested > 1) throw threadConflict(threads, stockThreads);
  const firstThreaded =
    threads !== undefined && threads > 1 && isNode() && tf.engine().registry.wasm === undefined;
  const ok = await (firstThreaded ? withReportedCpusLazy(stockThreads) : tf.setBackend('wasm'));
  initialized = true;
  if (!ok) {
    throw new UnsupportedError(
      'the tfjs wasm backend failed to initialize (is the .wasm binary reachable? see setWasmPaths in @tensorflow/tfjs-backend-wasm)',
    );
  }
  await tf.ready();
  guardHeapAllocations(tf.findBackend('wasm'));
  if (!withKernels) unregisterGradflowKernels();
  const kernels = withKernels ? registerGradflowKernels() : [];
  const threaded = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  const threadCount = threaded ? getThreadsCount() : 1;
  let variant: KernelVariant | null = null;
  let kernelThreads = 1;
  if (withKernels) {
    const rt = runtimeFor(tf.findBackend('wasm') as unknown as WasmBackendLike);
    if (threaded) await ensurePool(rt, threadsRequested);
    variant = rt.variant;
    kernelThreads = rt.pool?.threads ?? 1;
  }
  return {
    backend: 'wasm',
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: threaded,
    threadCount,
    relaxedSimd: engineHasRelaxedSimd(),
    kernelVariant: variant,
    kernels,
    kernelThreads,
  };
}
