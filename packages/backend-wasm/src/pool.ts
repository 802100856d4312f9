import { StateError } from '@gradflow/core';

/**
 * A pool of workers that run gradflow's kernels on the threaded tfjs build's shared heap.
 *
 * Each worker instantiates the 'shared-simd' kernel module on the same WebAssembly.Memory, with
 * its own shadow stack, and then waits on a 32-slot int32 control block in the heap:
 * [0] task sequence number (negative: exit), [1] sequence of the last finished task, [2] failed,
 * [3] export index, [4] argument count, [5..] int32 arguments. The caller splits a kernel into
 * per-thread tasks (each with its own workspace and output region), runs the first task itself
 * and waits for the rest. No message passing on the hot path: only Atomics on the heap.
 */

/** Exports a worker can run (indices are the protocol). */
export const POOL_EXPORTS = [
  'gf_sgemm',
  'gf_conv2d_backprop_filter',
  'gf_conv2d_backprop_input',
  'gf_conv2d_forward',
] as const;
export type PoolExport = (typeof POOL_EXPORTS)[number];

const SLOTS = 32;
const MAX_ARGS = SLOTS - 5;

/** What the pool needs to start a worker: posted once, then the worker only reads the heap. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  stackTop: number;
  control: number;
  exports: readonly string[];
}

/** A started worker: the pool never posts to it again after `init`. */
export interface WorkerHandle {
  terminate(): void;
}

/** Starts a worker running WORKER_SOURCE with `init`, resolving once it waits for tasks. */
export type WorkerSpawner = (source: string, init: WorkerInit) => Promise<WorkerHandle>;

/** Source of the worker (plain JS; the same text runs in Node worker_threads and browser Workers). */
export const WORKER_SOURCE = `
'use strict';
function serve(init, ready) {
  const ex = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
  ex.__stack_pointer.value = init.stackTop;
  const fns = init.exports.map((name) => ex[name]);
  const base = init.control >>> 2;
  let seen = 0;
  ready();
  for (;;) {
    Atomics.wait(new Int32Array(init.memory.buffer), base, seen);
    const heap = new Int32Array(init.memory.buffer);
    const seq = Atomics.load(heap, base);
    if (seq < 0) return;
    if (seq === seen) continue;
    seen = seq;
    const args = Array.from(heap.subarray(base + 5, base + 5 + heap[base + 4]));
    try {
      fns[heap[base + 3]](...args);
      heap[base + 2] = 0;
    } catch (e) {
      heap[base + 2] = 1;
    }
    Atomics.store(heap, base + 1, seq);
    Atomics.notify(heap, base + 1);
  }
}
if (typeof require === 'function' && typeof self === 'undefined') {
  const { parentPort } = require('node:worker_threads');
  parentPort.once('message', (init) => serve(init, () => parentPort.postMessage('ready')));
} else {
  self.onmessage = (event) => serve(event.data, () => self.postMessage('ready'));
}
`;

/** One task: an export and its int32 arguments (heap offsets and sizes). */
export interface PoolTask {
  fn: PoolExport;
  args: number[];
}

interface Lane {
  control: number;
  seq: number;
}

/** Per-thread scratch the pool owns: a GEMM workspace and a geometry block for each worker. */
export interface LaneScratch {
  ws: number;
  geom: number;
}

