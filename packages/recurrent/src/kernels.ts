import * as tf from '@tensorflow/tfjs';
import { StateError } from '@gradflow/core';
import type { KernelKind } from './cells.js';
import { fusedSequence, fusedSequencePacked } from './fused-sequence.js';
import type { StepContext } from './step-context.js';

/**
 * The fused sequence kernels. One call runs a cell over a whole sequence in one direction:
 *
 * - forward: the input projection of all timesteps is ONE matmul `[B*T, in] x [in, G*H]`;
 *   each step is one recurrent matmul `[B, H] x [H, G*H]` (two for the Cho GRU) followed by
 *   the gate math fused in one loop over typed arrays, which also stashes what the backward
 *   pass needs;
 * - backward: a hand-written BPTT loop with one matmul per step (`dGates x U^T`, with U^T
 *   transposed once), after which the weight gradients are a few big matmuls over all steps:
 *   `dW = X^T dXp`, `dU = H_{prev}^T dHp`, `dx = dXp W^T`.
 *
 * The whole thing is one `tf.customGrad`, so tfjs records one tape node per layer and
 * direction instead of dozens per timestep. The gate math runs on the CPU side, so the
 * kernels suit the cpu and wasm backends (a GPU backend would sync every step). On wasm the
 * GRU (reset after) and LSTM loops run inside @gradflow/backend-wasm instead (fused-sequence.ts);
 * the loops here stay the reference for them and run everything else.
 */

export const GATES: Record<KernelKind, number> = { tanh: 1, relu: 1, gru: 3, gru_cho: 3, lstm: 4 };
export const STATES: Record<KernelKind, 1 | 2> = { tanh: 1, relu: 1, gru: 1, gru_cho: 1, lstm: 2 };

/** Options of {@link runSequenceKernel}. */
export interface SequenceKernelOptions {
  /** Which fused kernel (see `kernelKind`). */
  kind: KernelKind;
  /** Process t = T-1 .. 0 (the backward direction of a bidirectional layer). */
  reverse?: boolean;
  /** `[B*T]` (batch-major) 1 = real step, 0 = padding: the state is carried, the output is 0. */
  mask?: Float32Array | null;
  /** Receives per-timestep hidden states and d loss / d h_t (see `sequenceGradientProfile`). */
  probe?: ProbeSink | null;
}

/** Whether tfjs is inside a gradient computation (so a backward pass may follow). */
function tapeIsRecording(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  return (state?.gradientDepth ?? 1) > 0;
}

/** Where a kernel call writes its per-timestep hidden states and their gradients. */
export interface ProbeSink {
  /** h_t, `[B*H]` per timestep t (in time order, whatever the direction). */
  hidden: Float32Array[];
  /** d loss / d h_t, `[B*H]` per timestep, filled when the backward pass runs. */
  grads: Float32Array[];
}

/** The tensors {@link runSequenceKernel} runs a cell with (H units, G gate blocks). */
export interface SequenceKernelInputs {
  /** `[B, T, in]`. */
  x: tf.Tensor;
  /** `[in, G*H]`. */
  kernel: tf.Tensor;
  /** `[H, G*H]`. */
  recurrentKernel: tf.Tensor;
  /** `[G*H]`, added to the input projection. */
  bias: tf.Tensor;
  /** `[G*H]`, the reset-after GRU's recurrent bias (inside `r * (.)`); null otherwise. */
  recurrentBias: tf.Tensor | null;
  /** `[B, H]`. */
  h0: tf.Tensor;
  /** `[B, H]`, LSTM only. */
  c0: tf.Tensor | null;
}

/** What {@link runSequenceKernel} returns (new tensors: dispose them). */
export interface SequenceKernelOutputs {
  /** `[B, T, H]` (zeros at masked steps). */
  output: tf.Tensor;
  /** `[B, H]`: the state after the last real step. */
  h: tf.Tensor;
  /** `[B, H]`, LSTM only. */
  c: tf.Tensor | null;
}

function sigmoid(a: number): number {
  return 1 / (1 + Math.exp(-a));
}

/** tanh through one `Math.exp` (faster than `Math.tanh` in V8; exact to float32 rounding). */
function tanh(a: number): number {
  return 1 - 2 / (Math.exp(2 * a) + 1);
}

