import * as tf from '@tensorflow/tfjs';
import { gradflowKernelsRegistered } from './kernels.js';
import { release, runtimeFor, scratch, type KernelRuntime, type WasmBackendLike } from './runtime.js';

/**
 * One time step's rows of the input projection: row b is `data[offset + b * stride ...]`, `width`
 * floats (the step t of a `[B*T, G*H]` array has offset `t * G * H` and stride `T * G * H`).
 */
export interface StridedRows {
  data: Float32Array;
  offset: number;
  stride: number;
}

/** GRU step (reset gate after the recurrent matmul): inputs, and the [B, H] outputs it fills. */
export interface GruStepForward {
  xp: StridedRows;
  /** h_{t-1} U, [B, 3H]. */
  hp: Float32Array;
  /** Recurrent bias [3H], or null. */
  rb: Float32Array | null;
  hPrev: Float32Array;
  r: Float32Array;
  z: Float32Array;
  n: Float32Array;
  hn: Float32Array;
  h: Float32Array;
}

/** GRU step backward: the stash of the forward step, dh; fills dxp rows, `rows` [B, 3H] and `direct` [B, H]. */
export interface GruStepBackward {
  r: Float32Array;
  z: Float32Array;
  n: Float32Array;
  hn: Float32Array;
  hPrev: Float32Array;
  dh: Float32Array;
  dxp: StridedRows;
  rows: Float32Array;
  direct: Float32Array;
}

/** LSTM step: inputs, and the [B, H] outputs it fills. */
export interface LstmStepForward {
  xp: StridedRows;
  /** h_{t-1} U, [B, 4H]. */
  hp: Float32Array;
  cPrev: Float32Array;
  i: Float32Array;
  f: Float32Array;
  g: Float32Array;
  o: Float32Array;
  tc: Float32Array;
  c: Float32Array;
  h: Float32Array;
}

/** LSTM step backward: `dc` is read (d loss / d c_t) and overwritten with d loss / d c_{t-1}. */
export interface LstmStepBackward {
  i: Float32Array;
  f: Float32Array;
  g: Float32Array;
  o: Float32Array;
  tc: Float32Array;
  cPrev: Float32Array;
  dh: Float32Array;
  dc: Float32Array;
  dxp: StridedRows;
  rows: Float32Array;
  direct: Float32Array;
}

/**
 * The gate math of one recurrent time step, fused into one SIMD pass (wasm/gates.c): everything
 * element-wise around the step's matmul, forward and backward, for GRU (PyTorch/Keras 3 reset
 * after) and LSTM (gate orders r,z,n and i,f,g,o). `B` rows of `H` units; all arrays are
 * row-major. The arrays are copied into the wasm heap and the results copied back: a few
 * microseconds per step, against the JavaScript loops' hundreds.
 */
export interface RecurrentGateKernels {
  gruForward(B: number, H: number, step: GruStepForward): void;
  gruBackward(B: number, H: number, step: GruStepBackward): void;
  lstmForward(B: number, H: number, step: LstmStepForward): void;
  lstmBackward(B: number, H: number, step: LstmStepBackward): void;
}

/** Copies arrays into one heap block and back. */
class HeapFrame {
  private readonly base: number;
  private cursor = 0;

  constructor(
    private readonly rt: KernelRuntime,
    floats: number,
  ) {
    this.base = scratch(rt, floats * 4);
  }

  private heap(): Float32Array {
    return new Float32Array(this.rt.memory.buffer);
  }

  /** Reserves `n` floats; returns their heap offset in bytes. */
  reserve(n: number): number {
    const ptr = this.base + this.cursor * 4;
    this.cursor += n;
    return ptr;
  }

  /** Copies `src` in; returns its heap offset. */
  put(src: Float32Array): number {
    const ptr = this.reserve(src.length);
    this.heap().set(src, ptr >>> 2);
    return ptr;
  }

  /** Gathers `rows` rows of `width` floats; returns their heap offset (contiguous rows). */
  putRows(src: StridedRows, rows: number, width: number): number {
    const ptr = this.reserve(rows * width);
    const heap = this.heap();
    for (let b = 0; b < rows; b++) {
      const from = src.offset + b * src.stride;
      heap.set(src.data.subarray(from, from + width), (ptr >>> 2) + b * width);
    }
    return ptr;
  }

  get(ptr: number, dst: Float32Array): void {
    dst.set(this.heap().subarray(ptr >>> 2, (ptr >>> 2) + dst.length));
  }

