import { createRequire } from 'node:module';
import type * as WorkerThreads from 'node:worker_threads';
import type { WorkerSpawner } from './pool.js';

/**
 * Makes the stock multi-threaded tfjs wasm build start its pthread workers under Node.
 *
 * tfjs-backend-wasm hands emscripten a `blob:` URL for the worker script and a Blob for the main
 * script; Node's `worker_threads.Worker` accepts neither (ERR_WORKER_PATH, tfjs#3830). Before the
 * backend initializes, this wraps `worker_threads.Worker` (which the emscripten glue installs as
 * the global `Worker`) so that a `blob:` worker is started from the same worker source with
 * `eval: true`, with the glue's factory prepended and `importScripts` of a blob made a no-op.
 */
let patched = false;

/**
 * Runs `init` (the backend's first initialization) with `os.cpus()` reporting `2 * threads` CPUs:
 * tfjs-backend-wasm 4.22 caps its pthreadpool at emscripten_num_logical_cores() / 2, which in
 * Node is os.cpus().length / 2 (1 thread on a 2-CPU machine, whatever setThreadsCount says).
 */
export async function withReportedCpus<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const require = createRequire(import.meta.url);
  const os = require('node:os') as { cpus: () => unknown[] };
  const original = os.cpus;
  const real = original();
  os.cpus = () => Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i % real.length]);
  try {
    return await init();
  } finally {
    os.cpus = original;
  }
}

export function patchNodeWorkers(): void {
  if (patched) return;
  const require = createRequire(import.meta.url);
  const workerThreads = require('node:worker_threads') as typeof WorkerThreads;
  const glue = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as (
    ...args: unknown[]
  ) => unknown;
  const { wasmWorkerContents } =
    require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
      wasmWorkerContents: string;
    };
  const importScripts = 'importScripts:function(f){(0,eval)';
  if (!wasmWorkerContents.includes(importScripts)) {
    throw new Error(
      'unexpected tfjs-backend-wasm worker script; threads in Node need tfjs-backend-wasm 4.22',
    );
  }
  const source = [
    `globalThis.WasmBackendModuleThreadedSimd = ${glue.toString()};`,
    // As tfjs does before making its Blob: the template literal turned the script's "\\n" into newlines.
    wasmWorkerContents
      .replace(/\n/g, '\\n')
      .replace(importScripts, 'importScripts:function(f){if(String(f).startsWith("blob:"))return;(0,eval)'),
  ].join('\n');
  const Original = workerThreads.Worker;
  class BlobAwareWorker extends Original {
    /** An emscripten pthread worker (tfjs's pool), as opposed to any other Worker started meanwhile. */
    private readonly pthread: boolean;

    constructor(filename: string | URL, options?: WorkerThreads.WorkerOptions) {
      const url = String(filename);
      if (url.startsWith('blob:')) super(source, { ...options, eval: true });
      else super(filename, options);
      this.pthread = url.startsWith('blob:');
      // The pool only works while the main thread calls into the backend; idle workers must not
      // keep a finished Node process alive.
      this.unref();
    }

    // emscripten refs a worker when it starts a pthread on it, and tfjs's pool threads never
    // return: every script using threads would hang at exit instead of finishing. (Other
    // workers, such as gradflow's kernel pool while it starts, keep ref() as Node defines it.)
    override ref(): void {
      if (!this.pthread) super.ref();
    }

    override postMessage(value: unknown, transferList?: readonly WorkerThreads.TransferListItem[]): void {
      const msg = value as { cmd?: string; urlOrBlob?: unknown } | null;
      if (msg && msg.cmd === 'load' && typeof msg.urlOrBlob !== 'string') {
        super.postMessage({ ...msg, urlOrBlob: 'blob:gradflow-preloaded' }, transferList);
        return;
      }
      super.postMessage(value, transferList);
    }
  }
  (workerThreads as { Worker: unknown }).Worker = BlobAwareWorker;
  patched = true;
}

/** Starts a gradflow kernel-pool worker (pool.ts) as a Node worker thread. */
export const spawnNodeWorker: WorkerSpawner = (source, init) => {
  const require = createRequire(import.meta.url);
  const { Worker } = require('node:worker_threads') as typeof WorkerThreads;
  const worker = new Worker(source, { eval: true });
  // Referenced until it is ready (so the process waits for it), then unreferenced: an idle pool
  // must not keep a finished process alive.
  worker.ref();
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => {
      worker.off('error', reject);
      worker.unref();
      resolve({ terminate: () => void worker.terminate() });
    });
    worker.postMessage(init);
  });
};