interface RawBackend {
  write(values: Float32Array, shape: number[], dtype: tf.DataType): object;
  readSync(dataId: object): unknown;
  disposeData(dataId: object): unknown;
}

/**
 * `a [rows, K] x W [K, N]` as a typed array, with `W` fixed for a whole sequence: the per-step
 * matmul of the time loop. On the cpu and wasm backends it calls the registered `BatchMatMul`
 * kernel directly (whichever is registered, so gradflow's wasm GEMM when `useWasmBackend()` ran),
 * skipping the engine's per-op bookkeeping, which costs about as much as the matmul itself at
 * these sizes; elsewhere it is a plain `tf.matMul`. `a` may be a view into a larger buffer: it
 * is only read.
 */
class StepMatmul {
  private readonly w3: tf.Tensor;
  private readonly k: number;
  private readonly kernel: tf.KernelConfig | undefined;
  private readonly backend: RawBackend;

  constructor(private readonly w: tf.Tensor) {
    this.k = w.shape[0]!;
    this.w3 = tf.reshape(w, [1, this.k, w.shape[1]!]);
    const name = tf.getBackend();
    this.kernel = name === 'cpu' || name === 'wasm' ? tf.getKernel('BatchMatMul', name) : undefined;
    this.backend = tf.backend() as unknown as RawBackend;
  }

  run(a: Float32Array, rows: number): Float32Array {
    if (!this.kernel) {
      const at = tf.tensor2d(a, [rows, this.k]);
      const out = tf.matMul(at, this.w);
      const data = out.dataSync() as Float32Array;
      tf.dispose([at, out]);
      return data;
    }
    const shape = [1, rows, this.k];
    const dataId = this.backend.write(a, shape, 'float32');
    try {
      const out = this.kernel.kernelFunc({
        inputs: { a: { dataId, shape, dtype: 'float32' } as tf.TensorInfo, b: this.w3 },
        backend: this.backend as unknown as tf.KernelBackend,
        attrs: { transposeA: false, transposeB: false },
      }) as tf.TensorInfo;
      const data = this.backend.readSync(out.dataId) as Float32Array;
      this.backend.disposeData(out.dataId);
      return data;
    } finally {
      this.backend.disposeData(dataId);
    }
  }

  dispose(): void {
    this.w3.dispose();
  }
}

function columnSums(data: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) acc[c]! += data[o + c]!;
  }
  return Float32Array.from(acc);
}

/**
 * Runs one cell over a sequence in one direction (differentiable w.r.t. every tensor input).
 * Shapes are not validated here: the layer does that and reports typed errors. This is the
 * kernel a `RecurrentLayer` calls once per stacked layer and direction; call it directly to run
 * a cell with weights you hold yourself.
 *
 * @example
 * ```ts
 * // A tanh RNN with 2 units over 3 steps of 1 feature; U = 0, so h_t = tanh(W x_t + b).
 * const x = tf.tensor3d([[[1], [0], [-1]]]); // [B=1, T=3, in=1]
 * const kernel = tf.tensor2d([[0.5, -0.5]]); // [in, G*H] = [1, 2]
 * const recurrentKernel = tf.zeros([2, 2]); // [H, G*H]
 * const bias = tf.zeros([2]);
 * const h0 = tf.zeros([1, 2]);
 * const { output, h, c } = runSequenceKernel(
 *   { x, kernel, recurrentKernel, bias, recurrentBias: null, h0, c0: null },
 *   { kind: 'tanh' },
 * );
 * const t = Math.tanh(0.5);
 * const expected = [t, -t, 0, 0, -t, t]; // output [1, 3, 2]
 * const got = output.dataSync();
 * if (expected.some((v, i) => Math.abs(v - got[i]!) > 1e-6)) throw new Error(String(got));
 * if (c !== null || h.shape.join() !== '1,2') throw new Error('h is [B, H]; c only for LSTM');
 * tf.dispose([x, kernel, recurrentKernel, bias, h0, output, h]);
 * ```
 */
