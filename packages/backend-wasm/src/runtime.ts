import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, StateError, UnsupportedError } from '@gradflow/core';
import type { KernelPool } from './pool.js';
import {
  relaxedSimdBase64,
  scalarBase64,
  sharedRelaxedSimdBase64,
  sharedSimdBase64,
  simdBase64,
} from './wasm-binaries.js';

const BINARIES: Record<KernelVariant, string> = {
  simd: simdBase64,
  'relaxed-simd': relaxedSimdBase64,
  scalar: scalarBase64,
  'shared-simd': sharedSimdBase64,
  'shared-relaxed-simd': sharedRelaxedSimdBase64,
};

/** The parts of tfjs-backend-wasm's `BackendWasm` that the kernels use (4.22 layout). */
export interface WasmBackendLike {
  wasm: {
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    HEAPU8: Uint8Array;
    asm?: { memory?: WebAssembly.Memory };
    /** The threaded build imports its (shared) memory and keeps it here. */
    wasmMemory?: WebAssembly.Memory;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

/** Exports of wasm/kernels.c (all pointers are offsets into the tfjs heap). */
export interface GradflowKernelExports {
  __stack_pointer: WebAssembly.Global;
  gf_workspace_bytes(): number;
  gf_packed_b_floats(k: number, n: number): number;
  gf_has_simd(): number;
  gf_sgemm(
    m: number,
    n: number,
    k: number,
    a: number,
    rsa: number,
    csa: number,
    b: number,
    rsb: number,
    csb: number,
    c: number,
    ldc: number,
    accumulate: number,
    ws: number,
  ): void;
  gf_sgemm_batched(
    batch: number,
    m: number,
    n: number,
    k: number,
    a: number,
    sa: number,
    rsa: number,
    csa: number,
    b: number,
    sb: number,
    rsb: number,
    csb: number,
    c: number,
    sc: number,
    ldc: number,
    ws: number,
  ): void;
  gf_conv2d_backprop_filter(geom: number, x: number, dy: number, dw: number, zeros: number, ws: number): void;
  gf_conv2d_backprop_filter_scratch_floats(geom: number): number;
  gf_conv2d_backprop_input(
    geom: number,
    dy: number,
    w: number,
    dx: number,
    scratch: number,
    ws: number,
  ): void;
  gf_conv2d_backprop_input_scratch_floats(geom: number): number;
  gf_depthwise_backprop_filter(geom: number, mult: number, x: number, dy: number, dw: number): void;
  gf_depthwise_backprop_input(geom: number, mult: number, dy: number, w: number, dx: number): void;
  gf_max_pool_grad(geom: number, n0: number, n1: number, x: number, dy: number, dx: number): void;
  gf_avg_pool_grad(geom: number, n0: number, n1: number, dy: number, dx: number): void;
  gf_concat(n: number, table: number, r0: number, r1: number, width: number, out: number): void;
  gf_moments_sums(x: number, shift: number, rows: number, c: number, sums: number): void;
  gf_moments_finish(
    shift: number,
    rows: number,
    c: number,
    parts: number,
    sums: number,
    mean: number,
    variance: number,
  ): void;
  gf_repeat_block(src: number, block: number, reps: number, out: number): void;
  gf_slice(x: number, out: number, rank: number, dims: number): void;
  gf_conv2d_forward(geom: number, x: number, w: number, y: number, scratch: number, ws: number): void;
  gf_conv2d_forward_scratch_floats(geom: number): number;
  gf_winograd_filter(cin: number, cout: number, w: number, transposed: number, u: number): void;
  gf_bias_act(y: number, rows: number, c: number, bias: number, relu: number): void;
  gf_sum_rows(x: number, rows: number, cols: number, scale: number, out: number): void;
  gf_sum_mid(x: number, outer: number, r: number, inner: number, scale: number, out: number): void;
  gf_binary(op: number, a: number, na: number, b: number, nb: number, out: number, n: number): void;
  gf_binary_outer(
    op: number,
    a: number,
    b: number,
    aSmall: number,
    outer: number,
    mid: number,
    inner: number,
    out: number,
  ): void;
  gf_batchnorm(
    x: number,
    rows: number,
    c: number,
    mean: number,
    variance: number,
    offset: number,
    scale: number,
    eps: number,
    out: number,
    tmp: number,
  ): void;
  gf_batchnorm_grad_sums(x: number, dy: number, rows: number, c: number, mean: number, sums: number): void;
  gf_batchnorm_grad_finish(
    rows: number,
    c: number,
    parts: number,
    sums: number,
    mean: number,
    variance: number,
    scale: number,
    eps: number,
    batchStats: number,
    dmean: number,
    dvar: number,
    dscale: number,
    doffset: number,
    k: number,
  ): void;
  gf_batchnorm_grad_dx(
    x: number,
    dy: number,
    rows: number,
    c: number,
    batchStats: number,
    k: number,
    dx: number,
  ): void;
  gf_repeat_div(src: number, block: number, reps: number, divisor: number, out: number): void;
  gf_relu_grad(dy: number, x: number, out: number, n: number): void;
  gf_unary(op: number, x: number, out: number, n: number): void;
  gf_peak_fma(iters: number, seed: number): number;
  gf_gru_sequence_forward(...args: number[]): void;
  gf_gru_sequence_backward(...args: number[]): void;
  gf_lstm_sequence_forward(...args: number[]): void;
  gf_lstm_sequence_backward(...args: number[]): void;
}

/**
 * Which build of gradflow's kernels runs: 'simd' (128-bit SIMD), 'relaxed-simd' (SIMD with fused
 * multiply-adds through f32x4.relaxed_madd, where the engine validates relaxed SIMD), 'scalar'
 * (engines without SIMD), or 'shared-simd' / 'shared-relaxed-simd' (the same on a shared heap,
 * for the threaded tfjs build).
 */
export type KernelVariant = 'simd' | 'relaxed-simd' | 'scalar' | 'shared-simd' | 'shared-relaxed-simd';

/** One instance of our kernels bound to one tfjs wasm backend's heap. */
export interface KernelRuntime {
  backend: WasmBackendLike;
  memory: WebAssembly.Memory;
  exports: GradflowKernelExports;
  variant: KernelVariant;
  /** GEMM packing workspace (persistent, from the backend's _malloc). */
  ws: number;
  /** 16 int32 slots for a convolution geometry block. */
  geom: number;
  /** Base of the 64 KiB shadow stack given to the module. */
  stack: number;
  /** Workers that share the kernels' work on a threaded (shared) heap; see pool.ts. */
  pool?: KernelPool;
}

const STACK_BYTES = 64 * 1024;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  throw new UnsupportedError('no atob() in this JavaScript environment; gradflow kernels need it to load');
}

const compiled = new Map<KernelVariant, WebAssembly.Module>();

export function moduleFor(variant: KernelVariant): WebAssembly.Module {
  let mod = compiled.get(variant);
  if (!mod) {
    mod = new WebAssembly.Module(decodeBase64(BINARIES[variant]));
    compiled.set(variant, mod);
  }
  return mod;
}

/** Whether the engine validates a module using 128-bit SIMD (i32x4.splat). */
export function engineHasSimd(): boolean {
  // (module (func (result v128) i32.const 0 i32x4.splat))
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 17, 11,
  ]);
  return WebAssembly.validate(bytes);
}

