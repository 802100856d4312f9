import { MAX_CHUNKS, type PoolExport, type PoolJob } from './pool.js';
import { release, scratch, writeGeomAt, type KernelRuntime } from './runtime.js';

/**
 * How gradflow's kernels split into chunks for the kernel pool's threads. Every chunk writes a
 * disjoint output region (or, for the filter gradient and the reductions, a partial sum of its
 * own, added in chunk order so that the result does not depend on which thread ran what); each
 * thread brings its own GEMM workspace and conv scratch, so threads never share written memory.
 */

/** Below this many FLOPs a kernel runs on one thread: even a spinning worker costs microseconds. */
const MIN_PARALLEL_FLOPS = 4e6;

/** Below this many floats an element-wise pass runs on one thread. */
const MIN_PARALLEL_FLOATS = 1 << 15;

/** Smallest chunk of an element-wise pass, in floats. */
const MIN_CHUNK_FLOATS = 1 << 14;

/** Contiguous [begin, end) ranges of `total` items in `parts` parts, as equal as possible, none empty. */
function splitRange(total: number, parts: number): [number, number][] {
  if (total === 0) return [[0, 0]]; // one empty part: the kernel still writes its (zero) output
  const out: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const begin = Math.floor((total * t) / parts);
    const end = Math.floor((total * (t + 1)) / parts);
    if (end > begin) out.push([begin, end]);
  }
  return out;
}

/**
 * Guided chunks of `total` items for `threads` threads: each chunk takes 1/(2·threads) of what is
 * left, down to `minSize`. Big chunks first keep the per-chunk setup (a filter packed again, the
 * claim) rare; small ones last let the threads finish together (with equal chunks the caller
 * waited half a chunk per job, 12 ms of a ResNet-20 step), and any thread takes over the share of
 * one the OS has descheduled (seen here for over a millisecond, dozens of times a step).
 */
function guidedRanges(total: number, threads: number, minSize: number): [number, number][] {
  if (threads < 2 || total <= minSize) return [[0, total]];
  // At least 1/32 of the total: at most 2·t·ln(16/t) + 2·t chunks, under MAX_CHUNKS for t <= 8.
  const least = Math.max(minSize, Math.ceil(total / (MAX_CHUNKS / 2)));
  const out: [number, number][] = [];
  for (let begin = 0; begin < total;) {
    const size = Math.max(least, Math.ceil((total - begin) / (2 * threads)));
    const end = Math.min(total, begin + size);
    out.push([begin, end]);
    begin = end;
  }
  return out;
}

/** Threads to use for `flops` of work split over `items` independent items (1 = run inline). */
export function threadsFor(rt: KernelRuntime, flops: number, items: number): number {
  const pool = rt.pool;
  if (!pool || flops < MIN_PARALLEL_FLOPS) return 1;
  return Math.max(1, Math.min(pool.threads, items));
}

/** Each thread's GEMM workspace (index 0: the calling thread's). */
function workspaces(rt: KernelRuntime): number[] {
  return [rt.ws, ...(rt.pool?.scratch.map((s) => s.ws) ?? [])];
}

/** Runs a job on the pool, or its chunks one after another on this thread. */
function runJob(rt: KernelRuntime, job: PoolJob): void {
  if (rt.pool && rt.pool.threads > 1 && job.chunks.length > 1) {
    rt.pool.run(job);
    return;
  }
  const fn = rt.exports[job.fn] as (...args: number[]) => void;
  const own = Object.entries(job.perThread ?? {}).map(([i, values]) => [Number(i), values[0] as number]);
  for (const chunk of job.chunks) {
    const args = [...chunk];
    for (const [i, value] of own) args[i as number] = value as number;
    fn(...args);
  }
}

/**
 * How an element-wise pass over `n` floats splits: guided chunks of whole `unit`s (a row, a
 * broadcast period), as [begin, end) float ranges; one range for small passes or one thread.
 * At most MAX_CHUNKS.
 */
export function floatChunks(rt: KernelRuntime, n: number, unit: number): [number, number][] {
  const units = Math.ceil(n / unit);
  const threads = n < MIN_PARALLEL_FLOATS ? 1 : (rt.pool?.threads ?? 1);
  const minUnits = Math.max(1, Math.ceil(MIN_CHUNK_FLOATS / unit));
  return guidedRanges(units, threads, minUnits).map(([u0, u1]) => [u0 * unit, Math.min(u1 * unit, n)]);
}

/**
 * Runs an element-wise export on each of `ranges` (floatChunks), on the pool: `args(begin, end,
 * chunk)` gives the arguments for floats [begin, end).
 */
export function runChunks(
  rt: KernelRuntime,
  fn: PoolExport,
  ranges: [number, number][],
  args: (begin: number, end: number, chunk: number) => number[],
): void {
  runJob(rt, { fn, chunks: ranges.map(([begin, end], c) => args(begin, end, c)) });
}

/** floatChunks, then runChunks: an element-wise pass over `n` floats. Returns the number of chunks. */
export function splitFloats(
  rt: KernelRuntime,
  fn: PoolExport,
  n: number,
  unit: number,
  args: (begin: number, end: number, chunk: number) => number[],
): number {
  const ranges = floatChunks(rt, n, unit);
  runChunks(rt, fn, ranges, args);
  return ranges.length;
}

/**
 * Runs an export as a team (wasm/gates.c's Team): `parts` calls at once, one per pool thread, with
 * `args` plus (part, parts, counter) and argument `wsAt` the running thread's workspace. The
 * parts meet inside the call, so they must all run concurrently: parts <= the pool's threads.
 */
