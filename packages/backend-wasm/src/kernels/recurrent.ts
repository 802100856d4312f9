import type * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, StateError } from '@gradflow/core';
import { runTeam } from '../parallel.js';
import { ptrOf, release, runtimeFor, scratch, type KernelRuntime, type WasmBackendLike } from '../runtime.js';
import { input, type Attrs, type KernelArgs } from './common.js';

/**
 * Kernels of our own: a GRU (reset gate after the matmul) or LSTM layer's whole time loop, forward
 * and backward, in one call each (wasm/gates.c). Everything stays in the wasm heap: the input
 * projection comes in as a tensor, the packed output, the states and the gate stash go out as
 * tensors, and the backward pass reads that stash where the forward pass left it.
 */
export const RECURRENT_FORWARD_KERNEL = 'GradflowRecurrentForward';
export const RECURRENT_BACKWARD_KERNEL = 'GradflowRecurrentBackward';

/** The cells these kernels run. */
export type FusedCell = 'gru' | 'lstm';

/** Gates per cell (G: GRU r,z,n; LSTM i,f,g,o), state tensors (S) and stashed arrays per step. */
export const CELL_LAYOUT = {
  gru: { gates: 3, states: 1, stash: 4 },
  lstm: { gates: 4, states: 2, stash: 5 },
} as const satisfies Record<FusedCell, { gates: number; states: number; stash: number }>;

function cellOf(attrs: Attrs, kernel: string): FusedCell {
  const cell = attrs.cell;
  if (cell !== 'gru' && cell !== 'lstm')
    throw new InvalidArgumentError(`${kernel} cell`, cell, "'gru' or 'lstm'");
  return cell;
}

function stepsOf(attrs: Attrs, kernel: string): number {
  const T = attrs.T;
  if (typeof T !== 'number' || !Number.isInteger(T) || T < 1)
    throw new InvalidArgumentError(`${kernel} T`, T, 'a positive integer (time steps)');
  return T;
}

function expectShape(t: tf.TensorInfo, shape: number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new ShapeError(what, t.shape, `[${shape.join(', ')}]`);
}

type SequenceExport =
  | 'gf_gru_sequence_forward'
  | 'gf_gru_sequence_backward'
  | 'gf_lstm_sequence_forward'
  | 'gf_lstm_sequence_backward';

/** Below this many FLOPs per step's recurrent GEMM a layer runs on one thread: the threads meet every step. */
const MIN_TEAM_STEP_FLOPS = 5e5;

/**
 * Calls a sequence export (its arguments end with the workspace; the team's part, parts and
 * counter follow) with exactly its parameter count: wasm fills a missing argument with 0, which
 * for these long pointer lists would be a silent write to heap offset 0. With a kernel pool the
 * layer's hidden units split over its threads (whole 8-unit GEMM panels each), which meet once
 * per step.
 */
function call(
  rt: KernelRuntime,
  name: SequenceExport,
  args: number[],
  B: number,
  H: number,
  G: number,
): void {
  const fn = rt.exports[name];
  if (fn.length !== args.length + 3)
    throw new StateError(`${name} takes ${fn.length} arguments; the kernel passed ${args.length + 3}`);
  const threads = rt.pool?.threads ?? 1;
  const parts = H % 8 === 0 && 2 * B * G * H * H >= MIN_TEAM_STEP_FLOPS ? Math.min(threads, H / 8) : 1;
  runTeam(rt, name, args, parts, args.length - 1);
}

/** Copies `floats` floats from one heap offset to another. */
function heapCopy(rt: KernelRuntime, from: number, to: number, floats: number): void {
  new Float32Array(rt.memory.buffer).copyWithin(to >>> 2, from >>> 2, (from >>> 2) + floats);
}