export function runSequenceKernel(
  inputs: SequenceKernelInputs,
  options: SequenceKernelOptions,
): SequenceKernelOutputs {
  const { kind } = options;
  const S = STATES[kind];
  const [B, T] = inputs.x.shape as [number, number, number];
  const H = inputs.recurrentKernel.shape[0]!;
  // The LSTM's initial cell state defaults to zeros (disposed below).
  const c0 = S === 2 ? (inputs.c0 ?? tf.zeros([B, H])) : null;
  // Outside a gradient computation (`tf.grad`, `variableGrads`, `model.fit`) no backward pass can
  // follow: the gates of only one step are kept, so inference needs 4-5x less memory.
  const recording = tapeIsRecording();
  // GRU (reset after) and LSTM on wasm: the whole time loop is one kernel call each way.
  const fused = fusedSequence(kind, options.mask != null);
  const packed = fused
    ? fusedSequencePacked(
        fused,
        { ...inputs, c0 },
        { ...options, cell: kind as 'gru' | 'lstm', keep: recording },
      )
    : javascriptSequencePacked({ ...inputs, c0 }, options, recording);
  const [output, h, c] = tf.tidy(() => [
    tf.slice(packed, [0, 0, 0], [B, T, H]),
    tf.reshape(tf.slice(packed, [0, T, 0], [B, 1, H]), [B, H]),
    ...(S === 2 ? [tf.reshape(tf.slice(packed, [0, T + 1, 0], [B, 1, H]), [B, H])] : []),
  ]);
  if (c0 && !inputs.c0) c0.dispose();
  packed.dispose();
  return { output: output!, h: h!, c: c ?? null };
}

/** runSequenceKernel on the JavaScript loops: one customGrad over every input, packed output `[B, T+S, H]`. */
function javascriptSequencePacked(
  inputs: SequenceKernelInputs,
  options: SequenceKernelOptions,
  recording: boolean,
): tf.Tensor {
  const { kind } = options;
  const S = STATES[kind];
  const [B, T] = inputs.x.shape as [number, number, number];
  const H = inputs.recurrentKernel.shape[0]!;
  const hasRb = inputs.recurrentBias !== null;
  const list: tf.Tensor[] = [inputs.x, inputs.kernel, inputs.recurrentKernel, inputs.bias];
  if (inputs.recurrentBias) list.push(inputs.recurrentBias);
  list.push(inputs.h0);
  if (S === 2) list.push(inputs.c0!);
  const op = tf.customGrad((...args: unknown[]) => {
    const tensors = args.slice(0, list.length) as tf.Tensor[];
    const [x, kernel, rk] = tensors as [tf.Tensor, tf.Tensor, tf.Tensor];
    const bias = tensors[3]!;
    const rb = hasRb ? tensors[4]! : null;
    const h0 = tensors[hasRb ? 5 : 4]!;
    const c0 = S === 2 ? tensors[hasRb ? 6 : 5]! : null;
    const save = args[list.length] as tf.GradSaveFunc;
    // The backward pass reads x, W and U; tfjs keeps saved tensors alive until it has run.
    save([x, kernel, rk]);
    const state = forward(kind, B, T, H, x, kernel, rk, bias, rb, h0, c0, options, recording);
    return {
      value: tf.tensor3d(state.packed, [B, T + S, H]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks, rks] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        if (state.stashStride === 0) {
          throw new StateError(
            'a recurrent kernel that ran outside a gradient computation kept no gates to backpropagate through',
          );
        }
        const g = backward(state, dy.dataSync() as Float32Array, xs, ks, rks, options);
        const out = [g.dx, g.dKernel, g.dRecurrent, g.dBias];
        if (hasRb) out.push(g.dRecurrentBias!);
        out.push(g.dh0);
        if (S === 2) out.push(g.dc0!);
        return out;
      },
    };
  });

  return op(...list) as tf.Tensor;
}

interface ForwardState {
  kind: KernelKind;
  B: number;
  T: number;
  H: number;
  I: number;
  /** `[B, T+S, H]`: outputs, then the final h (and c). */
  packed: Float32Array;
  /** States before each step in processing order: `[(T+1)*B*H]`, step s at s*B*H. */
  hs: Float32Array;
  cs: Float32Array | null;
  /** Gate activations per processing step `[T*B*H]` each (which ones depends on the kind). */
  stash: Float32Array[];
  /** 0 when nothing was kept for a backward pass. */
  stashStride: number;
}