  getRows(ptr: number, dst: StridedRows, rows: number, width: number): void {
    const heap = this.heap();
    for (let b = 0; b < rows; b++) {
      const at = (ptr >>> 2) + b * width;
      dst.data.set(heap.subarray(at, at + width), dst.offset + b * dst.stride);
    }
  }

  free(): void {
    release(this.rt, this.base);
  }
}

function withFrame(rt: KernelRuntime, floats: number, fn: (frame: HeapFrame) => void): void {
  const frame = new HeapFrame(rt, floats);
  try {
    fn(frame);
  } finally {
    frame.free();
  }
}

/**
 * The fused gate kernels of the active backend, or null when it is not 'wasm' with gradflow's
 * kernels registered (callers then run their own loops).
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * const gates = recurrentGateKernels();
 * if (!gates) throw new Error('expected the wasm gate kernels');
 * // One GRU step, B = 1 row of H = 1 unit, all pre-activations 0: r = z = 1/2, n = 0, h = h_prev / 2.
 * const out = () => new Float32Array(1);
 * const step = { xp: { data: new Float32Array(3), offset: 0, stride: 3 }, hp: new Float32Array(3), rb: null,
 *   hPrev: Float32Array.of(0.8), r: out(), z: out(), n: out(), hn: out(), h: out() };
 * gates.gruForward(1, 1, step);
 * if (Math.abs(step.h[0]! - 0.4) > 1e-6) throw new Error(`h = ${step.h[0]}`);
 * await tf.setBackend('cpu');
 * ```
 */
export function recurrentGateKernels(): RecurrentGateKernels | null {
  if (tf.getBackend() !== 'wasm' || !gradflowKernelsRegistered()) return null;
  const rt = runtimeFor(tf.backend() as unknown as WasmBackendLike);
  const ex = rt.exports;
  return {
    gruForward(B, H, s) {
      const BH = B * H;
      withFrame(rt, B * 3 * H * 2 + 3 * H + 6 * BH, (fr) => {
        const xp = fr.putRows(s.xp, B, 3 * H);
        const hp = fr.put(s.hp);
        const rb = s.rb ? fr.put(s.rb) : 0;
        const hPrev = fr.put(s.hPrev);
        const dsts = [s.r, s.z, s.n, s.hn, s.h];
        const outs = dsts.map(() => fr.reserve(BH));
        ex.gf_gru_forward(B, H, xp, 3 * H, hp, rb, hPrev, ...outs);
        dsts.forEach((dst, k) => fr.get(outs[k]!, dst));
      });
    },
    gruBackward(B, H, s) {
      const BH = B * H;
      withFrame(rt, 6 * BH + 2 * B * 3 * H + BH, (fr) => {
        const ins = [s.r, s.z, s.n, s.hn, s.hPrev, s.dh].map((a) => fr.put(a));
        const dxp = fr.reserve(B * 3 * H);
        const rows = fr.reserve(B * 3 * H);
        const direct = fr.reserve(BH);
        ex.gf_gru_backward(B, H, ...ins, dxp, 3 * H, rows, direct);
        fr.getRows(dxp, s.dxp, B, 3 * H);
        fr.get(rows, s.rows);
        fr.get(direct, s.direct);
      });
    },
    lstmForward(B, H, s) {
      const BH = B * H;
      withFrame(rt, B * 4 * H * 2 + 8 * BH, (fr) => {
        const xp = fr.putRows(s.xp, B, 4 * H);
        const hp = fr.put(s.hp);
        const cPrev = fr.put(s.cPrev);
        const dsts = [s.i, s.f, s.g, s.o, s.tc, s.c, s.h];
        const outs = dsts.map(() => fr.reserve(BH));
        ex.gf_lstm_forward(B, H, xp, 4 * H, hp, cPrev, ...outs);
        dsts.forEach((dst, k) => fr.get(outs[k]!, dst));
      });
    },
    lstmBackward(B, H, s) {
      const BH = B * H;
      withFrame(rt, 8 * BH + 2 * B * 4 * H + BH, (fr) => {
        const ins = [s.i, s.f, s.g, s.o, s.tc, s.cPrev, s.dh].map((a) => fr.put(a));
        const dc = fr.put(s.dc);
        const dxp = fr.reserve(B * 4 * H);
        const rows = fr.reserve(B * 4 * H);
        const direct = fr.reserve(BH);
        ex.gf_lstm_backward(B, H, ...ins, dc, dxp, 4 * H, rows, direct);
        fr.get(dc, s.dc);
        fr.getRows(dxp, s.dxp, B, 4 * H);
        fr.get(rows, s.rows);
        fr.get(direct, s.direct);
      });
    },
  };
}