/**
 * Forward. Inputs: `xp` [T*B, G*H] (x W in step order: row s*B+b holds batch row b's input at
 * step s, which is time s, or T-1-s with `reverse`), `b` [G*H] (the input bias, added in the
 * kernel), `u` [H, G*H], `h0` [B, H], the GRU's optional `rb` [G*H], the LSTM's `c0` [B, H]. Attrs: `cell`, `T`, `reverse`, `keep` (stash every
 * step for a backward pass, else one). Outputs: the packed output [B, T+S, H] (h_t, then the final
 * h and c), then the tape the backward kernel reads: `hs` [(T+1)*B, H] (states in step order, the
 * initial one first), the LSTM's `cs`, and the gate stash ([T*B, H] each; [B, H] without `keep`).
 */
export function recurrentForward({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo[] {
  const name = RECURRENT_FORWARD_KERNEL;
  const cell = cellOf(attrs, name);
  const T = stepsOf(attrs, name);
  const { gates, states, stash } = CELL_LAYOUT[cell];
  const h0 = input(inputs, 'h0', name);
  if (h0.shape.length !== 2) throw new ShapeError(`${name} h0`, h0.shape, '[batch, units]');
  const [B, H] = h0.shape as [number, number];
  const GH = gates * H;
  const xp = input(inputs, 'xp', name);
  const u = input(inputs, 'u', name);
  expectShape(xp, [B * T, GH], `${name} xp`);
  expectShape(u, [H, GH], `${name} u`);
  const bias = input(inputs, 'b', name);
  expectShape(bias, [GH], `${name} b`);
  const rb = cell === 'gru' && inputs.rb ? input(inputs, 'rb', name) : null;
  if (rb) expectShape(rb, [GH], `${name} rb`);
  const c0 = cell === 'lstm' ? input(inputs, 'c0', name) : null;
  if (c0) expectShape(c0, [B, H], `${name} c0`);

  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const packed = b.makeOutput([B, T + states, H], 'float32');
  const hs = b.makeOutput([(T + 1) * B, H], 'float32');
  const cs = c0 ? b.makeOutput([(T + 1) * B, H], 'float32') : null;
  const rows = attrs.keep ? T * B : B;
  const stashed = Array.from({ length: stash }, () => b.makeOutput([rows, H], 'float32'));
  heapCopy(rt, ptrOf(b, h0), ptrOf(b, hs), B * H);
  if (c0 && cs) heapCopy(rt, ptrOf(b, c0), ptrOf(b, cs), B * H);
  // hp ([B, G*H]), then U packed for the step GEMM (once per sequence).
  const hpFloats = B * GH;
  const hp = scratch(rt, (hpFloats + rt.exports.gf_packed_b_floats(H, GH)) * 4);
  try {
    const head = [
      B,
      T,
      H,
      attrs.reverse ? 1 : 0,
      attrs.keep ? 1 : 0,
      ptrOf(b, xp),
      ptrOf(b, u),
      ptrOf(b, bias),
    ];
    const tail = [...stashed.map((t) => ptrOf(b, t)), ptrOf(b, packed), hp, hp + hpFloats * 4, rt.ws];
    if (cell === 'gru')
      call(
        rt,
        'gf_gru_sequence_forward',
        [...head, rb ? ptrOf(b, rb) : 0, ptrOf(b, hs), ...tail],
        B,
        H,
        gates,
      );
    else call(rt, 'gf_lstm_sequence_forward', [...head, ptrOf(b, hs), ptrOf(b, cs!), ...tail], B, H, gates);
  } finally {
    release(rt, hp);
  }
  return [packed, hs, ...(cs ? [cs] : []), ...stashed];
}

/**
 * Backward. Inputs: `dy` [B, T+S, H] (the packed output's gradient), `u`, and the forward tape
 * (`hs`, the LSTM's `cs`, the stash as `s0`, `s1`, ...; kept with `keep`). Attrs: `cell`, `T`,
 * `reverse`, `stepGrads`. Outputs: `dxp` [T*B, G*H] (the pre-activation gradients in xp's step
 * order: dx and dW follow from it; the LSTM's are also its rows against h_{s} U, dU = hs[0..T)ᵀ
 * dxp), the GRU's `rows` [T*B, G*H] (against h_{s} U, whose reset gate holds the recurrent bias:
 * dU = hs[0..T)ᵀ rows), dh0 [B, H], the LSTM's dc0, `db` [G*H] (Σ dxp rows: the input bias's
 * gradient), the GRU's `drb` [G*H] (Σ rows: the recurrent bias's), and with `stepGrads` d loss /
 * d h_t per step [T*B, H].
 */
export function recurrentBackward({ inputs, backend, attrs = {} }: KernelArgs): tf.TensorInfo[] {
  const name = RECURRENT_BACKWARD_KERNEL;
  const cell = cellOf(attrs, name);
  const T = stepsOf(attrs, name);
  const { gates, states, stash } = CELL_LAYOUT[cell];
  const u = input(inputs, 'u', name);
  if (u.shape.length !== 2) throw new ShapeError(`${name} u`, u.shape, '[units, gates * units]');
  const H = u.shape[0]!;
  const GH = gates * H;
  const dy = input(inputs, 'dy', name);
  if (dy.shape.length !== 3) throw new ShapeError(`${name} dy`, dy.shape, '[batch, T + states, units]');
  const B = dy.shape[0]!;
  expectShape(dy, [B, T + states, H], `${name} dy`);
  expectShape(u, [H, GH], `${name} u`);
  const hs = input(inputs, 'hs', name);
  expectShape(hs, [(T + 1) * B, H], `${name} hs`);
  const cs = cell === 'lstm' ? input(inputs, 'cs', name) : null;
  if (cs) expectShape(cs, [(T + 1) * B, H], `${name} cs`);
  const stashed = Array.from({ length: stash }, (_, k) => input(inputs, `s${k}`, name));
  stashed.forEach((t, k) => expectShape(t, [T * B, H], `${name} s${k} (the forward pass ran without keep?)`));

  const b = backend as WasmBackendLike;
  const rt = runtimeFor(b);
  const dxp = b.makeOutput([T * B, GH], 'float32');
  const rows = cell === 'gru' ? b.makeOutput([T * B, GH], 'float32') : null;
  const dh0 = b.makeOutput([B, H], 'float32');
  const dc0 = cs ? b.makeOutput([B, H], 'float32') : null;
  const db = b.makeOutput([GH], 'float32');
  const drb = cell === 'gru' ? b.makeOutput([GH], 'float32') : null;
  const dhs = attrs.stepGrads ? b.makeOutput([T * B, H], 'float32') : null;
  // The GRU's direct and via ([B, H] each), then Uᵀ packed for the step GEMM.
  const directFloats = rows ? 2 * B * H : 0;
  const tmp = scratch(rt, (directFloats + rt.exports.gf_packed_b_floats(GH, H)) * 4);
  try {
    const head = [
      B,
      T,
      H,
      attrs.reverse ? 1 : 0,
      ptrOf(b, dy),
      ptrOf(b, u),
      ...stashed.map((t) => ptrOf(b, t)),
    ];
    const pu = tmp + directFloats * 4;
    const probe = dhs ? ptrOf(b, dhs) : 0;
    if (rows) {
      const [direct, via] = [tmp, tmp + B * H * 4];
      const grads = [ptrOf(b, dxp), ptrOf(b, rows), ptrOf(b, db), ptrOf(b, drb!), direct, via, probe];
      call(
        rt,
        'gf_gru_sequence_backward',
        [...head, ptrOf(b, hs), ptrOf(b, dh0), ...grads, pu, rt.ws],
        B,
        H,
        gates,
      );
    } else {
      const grads = [ptrOf(b, dxp), ptrOf(b, db), probe];
      const states = [ptrOf(b, cs!), ptrOf(b, dh0), ptrOf(b, dc0!)];
      call(rt, 'gf_lstm_sequence_backward', [...head, ...states, ...grads, pu, rt.ws], B, H, gates);
    }
  } finally {
    release(rt, tmp);
  }
  return [
    dxp,
    ...(rows ? [rows] : []),
    dh0,
    ...(dc0 ? [dc0] : []),
    db,
    ...(drb ? [drb] : []),
    ...(dhs ? [dhs] : []),
  ];
}