function forward(
  kind: KernelKind,
  B: number,
  T: number,
  H: number,
  x: tf.Tensor,
  kernel: tf.Tensor,
  rk: tf.Tensor,
  bias: tf.Tensor,
  rb: tf.Tensor | null,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  options: SequenceKernelOptions,
  recording: boolean,
): ForwardState {
  const S = STATES[kind];
  const BH = B * H;
  const I = x.shape[2]!;
  const reverse = options.reverse ?? false;
  const mask = options.mask ?? null;

  // The input projection of every timestep: one matmul.
  const xpT = tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [B * T, I]), kernel), bias));
  const xp = xpT.dataSync() as Float32Array;
  xpT.dispose();
  const rbv = rb ? (rb.dataSync() as Float32Array) : null;

  const hs = new Float32Array((T + 1) * BH);
  hs.set(h0.dataSync() as Float32Array, 0);
  const cs = S === 2 ? new Float32Array((T + 1) * BH) : null;
  if (cs && c0) cs.set(c0.dataSync() as Float32Array, 0);
  const out = new Float32Array(B * T * H);
  const nStash = kind === 'gru' ? 4 : kind === 'gru_cho' ? 4 : kind === 'lstm' ? 5 : 0;
  // Without a gradient tape nothing will read the gates back: one step's worth is reused.
  const stashStride = recording ? BH : 0;
  const stash = Array.from({ length: nStash }, () => new Float32Array(stashStride === 0 ? BH : T * BH));
  const probe = options.probe ?? null;

  // The Cho GRU needs U_rz and U_n apart (r multiplies h before U_n).
  const [urz, un] =
    kind === 'gru_cho' ? [tf.slice(rk, [0, 0], [H, 2 * H]), tf.slice(rk, [0, 2 * H], [H, H])] : [null, null];
  const mm = new StepMatmul(urz ?? rk);
  const mmN = un ? new StepMatmul(un) : null;

  const ctx: StepContext = { B, T, H, xp, rbv, hs, cs, stash, stashStride, out, mask };
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const hPrev = hs.subarray(s * BH, (s + 1) * BH);
    if (kind === 'tanh' || kind === 'relu') {
      elmanForward(ctx, s, t, mm.run(hPrev, B), kind === 'tanh');
    } else if (kind === 'gru') {
      gruForward(ctx, s, t, mm.run(hPrev, B));
    } else if (kind === 'gru_cho') {
      // r must be known before U_n can be applied to r * h: two matmuls.
      choForwardGates(ctx, s, t, mm.run(hPrev, B));
      choForwardCandidate(ctx, s, t, mmN!.run(stash[3]!.subarray(s * stashStride, s * stashStride + BH), B));
    } else {
      lstmForward(ctx, s, t, mm.run(hPrev, B));
    }
  }
  if (probe) {
    for (let s = 0; s < T; s++) probe.hidden[reverse ? T - 1 - s : s] = hs.slice((s + 1) * BH, (s + 2) * BH);
  }
  mm.dispose();
  mmN?.dispose();
  if (urz) tf.dispose([urz, un!]);

  // Pack [B, T+S, H]: the outputs, then the final h (and c).
  const packed = new Float32Array(B * (T + S) * H);
  const hLast = hs.subarray(T * BH);
  for (let b = 0; b < B; b++) {
    const o = b * (T + S) * H;
    packed.set(out.subarray(b * T * H, (b + 1) * T * H), o);
    packed.set(hLast.subarray(b * H, (b + 1) * H), o + T * H);
    if (cs) packed.set(cs.subarray(T * BH + b * H, T * BH + (b + 1) * H), o + (T + 1) * H);
  }
  return { kind, B, T, H, I, packed, hs, cs, stash, stashStride };
}

