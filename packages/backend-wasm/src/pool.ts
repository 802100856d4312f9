import { StateError } from '@gradflow/core';

/**
 * A pool of workers that run gradflow's kernels on the threaded tfjs build's shared heap.
 *
 * Each worker instantiates the 'shared-simd' kernel module on the same WebAssembly.Memory, with
 * its own shadow stack. A split kernel is a job: one export and a list of chunks (each chunk's
 * arguments: heap offsets, sizes, float parameters such as an epsilon), written to a queue in the
 * heap. The calling thread and the workers claim chunks with an atomic counter until none is left
 * (drainChunks, the same code on every thread), so a worker the OS has descheduled costs no wait:
 * the others take its chunks. Arguments that belong to a thread rather than a chunk (a GEMM
 * workspace, a conv's packed filter) come from a per-thread table. No message passing on the hot
 * path: only Atomics on the heap.
 *
 * Threads spin for up to SPIN_MS before they sleep: a training step runs hundreds of split kernels
 * microseconds apart, and waking a sleeping thread (futex, or an IPI to an idle vCPU in a VM) took
 * about 50 µs here, more than a whole element-wise pass over 64K floats.
 */

/** Exports a worker can run (indices are the protocol). */
export const POOL_EXPORTS = [
  'gf_sgemm',
  'gf_conv2d_backprop_filter',
  'gf_conv2d_backprop_input',
  'gf_conv2d_forward',
  'gf_binary',
  'gf_unary',
  'gf_relu_grad',
  'gf_batchnorm',
  'gf_batchnorm_grad_sums',
  'gf_batchnorm_grad_dx',
  'gf_repeat_div',
  'gf_sum_rows',
  'gf_max_pool_grad',
  'gf_avg_pool_grad',
  'gf_concat',
  'gf_moments_sums',
  'gf_gru_sequence_forward',
  'gf_gru_sequence_backward',
  'gf_lstm_sequence_forward',
  'gf_lstm_sequence_backward',
] as const;
export type PoolExport = (typeof POOL_EXPORTS)[number];

/** Most arguments an export takes, and most chunks a job has. */
const MAX_ARGS = 32;
export const MAX_CHUNKS = 64;
/** Int32 slots of the control block. */
const CONTROL_INTS = 16;
/** A claim holds the chunk index in its low bits and the job's generation (11 bits) above. */
const INDEX_BITS = 20;
const GENERATIONS = 1 << 11;
/** How long an idle thread spins on the queue before it sleeps (see above). */
const SPIN_MS = 1;

/**
 * Where the queue lives in the heap. control: int32 [0] job sequence number (negative: exit),
 * [1] claim counter (the job's generation << 20 | next chunk), [2] chunks finished, [3] failed,
 * [4] chunk count, [5] export index, [6] argument count, [7] bit mask of the per-thread arguments,
 * [8] the job's generation. args: float64 [MAX_CHUNKS][MAX_ARGS]. threadArgs: float64
 * [threads][MAX_ARGS] (row 0: the calling thread).
 */
export interface QueueLayout {
  control: number;
  args: number;
  threadArgs: number;
  maxArgs: number;
  indexBits: number;
}

/** A split kernel: `fn` runs once per chunk, on whichever thread claims it. */
export interface PoolJob {
  fn: PoolExport;
  /** Each chunk's arguments; the chunks must write disjoint memory. */
  chunks: number[][];
  /** Argument positions that take a per-thread value instead: position -> value of each thread (0: the caller). */
  perThread?: Record<number, number[]>;
}

/**
 * Claims and runs chunks of the current job until none is left; the same function runs on the
 * calling thread and (as source text) in every worker, so it must not refer to anything outside
 * itself. A claim is the counter's old value: the job's generation and a chunk index. A claim from
 * an earlier job (a thread that lost the race to the end of the last one while the caller rewrote
 * the queue) or past the chunk count runs nothing; the generation is read again after the count,
 * so a count from a newer job is never paired with an older claim. A trap sets the failed flag.
 * Returns the chunks it ran.
 */
