import * as tf from '@tensorflow/tfjs';
import type { KernelKind } from './cells.js';

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
 * kernels suit the cpu and wasm backends (a GPU backend would sync every step).
 */

export const GATES: Record<KernelKind, number> = { tanh: 1, relu: 1, gru: 3, gru_cho: 3, lstm: 4 };
export const STATES: Record<KernelKind, 1 | 2> = { tanh: 1, relu: 1, gru: 1, gru_cho: 1, lstm: 2 };

export interface SequenceKernelOptions {
  kind: KernelKind;
  /** Process t = T-1 .. 0 (the backward direction of a bidirectional layer). */
  reverse?: boolean;
  /** `[B*T]` (batch-major) 1 = real step, 0 = padding: the state is carried, the output is 0. */
  mask?: Float32Array | null;
  /** Receives per-timestep hidden states and d loss / d h_t (see `sequenceGradientProfile`). */
  probe?: ProbeSink | null;
}

/** Where a kernel call writes its per-timestep hidden states and their gradients. */
export interface ProbeSink {
  /** h_t, `[B*H]` per timestep t (in time order, whatever the direction). */
  hidden: Float32Array[];
  /** d loss / d h_t, `[B*H]` per timestep, filled when the backward pass runs. */
  grads: Float32Array[];
}

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