function elmanForward(c: StepContext, s: number, t: number, hp: Float32Array, isTanh: boolean): void {
  const { B, T, H, xp, hs, out, mask } = c;
  const po = s * B * H;
  const no = po + B * H;
  for (let b = 0; b < B; b++) {
    const masked = mask !== null && mask[b * T + t] === 0;
    const xb = (b * T + t) * H;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      if (masked) {
        hs[no + k] = hs[po + k]!;
        continue;
      }
      const a = xp[xb + j]! + hp[k]!;
      const h = isTanh ? tanh(a) : a > 0 ? a : 0;
      hs[no + k] = h;
      out[xb + j] = h;
    }
  }
}

function gruForward(c: StepContext, s: number, t: number, hp: Float32Array): void {
  const { B, T, H, xp, hs, out, mask } = c;
  const rbv = c.rbv!;
  const [R, Z, N, HN] = c.stash as [Float32Array, Float32Array, Float32Array, Float32Array];
  const GH = 3 * H;
  const po = s * B * H;
  const so = s * c.stashStride;
  const no = po + B * H;
  for (let b = 0; b < B; b++) {
    const masked = mask !== null && mask[b * T + t] === 0;
    const xb = (b * T + t) * GH;
    const hb = b * GH;
    const ob = (b * T + t) * H;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      if (masked) {
        hs[no + k] = hs[po + k]!;
        continue;
      }
      const r = sigmoid(xp[xb + j]! + hp[hb + j]! + rbv[j]!);
      const z = sigmoid(xp[xb + H + j]! + hp[hb + H + j]! + rbv[H + j]!);
      const hn = hp[hb + 2 * H + j]! + rbv[2 * H + j]!;
      const n = tanh(xp[xb + 2 * H + j]! + r * hn);
      const h = (1 - z) * n + z * hs[po + k]!;
      R[so + k] = r;
      Z[so + k] = z;
      N[so + k] = n;
      HN[so + k] = hn;
      hs[no + k] = h;
      out[ob + j] = h;
    }
  }
}

/** Cho GRU, first half of a step: r and z from `hp = h U_rz`, and r * h for U_n. */
function choForwardGates(c: StepContext, s: number, t: number, hp: Float32Array): void {
  const { B, T, H, xp, hs, mask } = c;
  const [R, Z, , RH] = c.stash as [Float32Array, Float32Array, Float32Array, Float32Array];
  const GH = 3 * H;
  const po = s * B * H;
  const so = s * c.stashStride;
  for (let b = 0; b < B; b++) {
    if (mask !== null && mask[b * T + t] === 0) continue;
    const xb = (b * T + t) * GH;
    const hb = b * 2 * H;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      const r = sigmoid(xp[xb + j]! + hp[hb + j]!);
      R[so + k] = r;
      Z[so + k] = sigmoid(xp[xb + H + j]! + hp[hb + H + j]!);
      RH[so + k] = r * hs[po + k]!;
    }
  }
}

/** Cho GRU, second half: n from `hn = (r * h) U_n`, then the new state. */
function choForwardCandidate(c: StepContext, s: number, t: number, hn: Float32Array): void {
  const { B, T, H, xp, hs, out, mask } = c;
  const [, Z, N] = c.stash as [Float32Array, Float32Array, Float32Array];
  const GH = 3 * H;
  const po = s * B * H;
  const so = s * c.stashStride;
  const no = po + B * H;
  for (let b = 0; b < B; b++) {
    const masked = mask !== null && mask[b * T + t] === 0;
    const xb = (b * T + t) * GH;
    const ob = (b * T + t) * H;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      if (masked) {
        hs[no + k] = hs[po + k]!;
        continue;
      }
      const z = Z[so + k]!;
      const n = tanh(xp[xb + 2 * H + j]! + hn[k]!);
      const h = (1 - z) * n + z * hs[po + k]!;
      N[so + k] = n;
      hs[no + k] = h;
      out[ob + j] = h;
    }
  }
}