function drainChunks(
  memory: WebAssembly.Memory,
  fns: ((...args: number[]) => void)[],
  at: QueueLayout,
  thread: number,
): number {
  const heap = new Int32Array(memory.buffer);
  const base = at.control >>> 2;
  for (let ran = 0; ; ran++) {
    const claim = Atomics.add(heap, base + 1, 1);
    const generation = Atomics.load(heap, base + 8);
    const count = Atomics.load(heap, base + 4);
    const chunk = claim & ((1 << at.indexBits) - 1);
    if (
      claim >>> at.indexBits !== generation ||
      chunk >= count ||
      Atomics.load(heap, base + 8) !== generation
    )
      return ran;
    const n = heap[base + 6] as number;
    const mask = heap[base + 7] as number;
    const own = new Float64Array(memory.buffer, at.args + chunk * at.maxArgs * 8, n);
    const mine = new Float64Array(memory.buffer, at.threadArgs + thread * at.maxArgs * 8, n);
    const args = new Array<number>(n);
    for (let i = 0; i < n; i++) args[i] = ((mask >> i) & 1 ? mine[i] : own[i]) as number;
    try {
      (fns[heap[base + 5] as number] as (...a: number[]) => void)(...args);
    } catch {
      Atomics.store(heap, base + 3, 1);
    }
    if (Atomics.add(heap, base + 2, 1) + 1 === count) Atomics.notify(heap, base + 2);
  }
}

/** What the pool needs to start a worker: posted once, then the worker only reads the heap. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  stackTop: number;
  queue: QueueLayout;
  thread: number;
  exports: readonly string[];
  spinMs: number;
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
const drainChunks = ${drainChunks.toString()};
function serve(init, ready) {
  const ex = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
  ex.__stack_pointer.value = init.stackTop;
  const fns = init.exports.map((name) => ex[name]);
  const base = init.queue.control >>> 2;
  let seen = 0;
  ready();
  for (;;) {
    const heap = new Int32Array(init.memory.buffer);
    const until = performance.now() + init.spinMs;
    while (Atomics.load(heap, base) === seen && performance.now() < until);
    Atomics.wait(heap, base, seen);
    seen = Atomics.load(new Int32Array(init.memory.buffer), base);
    if (seen < 0) return;
    drainChunks(init.memory, fns, init.queue, init.thread);
  }
}
if (typeof require === 'function' && typeof self === 'undefined') {
  const { parentPort } = require('node:worker_threads');
  parentPort.once('message', (init) => serve(init, () => parentPort.postMessage('ready')));
} else {
  self.onmessage = (event) => serve(event.data, () => self.postMessage('ready'));
}
`;

/** Per-thread scratch the pool owns: a GEMM workspace for each worker. */
export interface LaneScratch {
  ws: number;
}