export function runTeam(
  rt: KernelRuntime,
  fn: PoolExport,
  args: number[],
  parts: number,
  wsAt: number,
): void {
  const counter = scratch(rt, 8);
  try {
    new Int32Array(rt.memory.buffer, counter, 1)[0] = 0;
    const chunks = Array.from({ length: parts }, (_, p) => [...args, p, parts, counter]);
    runJob(rt, { fn, chunks, perThread: { [wsAt]: workspaces(rt) } });
  } finally {
    release(rt, counter);
  }
}

/** Each conv export's scratch size (floats), from its geometry block. */
const SCRATCH_FLOATS = {
  gf_conv2d_forward: 'gf_conv2d_forward_scratch_floats',
  gf_conv2d_backprop_input: 'gf_conv2d_backprop_input_scratch_floats',
  gf_conv2d_backprop_filter: 'gf_conv2d_backprop_filter_scratch_floats',
} as const;

type ConvExport = keyof typeof SCRATCH_FLOATS;

/** The leading fields of a conv geometry (geomValues order). */
type ConvGeomHead = [number, number, number, number, number, number, number, number, number, ...number[]];

/** Bytes of a geometry block (16 ints). */
const GEOM_BYTES = 64;

/**
 * Runs a conv export (forward, or a backprop) split by images (`threads` 1: on this thread, in one
 * call). The forward and the input gradient run in chunks of images that any thread may claim;
 * the filter gradient in one chunk per thread, chunk c > 0 into a partial dW that is summed into
 * `out` at the end. Each thread has its own scratch (the packed filter, a zero row). `geom`
 * (geomValues order: n, h, w, ci, oh, ow, co, kh, kw, ...) is the one source of every size here.
 */
export function convByImages(
  rt: KernelRuntime,
  fn: ConvExport,
  geom: number[],
  ptrs: { a: number; b: number; out: number },
  threads: number,
): void {
  const [batch, h, w, ci, oh, ow, co, kh, kw] = geom as ConvGeomHead;
  const filterGrad = fn === 'gf_conv2d_backprop_filter';
  const xImage = h * w * ci * 4; // bytes of one image of x (or dx)
  const yImage = oh * ow * co * 4; // and of y (or dy)
  const dwFloats = kh * kw * ci * co;
  // The filter gradient in one chunk per thread: a partial dW per chunk costs a pass over dW.
  const ranges = filterGrad ? splitRange(batch, threads) : guidedRanges(batch, threads, 1);
  const owned: number[] = [];
  const partials: number[] = [];
  try {
    const geoms = scratch(rt, ranges.length * GEOM_BYTES);
    owned.push(geoms);
    ranges.forEach(([n0, n1], c) => writeGeomAt(rt, geoms + c * GEOM_BYTES, [n1 - n0, ...geom.slice(1)]));
    const sizes = ranges.map((_, c) => rt.exports[SCRATCH_FLOATS[fn]](geoms + c * GEOM_BYTES));
    const lanes = ranges.length > 1 ? (rt.pool?.threads ?? 1) : 1;
    const own = Array.from({ length: lanes }, () => scratch(rt, Math.max(...sizes) * 4));
    owned.push(...own);
    const chunks = ranges.map(([n0], c) => {
      const g = geoms + c * GEOM_BYTES;
      if (filterGrad) {
        let out = ptrs.out;
        if (c > 0) {
          out = scratch(rt, dwFloats * 4);
          owned.push(out);
          partials.push(out);
        }
        return [g, ptrs.a + n0 * xImage, ptrs.b + n0 * yImage, out, 0, 0];
      }
      // forward: (x, w) -> y; input gradient: (dy, w) -> dx.
      const [aImage, outImage] = fn === 'gf_conv2d_forward' ? [xImage, yImage] : [yImage, xImage];
      return [g, ptrs.a + n0 * aImage, ptrs.b, ptrs.out + n0 * outImage, 0, 0];
    });
    // Arguments 4 and 5 (scratch, workspace) are the running thread's.
    runJob(rt, { fn, chunks, perThread: { 4: own, 5: workspaces(rt) } });
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
 * Runs a GEMM split by rows of C (or, when there are too few rows, by columns) in one chunk per
 * thread (each chunk packs the whole of B or A again, so no more chunks than threads). Row blocks
 * are multiples of 4 and column blocks multiples of 8 (the micro-kernel tile), so every chunk
 * computes whole tiles.
 */
export function gemmSplit(rt: KernelRuntime, g: GemmArgs, threads: number): void {
  const byRows = g.m >= g.n || g.n < 16;
  const unit = byRows ? 4 : 8;
  const blocks = Math.ceil((byRows ? g.m : g.n) / unit);
  const chunks = splitRange(blocks, Math.min(threads, blocks)).map(([b0, b1]) => {
    const total = byRows ? g.m : g.n;
    const from = b0 * unit;
    const size = Math.min(b1 * unit, total) - from;
    const args = byRows
      ? [size, g.n, g.k, g.a + from * g.rsa * 4, g.rsa, g.csa, g.b, g.rsb, g.csb, g.c + from * g.ldc * 4]
      : [g.m, size, g.k, g.a, g.rsa, g.csa, g.b + from * g.csb * 4, g.rsb, g.csb, g.c + from * 4];
    return [...args, g.ldc, 0, 0];
  });
  // Argument 12 (the workspace) is the running thread's.
  runJob(rt, { fn: 'gf_sgemm', chunks, perThread: { 12: workspaces(rt) } });
}