export class KernelPool {
  private stopped = false;
  /** Tasks handed to workers so far (for tests and profiling). */
  dispatched = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly lanes: Lane[],
    /** Scratch of each worker (index 0 is worker 1; the calling thread uses the runtime's own). */
    readonly scratch: LaneScratch[],
    private readonly handles: WorkerHandle[],
    private readonly runLocal: (task: PoolTask) => void,
    private readonly canBlock: boolean,
    /** Heap blocks the pool allocated (control blocks, stacks, scratch), freed by stop(). */
    private readonly heapBlocks: number[],
    private readonly free: (ptr: number) => void,
  ) {}

  /** Threads a kernel can split across: the calling thread plus the workers. */
  get threads(): number {
    return this.stopped ? 1 : this.lanes.length + 1;
  }

  /**
   * Runs tasks[0] on the calling thread and tasks[i] on worker i, returning when all are done.
   * The tasks must touch disjoint output memory.
   */
  run(tasks: PoolTask[]): void {
    if (tasks.length > this.threads) {
      throw new StateError(`the kernel pool has ${this.threads} threads; got ${tasks.length} tasks`);
    }
    const started: Lane[] = [];
    for (let i = 1; i < tasks.length; i++) {
      const task = tasks[i] as PoolTask;
      const lane = this.lanes[i - 1] as Lane;
      if (task.args.length > MAX_ARGS)
        throw new StateError(`a pool task takes at most ${MAX_ARGS} arguments`);
      const heap = new Int32Array(this.memory.buffer);
      const base = lane.control >>> 2;
      heap[base + 3] = POOL_EXPORTS.indexOf(task.fn);
      heap[base + 4] = task.args.length;
      heap.set(task.args, base + 5);
      lane.seq += 1;
      Atomics.store(heap, base, lane.seq);
      Atomics.notify(heap, base);
      started.push(lane);
    }
    this.dispatched += started.length;
    let localError: unknown;
    try {
      if (tasks[0]) this.runLocal(tasks[0]);
    } catch (e) {
      localError = e;
    }
    let failed = false;
    for (const lane of started) {
      const base = lane.control >>> 2;
      for (;;) {
        const heap = new Int32Array(this.memory.buffer);
        const done = Atomics.load(heap, base + 1);
        if (done === lane.seq) {
          failed ||= heap[base + 2] !== 0;
          break;
        }
        // Browsers forbid Atomics.wait on the main thread: spin there (the tasks are milliseconds).
        if (this.canBlock) Atomics.wait(heap, base + 1, done, 1000);
      }
    }
    if (localError !== undefined) throw localError;
    if (failed) throw new StateError('a gradflow kernel failed on a pool worker (wasm trap)');
  }

  /** Stops the workers; later kernels run on the calling thread only. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const heap = new Int32Array(this.memory.buffer);
    for (const lane of this.lanes) {
      Atomics.store(heap, lane.control >>> 2, -1);
      Atomics.notify(heap, lane.control >>> 2);
    }
    for (const handle of this.handles) handle.terminate();
    for (const ptr of this.heapBlocks) this.free(ptr);
  }
}

/**
 * Starts `workers` workers on `memory` (which must be shared). Each gets a 64 KiB shadow stack,
 * a control block, and scratch for one GEMM workspace (`wsBytes`) and one geometry block.
 */
export async function startPool(options: {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  workers: number;
  wsBytes: number;
  /** The backend's _malloc and _free: the pool's blocks live in the tfjs heap. */
  alloc: (bytes: number) => number;
  free: (ptr: number) => void;
  spawn: WorkerSpawner;
  runLocal: (task: PoolTask) => void;
  canBlock: boolean;
}): Promise<KernelPool> {
  const { module, memory, workers, wsBytes, alloc, spawn } = options;
  const stackBytes = 64 * 1024;
  const lanes: Lane[] = [];
  const scratch: LaneScratch[] = [];
  const inits: WorkerInit[] = [];
  const blocks: number[] = [];
  const take = (bytes: number): number => {
    const ptr = alloc(bytes) >>> 0;
    if (ptr === 0) throw new StateError('the wasm heap is out of memory for the kernel pool');
    blocks.push(ptr);
    return ptr;
  };
  for (let i = 0; i < workers; i++) {
    const control = take(SLOTS * 4);
    const stack = take(stackBytes);
    scratch.push({ ws: take(wsBytes), geom: take(64) });
    new Int32Array(memory.buffer, control, SLOTS).fill(0);
    lanes.push({ control, seq: 0 });
    inits.push({ module, memory, stackTop: (stack + stackBytes) & ~15, control, exports: POOL_EXPORTS });
  }
  const handles = await Promise.all(inits.map((init) => spawn(WORKER_SOURCE, init)));
  return new KernelPool(
    memory,
    lanes,
    scratch,
    handles,
    options.runLocal,
    options.canBlock,
    blocks,
    options.free,
  );
}

/** Starts a worker in a browser (or a browser worker) from a blob: URL. */
export const spawnBrowserWorker: WorkerSpawner = (source, init) =>
  new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const worker = new Worker(url);
    worker.onmessage = () => {
      URL.revokeObjectURL(url);
      resolve({ terminate: () => worker.terminate() });
    };
    worker.onerror = (event) => {
      URL.revokeObjectURL(url);
      reject(new StateError(`a gradflow kernel worker failed to start: ${event.message}`));
    };
    worker.postMessage(init);
  });
