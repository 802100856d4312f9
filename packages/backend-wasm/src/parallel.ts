import { StateError } from '@gradflow/core';
import type { PoolExport, PoolTask } from './pool.js';
import { release, scratch, writeInts, type KernelRuntime } from './runtime.js';

/**
 * How gradflow's big kernels split across the kernel pool's threads. Every split gives each
 * thread a disjoint output region (or, for the filter gradient, its own partial sum), its own
 * GEMM workspace, geometry block and scratch, so the threads never share written memory.
 */

/** Below this many FLOPs a kernel runs on one thread: waking a worker costs tens of microseconds. */
const MIN_PARALLEL_FLOPS = 4e6;

/** Contiguous [begin, end) ranges of `total` items over `parts` threads, as equal as possible, none empty. */
export function splitRange(total: number, parts: number): [number, number][] {
  if (total === 0) return [[0, 0]]; // one empty part: the kernel still writes its (zero) output
  const out: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const begin = Math.floor((total * t) / parts);
    const end = Math.floor((total * (t + 1)) / parts);
    if (end > begin) out.push([begin, end]);
  }
  return out;
}

/** Threads to use for `flops` of work split over `items` independent items (1 = run inline). */
export function threadsFor(rt: KernelRuntime, flops: number, items: number): number {
  const pool = rt.pool;
  if (!pool || flops < MIN_PARALLEL_FLOPS) return 1;
  return Math.max(1, Math.min(pool.threads, items));
}

/** Runs the tasks on the pool, or one after another on this thread when there is none. */
function runTasks(rt: KernelRuntime, tasks: PoolTask[]): void {
  if (rt.pool) {
    rt.pool.run(tasks);
    return;
  }
  for (const task of tasks) (rt.exports[task.fn] as (...args: number[]) => void)(...task.args);
}

/** Workspace and geometry block of thread `t` (0 is the calling thread). */
function lane(rt: KernelRuntime, t: number): { ws: number; geom: number } {
  if (t === 0) return { ws: rt.ws, geom: rt.geom };
  const s = rt.pool?.scratch[t - 1];
  if (!s) throw new StateError(`the kernel pool has no lane ${t}`);
  return s;
}

/** Each conv export's scratch size (floats), from its geometry block. */
const SCRATCH_FLOATS = {
  gf_conv2d_forward: 'gf_conv2d_forward_scratch_floats',
  gf_conv2d_backprop_input: 'gf_conv2d_backprop_input_scratch_floats',
  gf_conv2d_backprop_filter: 'gf_conv2d_backprop_filter_scratch_floats',
} as const;

/** The leading fields of a conv geometry (geomValues order). */
type ConvGeomHead = [number, number, number, number, number, number, number, number, number, ...number[]];

/** Conv geometry (geomValues order) with the batch size replaced. */
function withBatch(geom: number[], n: number): number[] {
  return [n, ...geom.slice(1)];
}

/**
 * Runs a conv export (forward, or a backprop) split by images (`threads` 1: on this thread only):
 * thread t gets images [n0, n1) of x/dy and of the output. For the filter gradient each thread
 * t > 0 writes a partial dW that is summed into `out` at the end. `geom` (geomValues order: n, h,
 * w, ci, oh, ow, co, kh, kw, ...) is the one source of every size here.
 */
export function convByImages(
  rt: KernelRuntime,
  fn: Exclude<PoolExport, 'gf_sgemm'>,
  geom: number[],
  ptrs: { a: number; b: number; out: number },
  threads: number,
): void {
  const [batch, h, w, ci, oh, ow, co, kh, kw] = geom as ConvGeomHead;
  const k = kh * kw * ci;
  const xImage = h * w * ci * 4; // bytes of one image of x (or dx)
  const yImage = oh * ow * co * 4; // and of y (or dy)
  const dwFloats = k * co;
  const owned: number[] = [];
  const partials: number[] = [];
  try {
    const tasks: PoolTask[] = splitRange(batch, threads).map(([n0, n1], t) => {
      const { ws, geom: g } = lane(rt, t);
      writeInts(rt, g, withBatch(geom, n1 - n0));
      // The export's own scratch: a zero row for padding taps, and the packed filter (forward,
      // input gradient); threads after the first sum their filter gradient into a dW of their own.
      const own = scratch(rt, rt.exports[SCRATCH_FLOATS[fn]](g) * 4);
      owned.push(own);
      if (fn === 'gf_conv2d_backprop_filter') {
        let out = ptrs.out;
        if (t > 0) {
          out = scratch(rt, dwFloats * 4);
          owned.push(out);
          partials.push(out);
        }
        return { fn, args: [g, ptrs.a + n0 * xImage, ptrs.b + n0 * yImage, out, own, ws] };
      }
      // forward: (x, w) -> y; input gradient: (dy, w) -> dx.
      const [aImage, outImage] = fn === 'gf_conv2d_forward' ? [xImage, yImage] : [yImage, xImage];
      return { fn, args: [g, ptrs.a + n0 * aImage, ptrs.b, ptrs.out + n0 * outImage, own, ws] };
    });
    runTasks(rt, tasks);
    for (const partial of partials)
      rt.exports.gf_binary(0, ptrs.out, dwFloats, partial, dwFloats, ptrs.out, dwFloats);
  } finally {
    for (const ptr of owned) release(rt, ptr);
  }
}

/** One GEMM C (m x n) = A (m x k) B (k x n) with strided operands, as gf_sgemm takes it. */
export interface GemmArgs {
  m: number;
  n: number;
  k: number;
  a: number;
  rsa: number;
  csa: number;
  b: number;
  rsb: number;
  csb: number;
  c: number;
  ldc: number;
}

/**
 * Runs a GEMM split by rows of C (or, when there are too few rows, by columns) over `threads`
 * threads. Row blocks are multiples of 4 and column blocks multiples of 8 (the micro-kernel tile),
 * so every thread computes whole tiles.
 */
export function gemmSplit(rt: KernelRuntime, g: GemmArgs, threads: number): void {
  const byRows = g.m >= g.n || g.n < 16;
  const unit = byRows ? 4 : 8;
  const blocks = Math.ceil((byRows ? g.m : g.n) / unit);
  const tasks: PoolTask[] = splitRange(blocks, Math.min(threads, blocks)).map(([b0, b1], t) => {
    const { ws } = lane(rt, t);
    const total = byRows ? g.m : g.n;
    const from = b0 * unit;
    const size = Math.min(b1 * unit, total) - from;
    const args = byRows
      ? [size, g.n, g.k, g.a + from * g.rsa * 4, g.rsa, g.csa, g.b, g.rsb, g.csb, g.c + from * g.ldc * 4]
      : [g.m, size, g.k, g.a, g.rsa, g.csa, g.b + from * g.csb * 4, g.rsb, g.csb, g.c + from * 4];
    return { fn: 'gf_sgemm', args: [...args, g.ldc, 0, ws] };
  });
  runTasks(rt, tasks);
}