function lstmForward(c: StepContext, s: number, t: number, hp: Float32Array): void {
  const { B, T, H, xp, hs, out, mask } = c;
  const cs = c.cs!;
  const [Ig, Fg, Gg, Og, TC] = c.stash as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const GH = 4 * H;
  const po = s * B * H;
  const so = s * c.stashStride;
  const no = po + B * H;
  for (let b = 0; b < B; b++) {
    const masked = mask !== null && mask[b * T + t] === 0;
    const xb = (b * T + t) * GH;
    const hb = b * GH;
    const ob = (b * T + t) * H;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      if (masked) {
        hs[no + k] = hs[po + k]!;
        cs[no + k] = cs[po + k]!;
        continue;
      }
      const i = sigmoid(xp[xb + j]! + hp[hb + j]!);
      const f = sigmoid(xp[xb + H + j]! + hp[hb + H + j]!);
      const g = tanh(xp[xb + 2 * H + j]! + hp[hb + 2 * H + j]!);
      const o = sigmoid(xp[xb + 3 * H + j]! + hp[hb + 3 * H + j]!);
      const cn = f * cs[po + k]! + i * g;
      const tc = tanh(cn);
      const h = o * tc;
      Ig[so + k] = i;
      Fg[so + k] = f;
      Gg[so + k] = g;
      Og[so + k] = o;
      TC[so + k] = tc;
      cs[no + k] = cn;
      hs[no + k] = h;
      out[ob + j] = h;
    }
  }
}

function elmanBackward(
  c: StepContext,
  s: number,
  t: number,
  dh: Float32Array,
  rows: Float32Array,
  direct: Float32Array,
  isTanh: boolean,
): void {
  const { B, T, H, hs, out: dXp, mask } = c;
  const no = (s + 1) * B * H;
  for (let b = 0; b < B; b++) {
    if (mask !== null && mask[b * T + t] === 0) continue;
    const xb = (b * T + t) * H;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      const h = hs[no + k]!;
      const da = dh[k]! * (isTanh ? 1 - h * h : h > 0 ? 1 : 0);
      dXp[xb + j] = da;
      rows[k] = da;
      direct[k] = 0;
    }
  }
}

function gruBackward(
  c: StepContext,
  s: number,
  t: number,
  dh: Float32Array,
  rows: Float32Array,
  direct: Float32Array,
): void {
  const { B, T, H, hs, out: dXp, mask } = c;
  const [R, Z, N, HN] = c.stash as [Float32Array, Float32Array, Float32Array, Float32Array];
  const GH = 3 * H;
  const po = s * B * H;
  for (let b = 0; b < B; b++) {
    if (mask !== null && mask[b * T + t] === 0) continue;
    const xb = (b * T + t) * GH;
    const hb = b * GH;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      const r = R[po + k]!;
      const z = Z[po + k]!;
      const n = N[po + k]!;
      const d = dh[k]!;
      const dan = d * (1 - z) * (1 - n * n);
      const daz = d * (hs[po + k]! - n) * z * (1 - z);
      const dar = dan * HN[po + k]! * r * (1 - r);
      dXp[xb + j] = dar;
      dXp[xb + H + j] = daz;
      dXp[xb + 2 * H + j] = dan;
      rows[hb + j] = dar;
      rows[hb + H + j] = daz;
      rows[hb + 2 * H + j] = dan * r;
      direct[k] = d * z;
    }
  }
}

/** Cho GRU backward, first half: d a_n (needed for d(r * h) = d a_n U_n^T). */
function choBackwardCandidate(
  c: StepContext,
  s: number,
  t: number,
  dh: Float32Array,
  dan: Float32Array,
): void {
  const { B, T, H, mask } = c;
  const [, Z, N] = c.stash as [Float32Array, Float32Array, Float32Array];
  const po = s * B * H;
  for (let b = 0; b < B; b++) {
    if (mask !== null && mask[b * T + t] === 0) continue;
    for (let k = b * H; k < (b + 1) * H; k++) {
      const n = N[po + k]!;
      dan[k] = dh[k]! * (1 - Z[po + k]!) * (1 - n * n);
    }
  }
}

