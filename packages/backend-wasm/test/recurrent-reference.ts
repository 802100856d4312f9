import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@gradflow/core';
import { expect } from 'vitest';
import { recurrentSequenceKernels, type FusedCell } from '../src/index.js';
import { randomData, relErr } from './helpers.js';

// The fused sequence loops' equations in float64 JavaScript, for sequences of B x T steps of H
// units: a random case, the reference forward and BPTT, and what the kernels give for it.
export const sig = (x: number): number => 1 / (1 + Math.exp(-x));

export interface Case {
  cell: FusedCell;
  G: number;
  xp: Float32Array;
  bias: Float32Array;
  u: Float32Array;
  rb: Float32Array | null;
  h0: Float32Array;
  c0: Float32Array | null;
  dy: Float32Array;
}

export function recurrentReference(B: number, T: number, H: number) {
  const BH = B * H;

  function makeCase(cell: FusedCell, rng: Rng): Case {
    const G = cell === 'gru' ? 3 : 4;
    const S = cell === 'gru' ? 1 : 2;
    const scaled = (n: number, s: number) => randomData(rng, n).map((v) => v * s);
    return {
      cell,
      G,
      xp: scaled(B * T * G * H, 4),
      bias: scaled(G * H, 1),
      // Scaled by 1/sqrt(H) (as 7 units have it at 1), as initializers do: pre-activations keep
      // their range, saturating or not, whatever H.
      u: scaled(H * G * H, Math.sqrt(7 / H)),
      rb: cell === 'gru' ? scaled(G * H, 1) : null,
      h0: randomData(rng, BH),
      c0: cell === 'lstm' ? scaled(BH, 2) : null,
      dy: randomData(rng, B * (T + S) * H),
    };
  }

  /** Float64 forward and backprop through time; returns what the kernels fill. */
  function reference(c: Case, reverse: boolean) {
    const { G, xp, bias, u, rb, dy } = c;
    const S = c.cell === 'gru' ? 1 : 2;
    const hs = [Float64Array.from(c.h0)];
    const cs = [Float64Array.from(c.c0 ?? [])];
    const gates: Float64Array[][] = [];
    const out = new Float64Array(B * T * H);
    // xp and dxp are in step order: row s*B+b.
    const pre = (s: number, b: number, q: number, j: number, hp: Float64Array) =>
      xp[(s * B + b) * G * H + q * H + j]! + bias[q * H + j]! + hp[b * G * H + q * H + j]!;
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      const hp = new Float64Array(B * G * H);
      for (let b = 0; b < B; b++)
        for (let k = 0; k < H; k++)
          for (let q = 0; q < G * H; q++) hp[b * G * H + q]! += hs[s]![b * H + k]! * u[k * G * H + q]!;
      if (rb) for (let b = 0; b < B; b++) for (let q = 0; q < G * H; q++) hp[b * G * H + q]! += rb[q]!;
      const g = Array.from({ length: c.cell === 'gru' ? 4 : 5 }, () => new Float64Array(BH));
      const h = new Float64Array(BH);
      const cn = new Float64Array(BH);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          if (c.cell === 'gru') {
            const r = sig(pre(s, b, 0, j, hp));
            const z = sig(pre(s, b, 1, j, hp));
            const hn = hp[b * G * H + 2 * H + j]!;
            const n = Math.tanh(xp[(s * B + b) * G * H + 2 * H + j]! + bias[2 * H + j]! + r * hn);
            [g[0]![k], g[1]![k], g[2]![k], g[3]![k]] = [r, z, n, hn];
            h[k] = (1 - z) * n + z * hs[s]![k]!;
          } else {
            const [i, f, gg, o] = [
              sig(pre(s, b, 0, j, hp)),
              sig(pre(s, b, 1, j, hp)),
              Math.tanh(pre(s, b, 2, j, hp)),
              sig(pre(s, b, 3, j, hp)),
            ];
            cn[k] = f * cs[s]![k]! + i * gg;
            const tc = Math.tanh(cn[k]!);
            [g[0]![k], g[1]![k], g[2]![k], g[3]![k], g[4]![k]] = [i, f, gg, o, tc];
            h[k] = o * tc;
          }
          out[(b * T + t) * H + j] = h[k]!;
        }
      }
      gates.push(g);
      hs.push(h);
      cs.push(cn);
    }
    // Backward.
    const dh = new Float64Array(BH);
    const dc = new Float64Array(BH);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < H; j++) {
        dh[b * H + j] = dy[(b * (T + S) + T) * H + j]!;
        if (S === 2) dc[b * H + j] = dy[(b * (T + S) + T + 1) * H + j]!;
      }
    const dxp = new Float64Array(B * T * G * H);
    const rows = new Float64Array(T * B * G * H);
    const dhs = new Float64Array(T * BH);
    for (let s = T - 1; s >= 0; s--) {
      const t = reverse ? T - 1 - s : s;
      for (let b = 0; b < B; b++)
        for (let j = 0; j < H; j++) dh[b * H + j]! += dy[(b * (T + S) + t) * H + j]!;
      dhs.set(dh, s * BH);
      const g = gates[s]!;
      const direct = new Float64Array(BH);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          const k = b * H + j;
          const d = dh[k]!;
          let da: number[];
          let dr: number[];
          if (c.cell === 'gru') {
            const [r, z, n, hn] = [g[0]![k]!, g[1]![k]!, g[2]![k]!, g[3]![k]!];
            const dan = d * (1 - z) * (1 - n * n);
            const daz = d * (hs[s]![k]! - n) * z * (1 - z);
            const dar = dan * hn * r * (1 - r);
            da = [dar, daz, dan];
            dr = [dar, daz, dan * r];
            direct[k] = d * z;
          } else {
            const [i, f, gg, o, tc] = [g[0]![k]!, g[1]![k]!, g[2]![k]!, g[3]![k]!, g[4]![k]!];
            const dct = dc[k]! + d * o * (1 - tc * tc);
            da = [
              dct * gg * i * (1 - i),
              dct * cs[s]![k]! * f * (1 - f),
              dct * i * (1 - gg * gg),
              d * tc * o * (1 - o),
            ];
            dr = da;
            dc[k] = dct * f;
          }
          da.forEach((v, q) => (dxp[(s * B + b) * G * H + q * H + j] = v));
          dr.forEach((v, q) => (rows[(s * B + b) * G * H + q * H + j] = v));
        }
      }
      for (let b = 0; b < B; b++)
        for (let k = 0; k < H; k++) {
          let acc = direct[b * H + k]!;
          for (let q = 0; q < G * H; q++) acc += rows[(s * B + b) * G * H + q]! * u[k * G * H + q]!;
          dh[b * H + k] = acc;
        }
    }
    // The biases' gradients: column sums of dxp (input bias) and of rows (the GRU's recurrent bias).
    const colSums = (m: Float64Array) => {
      const out = new Float64Array(G * H);
      m.forEach((v, k) => (out[k % (G * H)]! += v));
      return out;
    };
    return { hs, cs, gates, out, dh, dc, dxp, rows, dhs, db: colSums(dxp), drb: colSums(rows) };
  }

  function runKernels(c: Case, reverse: boolean) {
    const seq = recurrentSequenceKernels()!;
    const S = c.cell === 'gru' ? 1 : 2;
    const t = {
      xp: tf.tensor2d(c.xp, [T * B, c.G * H]),
      b: tf.tensor1d(c.bias),
      u: tf.tensor2d(c.u, [H, c.G * H]),
      h0: tf.tensor2d(c.h0, [B, H]),
      c0: c.c0 ? tf.tensor2d(c.c0, [B, H]) : null,
      rb: c.rb ? tf.tensor1d(c.rb) : null,
      dy: tf.tensor3d(c.dy, [B, T + S, H]),
    };
    const fwd = seq.forward({ cell: c.cell, ...t, T, reverse, keep: true });
    const back = seq.backward({
      cell: c.cell,
      dy: t.dy,
      u: t.u,
      tape: fwd.tape,
      T,
      reverse,
      stepGrads: true,
    });
    const read = (x: tf.Tensor | null) => (x ? (x.dataSync() as Float32Array) : null);
    const got = {
      packed: read(fwd.packed)!,
      hs: read(fwd.tape[0]!)!,
      cs: c.cell === 'lstm' ? read(fwd.tape[1]!) : null,
      stash: fwd.tape.slice(S).map((x) => read(x)!),
      dxp: read(back.dxp)!,
      rows: read(back.rows)!,
      dh0: read(back.dh0)!,
      dc0: read(back.dc0),
      db: read(back.db)!,
      drb: read(back.drb),
      dhs: read(back.stepGrads)!,
    };
    tf.dispose([...Object.values(t).filter((x) => x !== null), fwd.packed, ...fwd.tape]);
    if (c.cell === 'lstm') expect(back.rows, 'the LSTM rows are its dxp').toBe(back.dxp);
    tf.dispose([back.dxp, back.rows, back.dh0, back.db, back.stepGrads!]);
    tf.dispose([...(back.dc0 ? [back.dc0] : []), ...(back.drb ? [back.drb] : [])]);
    return got;
  }

  /** The packed output the reference implies: h_t per t, then the final h (and c). */
  function packedOf(c: Case, want: ReturnType<typeof reference>): number[] {
    const S = c.cell === 'gru' ? 1 : 2;
    const out: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) out.push(want.out[(b * T + t) * H + j]!);
      for (let j = 0; j < H; j++) out.push(want.hs[T]![b * H + j]!);
      if (S === 2) for (let j = 0; j < H; j++) out.push(want.cs[T]![b * H + j]!);
    }
    return out;
  }
  const flat = (blocks: Float64Array[]) => blocks.flatMap((x) => [...x]);

  /** Every output of the kernels against the reference, within 1e-5 relative. */
  function compare(
    c: Case,
    want: ReturnType<typeof reference>,
    got: ReturnType<typeof runKernels>,
    label: string,
  ) {
    const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) =>
      expect(relErr(a, b), `${label} ${what}`).toBeLessThan(1e-5);
    close(got.packed, packedOf(c, want), 'packed output');
    close(got.hs, flat(want.hs), 'hs');
    if (got.cs) close(got.cs, flat(want.cs), 'cs');
    got.stash.forEach((g, q) => close(g, flat(want.gates.map((step) => step[q]!)), `stash ${q}`));
    close(got.dxp, want.dxp, 'dxp');
    close(got.rows, want.rows, 'rows');
    close(got.dhs, want.dhs, 'd loss / d h_t');
    close(got.dh0, want.dh, 'dh0');
    if (got.dc0) close(got.dc0, want.dc, 'dc0');
    close(got.db, want.db, 'db (input bias)');
    if (c.cell === 'gru') close(got.drb!, want.drb, 'drb (recurrent bias)');
    else expect(got.drb).toBeNull();
  }

  return { makeCase, reference, runKernels, compare };
}