/** Whether the engine validates relaxed SIMD (f32x4.relaxed_madd, final opcode 0xfd 0x105). */
export function engineHasRelaxedSimd(): boolean {
  // (module (func (result v128) (f32x4.relaxed_madd (i32x4.splat (i32.const 0)) x3)))
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 17, 65, 0,
    253, 17, 65, 0, 253, 17, 253, 133, 2, 11,
  ]);
  return WebAssembly.validate(bytes);
}

function heapMemory(backend: WasmBackendLike): WebAssembly.Memory {
  const memory = backend.wasm.asm?.memory ?? backend.wasm.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) {
    throw new UnsupportedError(
      'cannot find the tfjs wasm backend heap (module.asm.memory or module.wasmMemory); @gradflow/backend-wasm supports @tensorflow/tfjs-backend-wasm 4.22',
    );
  }
  return memory;
}

let runtimes = new Map<WasmBackendLike, KernelRuntime>();
type ForcedVariant = 'simd' | 'relaxed-simd' | 'scalar';
let forcedVariant: ForcedVariant | undefined;

/**
 * Forces the scalar, SIMD or relaxed-SIMD build of gradflow's kernels, e.g. to test the fallback
 * an engine without SIMD would run, or to compare the builds; `undefined` returns to feature
 * detection. On a shared (threaded) heap the shared build of the same kind runs. Existing
 * runtimes are released and re-created on next use; their thread pools stop (call
 * `useWasmBackend()` again to start one for the new runtime).
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * forceKernelVariant('scalar');
 * const x = tf.tensor2d([[1, 2], [3, 4]]);
 * const y = matMul(x, x); // runs the scalar build
 * if ((await y.data())[0] !== 7) throw new Error('wrong product');
 * forceKernelVariant(undefined); // back to feature detection
 * tf.dispose([x, y]);
 * await tf.setBackend('cpu');
 * ```
 */