/** Cho GRU backward, second half: d a_r, d a_z from `dRh = d a_n U_n^T`. */
function choBackwardGates(
  c: StepContext,
  s: number,
  t: number,
  dh: Float32Array,
  rows: Float32Array,
  direct: Float32Array,
  dan: Float32Array,
  dRh: Float32Array,
): void {
  const { B, T, H, hs, out: dXp, mask } = c;
  const [R, Z, N] = c.stash as [Float32Array, Float32Array, Float32Array];
  const GH = 3 * H;
  const po = s * B * H;
  for (let b = 0; b < B; b++) {
    if (mask !== null && mask[b * T + t] === 0) continue;
    const xb = (b * T + t) * GH;
    const hb = b * 2 * H;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      const r = R[po + k]!;
      const z = Z[po + k]!;
      const d = dh[k]!;
      const hPrev = hs[po + k]!;
      const dar = dRh[k]! * hPrev * r * (1 - r);
      const daz = d * (hPrev - N[po + k]!) * z * (1 - z);
      dXp[xb + j] = dar;
      dXp[xb + H + j] = daz;
      dXp[xb + 2 * H + j] = dan[k]!;
      rows[hb + j] = dar;
      rows[hb + H + j] = daz;
      direct[k] = d * z + dRh[k]! * r;
    }
  }
}

function lstmBackward(
  c: StepContext,
  s: number,
  t: number,
  dh: Float32Array,
  dc: Float32Array,
  rows: Float32Array,
  direct: Float32Array,
): void {
  const { B, T, H, out: dXp, mask } = c;
  const cs = c.cs!;
  const [Ig, Fg, Gg, Og, TC] = c.stash as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const GH = 4 * H;
  const po = s * B * H;
  for (let b = 0; b < B; b++) {
    if (mask !== null && mask[b * T + t] === 0) continue;
    const xb = (b * T + t) * GH;
    const hb = b * GH;
    for (let j = 0, k = b * H; j < H; j++, k++) {
      const i = Ig[po + k]!;
      const f = Fg[po + k]!;
      const g = Gg[po + k]!;
      const o = Og[po + k]!;
      const tc = TC[po + k]!;
      const d = dh[k]!;
      const dct = dc[k]! + d * o * (1 - tc * tc);
      const dai = dct * g * i * (1 - i);
      const daf = dct * cs[po + k]! * f * (1 - f);
      const dag = dct * i * (1 - g * g);
      const dao = d * tc * o * (1 - o);
      dXp[xb + j] = dai;
      dXp[xb + H + j] = daf;
      dXp[xb + 2 * H + j] = dag;
      dXp[xb + 3 * H + j] = dao;
      rows[hb + j] = dai;
      rows[hb + H + j] = daf;
      rows[hb + 2 * H + j] = dag;
      rows[hb + 3 * H + j] = dao;
      dc[k] = dct * f;
      direct[k] = 0;
    }
  }
}

interface Gradients {
  dx: tf.Tensor;
  dKernel: tf.Tensor;
  dRecurrent: tf.Tensor;
  dBias: tf.Tensor;
  dRecurrentBias: tf.Tensor | null;
  dh0: tf.Tensor;
  dc0: tf.Tensor | null;
}