/** `a [rows, inner] x w` as a typed array (the tensors are disposed at once). */
function matmulRows(a: Float32Array, rows: number, inner: number, w: tf.Tensor): Float32Array {
  const at = tf.tensor2d(a, [rows, inner]);
  const out = tf.matMul(at, w);
  const data = out.dataSync() as Float32Array;
  at.dispose();
  out.dispose();
  return data;
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
 * Shapes are not validated here: the layer does that and reports typed errors.
 */
export function runSequenceKernel(
  inputs: SequenceKernelInputs,
  options: SequenceKernelOptions,
): SequenceKernelOutputs {
  const { kind } = options;
  const S = STATES[kind];
  const [B, T] = inputs.x.shape as [number, number, number];
  const H = inputs.recurrentKernel.shape[0]!;
  const list: tf.Tensor[] = [inputs.x, inputs.kernel, inputs.recurrentKernel, inputs.bias];
  if (inputs.recurrentBias) list.push(inputs.recurrentBias);
  list.push(inputs.h0);
  if (S === 2) list.push(inputs.c0 ?? tf.zeros([B, H]));
  const hasRb = inputs.recurrentBias !== null;

  const op = tf.customGrad((...args: unknown[]) => {
    const tensors = args.slice(0, list.length) as tf.Tensor[];
    const [x, kernel, rk] = tensors as [tf.Tensor, tf.Tensor, tf.Tensor];
    const bias = tensors[3]!;
    const rb = hasRb ? tensors[4]! : null;
    const h0 = tensors[hasRb ? 5 : 4]!;
    const c0 = S === 2 ? tensors[hasRb ? 6 : 5]! : null;
    // The backward pass reads x, W and U; tfjs keeps saved tensors alive until it has run.
    (args[list.length] as tf.GradSaveFunc)([x, kernel, rk]);
    const state = forward(kind, B, T, H, x, kernel, rk, bias, rb, h0, c0, options);
    return {
      value: tf.tensor3d(state.packed, [B, T + S, H]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ks, rks] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const g = backward(state, dy.dataSync() as Float32Array, xs, ks, rks, options);
        const out = [g.dx, g.dKernel, g.dRecurrent, g.dBias];
        if (hasRb) out.push(g.dRecurrentBias!);
        out.push(g.dh0);
        if (S === 2) out.push(g.dc0!);
        return out;
      },
    };
  });

  const packed = op(...list) as tf.Tensor;
  const output = tf.slice(packed, [0, 0, 0], [B, T, H]);
  const h = tf.reshape(tf.slice(packed, [0, T, 0], [B, 1, H]), [B, H]);
  const c = S === 2 ? tf.reshape(tf.slice(packed, [0, T + 1, 0], [B, 1, H]), [B, H]) : null;
  if (S === 2 && !inputs.c0) list[list.length - 1]!.dispose();
  packed.dispose();
  return { output, h, c };
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
): ForwardState {
  const G = GATES[kind];
  const S = STATES[kind];
  const GH = G * H;
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
  const stash = Array.from({ length: nStash }, () => new Float32Array(T * BH));
  const probe = options.probe ?? null;

  // The Cho GRU needs U_rz and U_n apart (r multiplies h before U_n).
  const [urz, un] =
    kind === 'gru_cho' ? [tf.slice(rk, [0, 0], [H, 2 * H]), tf.slice(rk, [0, 2 * H], [H, H])] : [null, null];

  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const hPrev = hs.subarray(s * BH, (s + 1) * BH);
    const hNext = hs.subarray((s + 1) * BH, (s + 2) * BH);
    const so = s * BH;
    if (kind === 'tanh' || kind === 'relu') {
      const hp = matmulRows(hPrev.slice(), B, H, rk);
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * H;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            hNext[k] = hPrev[k]!;
            continue;
          }
          const a = xp[xb + j]! + hp[k]!;
          const h = kind === 'tanh' ? Math.tanh(a) : a > 0 ? a : 0;
          hNext[k] = h;
          out[xb + j] = h;
        }
      }
    } else if (kind === 'gru') {
      const hp = matmulRows(hPrev.slice(), B, H, rk);
      const [R, Z, N, HN] = stash as [Float32Array, Float32Array, Float32Array, Float32Array];
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * GH;
        const hb = b * GH;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            hNext[k] = hPrev[k]!;
            continue;
          }
          const r = sigmoid(xp[xb + j]! + hp[hb + j]! + rbv![j]!);
          const z = sigmoid(xp[xb + H + j]! + hp[hb + H + j]! + rbv![H + j]!);
          const hn = hp[hb + 2 * H + j]! + rbv![2 * H + j]!;
          const n = Math.tanh(xp[xb + 2 * H + j]! + r * hn);
          const h = (1 - z) * n + z * hPrev[k]!;
          R[so + k] = r;
          Z[so + k] = z;
          N[so + k] = n;
          HN[so + k] = hn;
          hNext[k] = h;
          out[(b * T + t) * H + j] = h;
        }
      }
    } else if (kind === 'gru_cho') {
      const hp = matmulRows(hPrev.slice(), B, H, urz!);
      const [R, Z, N, RH] = stash as [Float32Array, Float32Array, Float32Array, Float32Array];
      const rh = new Float32Array(BH);
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * GH;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) continue;
          const r = sigmoid(xp[xb + j]! + hp[b * 2 * H + j]!);
          const z = sigmoid(xp[xb + H + j]! + hp[b * 2 * H + H + j]!);
          R[so + k] = r;
          Z[so + k] = z;
          rh[k] = r * hPrev[k]!;
        }
      }
      RH.set(rh, so);
      const hn = matmulRows(rh, B, H, un!);
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * GH;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            hNext[k] = hPrev[k]!;
            continue;
          }
          const z = Z[so + k]!;
          const n = Math.tanh(xp[xb + 2 * H + j]! + hn[k]!);
          const h = (1 - z) * n + z * hPrev[k]!;
          N[so + k] = n;
          hNext[k] = h;
          out[(b * T + t) * H + j] = h;
        }
      }
    } else {
      const hp = matmulRows(hPrev.slice(), B, H, rk);
      const cPrev = cs!.subarray(s * BH, (s + 1) * BH);
      const cNext = cs!.subarray((s + 1) * BH, (s + 2) * BH);
      const [Ig, Fg, Gg, Og, TC] = stash as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * GH;
        const hb = b * GH;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            hNext[k] = hPrev[k]!;
            cNext[k] = cPrev[k]!;
            continue;
          }
          const i = sigmoid(xp[xb + j]! + hp[hb + j]!);
          const f = sigmoid(xp[xb + H + j]! + hp[hb + H + j]!);
          const g = Math.tanh(xp[xb + 2 * H + j]! + hp[hb + 2 * H + j]!);
          const o = sigmoid(xp[xb + 3 * H + j]! + hp[hb + 3 * H + j]!);
          const c = f * cPrev[k]! + i * g;
          const tc = Math.tanh(c);
          const h = o * tc;
          Ig[so + k] = i;
          Fg[so + k] = f;
          Gg[so + k] = g;
          Og[so + k] = o;
          TC[so + k] = tc;
          cNext[k] = c;
          hNext[k] = h;
          out[(b * T + t) * H + j] = h;
        }
      }
    }
    if (probe) probe.hidden[t] = hNext.slice();
  }
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
  return { kind, B, T, H, I, packed, hs, cs, stash };
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
  const direct = new Float32Array(BH);

  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s;
    const so = s * BH;
    const hPrev = hs.subarray(so, so + BH);
    // d loss / d h_t: the output's gradient plus what flowed back from step t+1.
    for (let b = 0; b < B; b++) {
      if (mask && mask[b * T + t] === 0) continue;
      const yo = (b * (T + S) + t) * H;
      for (let j = 0; j < H; j++) dh[b * H + j]! += dy[yo + j]!;
    }
    if (probe) probe.grads[t] = dh.slice();
    const rowBase = s * B * hpCols;

    if (kind === 'tanh' || kind === 'relu') {
      const hNext = hs.subarray(so + BH, so + 2 * BH);
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            direct[k] = dh[k]!;
            continue;
          }
          const h = hNext[k]!;
          const da = dh[k]! * (kind === 'tanh' ? 1 - h * h : h > 0 ? 1 : 0);
          dXp[(b * T + t) * H + j] = da;
          dHp[rowBase + k] = da;
          direct[k] = 0;
        }
      }
    } else if (kind === 'gru') {
      const [R, Z, N, HN] = stash as [Float32Array, Float32Array, Float32Array, Float32Array];
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * GH;
        const hb = rowBase + b * GH;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            direct[k] = dh[k]!;
            continue;
          }
          const r = R[so + k]!;
          const z = Z[so + k]!;
          const n = N[so + k]!;
          const d = dh[k]!;
          const dan = d * (1 - z) * (1 - n * n);
          const daz = d * (hPrev[k]! - n) * z * (1 - z);
          const dar = dan * HN[so + k]! * r * (1 - r);
          dXp[xb + j] = dar;
          dXp[xb + H + j] = daz;
          dXp[xb + 2 * H + j] = dan;
          dHp[hb + j] = dar;
          dHp[hb + H + j] = daz;
          dHp[hb + 2 * H + j] = dan * r;
          direct[k] = d * z;
        }
      }
    } else if (kind === 'gru_cho') {
      const [R, Z, N] = stash as [Float32Array, Float32Array, Float32Array, Float32Array];
      const dan = dAn!.subarray(so, so + BH);
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) continue;
          const n = N[so + k]!;
          dan[k] = dh[k]! * (1 - Z[so + k]!) * (1 - n * n);
        }
      }
      const dRh = matmulRows(dan.slice(), B, H, unT!);
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * GH;
        const hb = rowBase + b * 2 * H;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            direct[k] = dh[k]!;
            continue;
          }
          const r = R[so + k]!;
          const z = Z[so + k]!;
          const d = dh[k]!;
          const dar = dRh[k]! * hPrev[k]! * r * (1 - r);
          const daz = d * (hPrev[k]! - N[so + k]!) * z * (1 - z);
          dXp[xb + j] = dar;
          dXp[xb + H + j] = daz;
          dXp[xb + 2 * H + j] = dan[k]!;
          dHp[hb + j] = dar;
          dHp[hb + H + j] = daz;
          direct[k] = d * z + dRh[k]! * r;
        }
      }
    } else {
      const [Ig, Fg, Gg, Og, TC] = stash as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const cPrev = cs!.subarray(so, so + BH);
      for (let b = 0; b < B; b++) {
        const m = mask ? mask[b * T + t]! : 1;
        const xb = (b * T + t) * GH;
        const hb = rowBase + b * GH;
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (m === 0) {
            direct[k] = dh[k]!;
            continue;
          }
          const i = Ig[so + k]!;
          const f = Fg[so + k]!;
          const g = Gg[so + k]!;
          const o = Og[so + k]!;
          const tc = TC[so + k]!;
          const d = dh[k]!;
          const dct = dc![k]! + d * o * (1 - tc * tc);
          const dai = dct * g * i * (1 - i);
          const daf = dct * cPrev[k]! * f * (1 - f);
          const dag = dct * i * (1 - g * g);
          const dao = d * tc * o * (1 - o);
          dXp[xb + j] = dai;
          dXp[xb + H + j] = daf;
          dXp[xb + 2 * H + j] = dag;
          dXp[xb + 3 * H + j] = dao;
          dHp[hb + j] = dai;
          dHp[hb + H + j] = daf;
          dHp[hb + 2 * H + j] = dag;
          dHp[hb + 3 * H + j] = dao;
          dc![k] = dct * f;
          direct[k] = 0;
        }
      }
    }

    // d h_{t-1} = direct path + dGates_h U^T (one matmul per step).
    const viaU = matmulRows(
      dHp.slice(rowBase, rowBase + B * hpCols),
      B,
      hpCols,
      kind === 'gru_cho' ? urzT! : rkT,
    );
    for (let b = 0; b < B; b++) {
      const masked = mask !== null && mask[b * T + t] === 0;
      for (let j = 0; j < H; j++) {
        const k = b * H + j;
        dh[k] = masked ? dh[k]! : direct[k]! + viaU[k]!;
      }
    }
  }
  rkT.dispose();
  if (urzT) tf.dispose([urzT, unT!]);

  // The weight gradients: a few big matmuls over all steps.
  const kept = tf.tidy(() => {
    const dXpT = tf.tensor2d(dXp, [B * T, GH]);
    const x2 = tf.reshape(x, [B * T, I]);
    const dx = tf.reshape(tf.matMul(dXpT, kernel, false, true), [B, T, I]);
    const dKernel = tf.matMul(x2, dXpT, true, false);
    const dBias = tf.tensor1d(columnSums(dXp, B * T, GH));
    const hPrevAll = tf.tensor2d(hs.slice(0, T * BH), [T * B, H]);
    let dRecurrent: tf.Tensor;
    if (kind === 'gru_cho') {
      const dUrz = tf.matMul(hPrevAll, tf.tensor2d(dHp, [T * B, 2 * H]), true, false);
      const dUn = tf.matMul(tf.tensor2d(stash[3]!, [T * B, H]), tf.tensor2d(dAn!, [T * B, H]), true, false);
      dRecurrent = tf.concat([dUrz, dUn], 1);
    } else {
      dRecurrent = tf.matMul(hPrevAll, tf.tensor2d(dHp, [T * B, GH]), true, false);
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