export function forceKernelVariant(variant: ForcedVariant | undefined): void {
  if (variant !== undefined && variant !== 'simd' && variant !== 'relaxed-simd' && variant !== 'scalar') {
    throw new InvalidArgumentError('variant', variant, "'simd', 'relaxed-simd', 'scalar' or undefined");
  }
  if (variant === 'relaxed-simd' && !engineHasRelaxedSimd()) {
    throw new UnsupportedError('this engine does not validate relaxed SIMD (f32x4.relaxed_madd)', {
      value: variant,
      accepted: ['simd', 'scalar'],
    });
  }
  forcedVariant = variant;
  for (const rt of runtimes.values()) {
    rt.pool?.stop();
    rt.backend.wasm._free(rt.ws);
    rt.backend.wasm._free(rt.geom);
    rt.backend.wasm._free(rt.stack);
  }
  runtimes = new Map();
}

/** The kernel runtime bound to `backend`, instantiated on first use (synchronously). */
export function runtimeFor(backend: WasmBackendLike): KernelRuntime {
  const existing = runtimes.get(backend);
  if (existing) return existing;
  const memory = heapMemory(backend);
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const kind: ForcedVariant =
    forcedVariant ?? (!engineHasSimd() ? 'scalar' : engineHasRelaxedSimd() ? 'relaxed-simd' : 'simd');
  if (shared && kind === 'scalar')
    throw new UnsupportedError('a shared (threaded) tfjs heap without SIMD is not supported');
  const variant: KernelVariant = shared ? `shared-${kind as 'simd' | 'relaxed-simd'}` : kind;
  const instance = new WebAssembly.Instance(moduleFor(variant), { env: { memory } });
  const exports = instance.exports as unknown as GradflowKernelExports;
  const ws = backend.wasm._malloc(exports.gf_workspace_bytes()) >>> 0;
  const geom = backend.wasm._malloc(64) >>> 0;
  const stack = backend.wasm._malloc(STACK_BYTES) >>> 0;
  if (ws === 0 || geom === 0 || stack === 0) throw new StateError('the wasm heap is out of memory');
  exports.__stack_pointer.value = (stack + STACK_BYTES) & ~15;
  const runtime: KernelRuntime = { backend, memory, exports, variant, ws, geom, stack };
  runtimes.set(backend, runtime);
  return runtime;
}

/** The runtime of the active tfjs backend, which must be 'wasm'. */
export function activeRuntime(): KernelRuntime {
  if (tf.getBackend() !== 'wasm') {
    throw new StateError(
      `the active tfjs backend is '${tf.getBackend()}', expected 'wasm'; call useWasmBackend() first`,
    );
  }
  return runtimeFor(tf.backend() as unknown as WasmBackendLike);
}

/** Heap offset of a tensor's data. */
export function ptrOf(backend: WasmBackendLike, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data)
    throw new StateError('tensor is not on the wasm backend (disposed, or created on another backend)');
  return data.memoryOffset >>> 0;
}

/** Writes int32 `values` at `ptr` (exactly as many as there are). */
export function writeInts(rt: KernelRuntime, ptr: number, values: number[]): void {
  new Int32Array(rt.memory.buffer, ptr, values.length).set(values);
}

/** Ints of a geometry block (wasm/kernels.c's Geom). */
const GEOM_INTS = 16;

/** Writes a convolution geometry block (16 int32, zero-padded) at `ptr`. */
export function writeGeomAt(rt: KernelRuntime, ptr: number, values: number[]): void {
  if (values.length > GEOM_INTS)
    throw new StateError(`a geometry block holds ${GEOM_INTS} ints; got ${values.length}`);
  const view = new Int32Array(rt.memory.buffer, ptr, GEOM_INTS);
  view.fill(0);
  view.set(values);
}

/** Writes the calling thread's geometry block and returns its heap offset. */
export function writeGeom(rt: KernelRuntime, values: number[]): number {
  writeGeomAt(rt, rt.geom, values);
  return rt.geom;
}

/** Scratch memory from the backend's allocator, freed by `release`. */
export function scratch(rt: KernelRuntime, bytes: number): number {
  const ptr = rt.backend.wasm._malloc(Math.max(16, bytes)) >>> 0;
  if (ptr === 0) throw new StateError(`the wasm heap cannot allocate ${bytes} bytes of scratch`);
  return ptr;
}

export function release(rt: KernelRuntime, ptr: number): void {
  rt.backend.wasm._free(ptr);
}