export class KernelPool {
  private stopped = false;
  private seq = 0;
  private generation = 0;
  /** Jobs run split over the pool, and chunks the workers took, so far (for tests and profiling). */
  jobs = 0;
  workerChunks = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly queue: QueueLayout,
    /** Scratch of each worker (index 0 is worker 1; the calling thread uses the runtime's own). */
    readonly scratch: LaneScratch[],
    private readonly handles: WorkerHandle[],
    /** The calling thread's exports, in POOL_EXPORTS order. */
    private readonly localFns: ((...args: number[]) => void)[],
    private readonly canBlock: boolean,
    /** Heap blocks the pool allocated (queue, stacks, scratch), freed by stop(). */
    private readonly heapBlocks: number[],
    private readonly free: (ptr: number) => void,
  ) {}

  /** Threads a kernel can split across: the calling thread plus the workers. */
  get threads(): number {
    return this.stopped ? 1 : this.handles.length + 1;
  }

  /** Runs every chunk of `job` on the calling thread and the workers, returning when all are done. */
  run(job: PoolJob): void {
    const { chunks, perThread = {} } = job;
    const n = chunks[0]?.length ?? 0;
    if (chunks.length > MAX_CHUNKS)
      throw new StateError(`a pool job has at most ${MAX_CHUNKS} chunks; got ${chunks.length}`);
    if (n > MAX_ARGS || chunks.some((c) => c.length !== n)) {
      throw new StateError(`the chunks of a pool job take the same number of arguments, at most ${MAX_ARGS}`);
    }
    const heap = new Int32Array(this.memory.buffer);
    const base = this.queue.control >>> 2;
    // A new generation first: from here on every claim still in flight for the last job is stale.
    const generation = (this.generation + 1) % GENERATIONS;
    this.generation = generation;
    Atomics.store(heap, base + 8, generation);
    let mask = 0;
    const threadArgs = new Float64Array(this.memory.buffer, this.queue.threadArgs, this.threads * MAX_ARGS);
    for (const [key, values] of Object.entries(perThread)) {
      const i = Number(key);
      if (values.length < this.threads) {
        throw new StateError(
          `argument ${i} of a pool job needs a value for each of the ${this.threads} threads`,
        );
      }
      mask |= 1 << i;
      for (let t = 0; t < this.threads; t++) threadArgs[t * MAX_ARGS + i] = values[t] as number;
    }
    const args = new Float64Array(this.memory.buffer, this.queue.args, MAX_CHUNKS * MAX_ARGS);
    chunks.forEach((chunk, c) => args.set(chunk, c * MAX_ARGS));
    heap[base + 2] = 0;
    heap[base + 3] = 0;
    heap[base + 4] = chunks.length;
    heap[base + 5] = POOL_EXPORTS.indexOf(job.fn);
    heap[base + 6] = n;
    heap[base + 7] = mask;
    Atomics.store(heap, base + 1, generation << INDEX_BITS);
    this.seq = (this.seq + 1) & 0x3fffffff;
    Atomics.store(heap, base, this.seq);
    Atomics.notify(heap, base);
    this.jobs += 1;
    const ranHere = drainChunks(this.memory, this.localFns, this.queue, 0);
    const sleepAfter = performance.now() + SPIN_MS;
    let done: number;
    while ((done = Atomics.load(heap, base + 2)) < chunks.length) {
      // Browsers forbid Atomics.wait on the main thread: it spins there.
      if (this.canBlock && performance.now() > sleepAfter) Atomics.wait(heap, base + 2, done, 1000);
    }
    this.workerChunks += chunks.length - ranHere;
    if (heap[base + 3] !== 0) throw new StateError('a gradflow kernel failed in the kernel pool (wasm trap)');
  }

  /** Stops the workers; later kernels run on the calling thread only. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const heap = new Int32Array(this.memory.buffer);
    Atomics.store(heap, this.queue.control >>> 2, -1);
    Atomics.notify(heap, this.queue.control >>> 2);
    for (const handle of this.handles) handle.terminate();
    for (const ptr of this.heapBlocks) this.free(ptr);
  }
}

/**
 * Starts `workers` workers on `memory` (which must be shared). Each gets a 64 KiB shadow stack and
 * a GEMM workspace (`wsBytes`); they share one queue.
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
  /** The calling thread's exports, by name. */
  localExports: Record<PoolExport, (...args: number[]) => void>;
  canBlock: boolean;
}): Promise<KernelPool> {
  const { module, memory, workers, wsBytes, alloc, spawn } = options;
  const stackBytes = 64 * 1024;
  const blocks: number[] = [];
  const take = (bytes: number): number => {
    const ptr = alloc(bytes) >>> 0;
    if (ptr === 0) throw new StateError('the wasm heap is out of memory for the kernel pool');
    blocks.push(ptr);
    return ptr;
  };
  const queue: QueueLayout = {
    control: take(CONTROL_INTS * 4),
    args: take(MAX_CHUNKS * MAX_ARGS * 8),
    threadArgs: take((workers + 1) * MAX_ARGS * 8),
    maxArgs: MAX_ARGS,
    indexBits: INDEX_BITS,
  };
  new Int32Array(memory.buffer, queue.control, CONTROL_INTS).fill(0);
  const scratch: LaneScratch[] = [];
  const inits: WorkerInit[] = [];
  for (let i = 0; i < workers; i++) {
    const stack = take(stackBytes);
    scratch.push({ ws: take(wsBytes) });
    const stackTop = (stack + stackBytes) & ~15;
    inits.push({ module, memory, stackTop, queue, thread: i + 1, exports: POOL_EXPORTS, spinMs: SPIN_MS });
  }
  const handles = await Promise.all(inits.map((init) => spawn(WORKER_SOURCE, init)));
  const localFns = POOL_EXPORTS.map((name) => options.localExports[name]);
  return new KernelPool(memory, queue, scratch, handles, localFns, options.canBlock, blocks, options.free);
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