function backward(
  state: ForwardState,
  dy: Float32Array,
  x: tf.Tensor,
  kernel: tf.Tensor,
  rk: tf.Tensor,
  options: SequenceKernelOptions,
): Gradients {
  const { kind, B, T, H, I, hs, cs, stash } = state;
  const G = GATES[kind];
  const S = STATES[kind];
  const GH = G * H;
  const BH = B * H;
  const reverse = options.reverse ?? false;
  const mask = options.mask ?? null;
  const probe = options.probe ?? null;

  // Gate-preactivation gradients, for the input projection (rows b*T+t) and for the
  // recurrent matmul (rows s*B+b, matching hs). The Cho GRU's candidate gate multiplies
  // (r*h) by U_n, so its recurrent rows are [dr, dz] against h and [dn] against r*h.
  const dXp = new Float32Array(B * T * GH);
  const hpCols = kind === 'gru_cho' ? 2 * H : GH;
  const dHp = new Float32Array(T * B * hpCols);
  const dAn = kind === 'gru_cho' ? new Float32Array(T * BH) : null;

  const dh = new Float32Array(BH);
  const dc = S === 2 ? new Float32Array(BH) : null;
  for (let b = 0; b < B; b++) {
    const o = b * (T + S) * H;
    dh.set(dy.subarray(o + T * H, o + (T + 1) * H), b * H);
    if (dc) dc.set(dy.subarray(o + (T + 1) * H, o + (T + 2) * H), b * H);
  }

  const rkT = tf.transpose(rk);
  const [urzT, unT] =
    kind === 'gru_cho'
      ? [tf.transpose(tf.slice(rk, [0, 0], [H, 2 * H])), tf.transpose(tf.slice(rk, [0, 2 * H], [H, H]))]
      : [null, null];
  const mmT = new StepMatmul(urzT ?? rkT);
  const mmNT = unT ? new StepMatmul(unT) : null;
  const direct = new Float32Array(BH);

  const ctx: StepContext = { B, T, H, xp: dy, rbv: null, hs, cs, stash, stashStride: BH, out: dXp, mask };
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    // d loss / d h_t: the output's gradient plus what flowed back from step t+1.
    for (let b = 0; b < B; b++) {
      if (mask && mask[b * T + t] === 0) continue;
      const yo = (b * (T + S) + t) * H;
      for (let j = 0; j < H; j++) dh[b * H + j]! += dy[yo + j]!;
    }
    if (probe) probe.grads[t] = dh.slice();
    const rows = dHp.subarray(s * B * hpCols, (s + 1) * B * hpCols);
    if (kind === 'tanh' || kind === 'relu') {
      elmanBackward(ctx, s, t, dh, rows, direct, kind === 'tanh');
    } else if (kind === 'gru') {
      gruBackward(ctx, s, t, dh, rows, direct);
    } else if (kind === 'gru_cho') {
      const dan = dAn!.subarray(s * BH, (s + 1) * BH);
      choBackwardCandidate(ctx, s, t, dh, dan);
      choBackwardGates(ctx, s, t, dh, rows, direct, dan, mmNT!.run(dan, B));
    } else {
      lstmBackward(ctx, s, t, dh, dc!, rows, direct);
    }
    // d h_{t-1} = direct path + dGates_h U^T (one matmul per step); masked rows pass dh through.
    const viaU = mmT.run(rows, B);
    for (let b = 0; b < B; b++) {
      if (mask !== null && mask[b * T + t] === 0) continue;
      for (let k = b * H; k < (b + 1) * H; k++) dh[k] = direct[k]! + viaU[k]!;
    }
  }
  mmT.dispose();
  mmNT?.dispose();
  rkT.dispose();
  if (urzT) tf.dispose([urzT, unT!]);

  // The weight gradients: a few big matmuls over all steps.
  const kept = tf.tidy(() => {
    // Transposes are explicit (cheap copies) so that every matmul is a plain one: stock
    // tfjs-wasm runs transposed matmuls ~10x slower (gradflow's backend-wasm fixes that).
    const dXpT = tf.tensor2d(dXp, [B * T, GH]);
    const x2 = tf.reshape(x, [B * T, I]);
    const dx = tf.reshape(tf.matMul(dXpT, tf.transpose(kernel)), [B, T, I]);
    const dKernel = tf.matMul(tf.transpose(x2), dXpT);
    const dBias = tf.tensor1d(columnSums(dXp, B * T, GH));
    const hPrevAllT = tf.transpose(tf.tensor2d(hs.subarray(0, T * BH), [T * B, H]));
    let dRecurrent: tf.Tensor;
    if (kind === 'gru_cho') {
      const dUrz = tf.matMul(hPrevAllT, tf.tensor2d(dHp, [T * B, 2 * H]));
      const dUn = tf.matMul(tf.transpose(tf.tensor2d(stash[3]!, [T * B, H])), tf.tensor2d(dAn!, [T * B, H]));
      dRecurrent = tf.concat([dUrz, dUn], 1);
    } else {
      dRecurrent = tf.matMul(hPrevAllT, tf.tensor2d(dHp, [T * B, GH]));
    }
    const dRecurrentBias = kind === 'gru' ? tf.tensor1d(columnSums(dHp, T * B, GH)) : null;
    const dh0 = tf.tensor2d(dh, [B, H]);
    const dc0 = dc ? tf.tensor2d(dc, [B, H]) : null;
    return {
      dx,
      dKernel,
      dRecurrent,
      dBias,
      dh0,
      ...(dRecurrentBias ? { dRecurrentBias } : {}),
      ...(dc0 ? { dc0 } : {}),
    };
  });
  return { dRecurrentBias: null, dc0: null, ...kept };
}
