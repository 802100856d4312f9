import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { forceKernelVariant, recurrentGateKernels } from '../src/index.js';
import { on, randomData, relErr } from './helpers.js';

// The fused gate math against the same equations in float64 JavaScript, for odd H (SIMD body and
// scalar tail), strided input-projection rows, every kernel build.
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const B = 3;
const H = 7;

function scaled(rng: Rng, n: number, s: number): Float32Array {
  return randomData(rng, n).map((v) => v * s);
}

describe('recurrentGateKernels on wasm', () => {
  it('is null off wasm', async () => {
    await on('cpu', () => expect(recurrentGateKernels()).toBeNull());
  });

  for (const variant of [undefined, 'simd', 'scalar'] as const) {
    it(`GRU and LSTM steps match float64 references (${variant ?? 'default'} build)`, async () => {
      await on('wasm', () => {
        forceKernelVariant(variant);
        try {
          const gates = recurrentGateKernels()!;
          const rng = new Rng(3);
          const before = tf.memory().numTensors;
          // GRU forward: xp rows 5 apart in a larger array; pre-activations up to +-12 (saturating).
          const stride = 3 * H + 5;
          const xp = { data: scaled(rng, 2 + B * stride, 6), offset: 2, stride };
          const hp = scaled(rng, B * 3 * H, 6);
          const rb = scaled(rng, 3 * H, 1);
          const hPrev = randomData(rng, B * H);
          const o = () => new Float32Array(B * H);
          const g = { xp, hp: Float32Array.from(hp), rb, hPrev, r: o(), z: o(), n: o(), hn: o(), h: o() };
          gates.gruForward(B, H, g);
          const want = { r: o(), z: o(), n: o(), hn: o(), h: o() };
          for (let b = 0; b < B; b++) {
            for (let j = 0; j < H; j++) {
              const x = (k: number) => xp.data[xp.offset + b * stride + k * H + j]!;
              const a = (k: number) => hp[b * 3 * H + k * H + j]! + rb[k * H + j]!;
              const r = sig(x(0) + a(0));
              const z = sig(x(1) + a(1));
              const n = Math.tanh(x(2) + r * a(2));
              const k = b * H + j;
              [want.r[k], want.z[k], want.n[k], want.hn[k]] = [r, z, n, a(2)];
              want.h[k] = (1 - z) * n + z * hPrev[k]!;
            }
          }
          for (const key of ['r', 'z', 'n', 'hn', 'h'] as const)
            expect(relErr(g[key], want[key]), `gru ${key}`).toBeLessThan(1e-6);
          // GRU backward from that stash.
          const dh = randomData(rng, B * H);
          const dxp = { data: new Float32Array(2 + B * stride), offset: 2, stride };
          const gb = { ...want, hPrev, dh, dxp, rows: new Float32Array(B * 3 * H), direct: o() };
          gates.gruBackward(B, H, gb);
          for (let b = 0; b < B; b++) {
            for (let j = 0; j < H; j++) {
              const k = b * H + j;
              const [r, z, n, d] = [want.r[k]!, want.z[k]!, want.n[k]!, dh[k]!];
              const dan = d * (1 - z) * (1 - n * n);
              const daz = d * (hPrev[k]! - n) * z * (1 - z);
              const dar = dan * want.hn[k]! * r * (1 - r);
              const row = b * 3 * H;
              const at = 2 + b * stride;
              expect(dxp.data[at + j]).toBeCloseTo(dar, 5);
              expect(dxp.data[at + H + j]).toBeCloseTo(daz, 5);
              expect(dxp.data[at + 2 * H + j]).toBeCloseTo(dan, 5);
              expect(gb.rows[row + 2 * H + j]).toBeCloseTo(dan * r, 5);
              expect(gb.direct[k]).toBeCloseTo(d * z, 5);
            }
          }
          // LSTM forward and backward.
          const ls = 4 * H;
          const lxp = { data: scaled(rng, B * ls, 6), offset: 0, stride: ls };
          const lhp = scaled(rng, B * ls, 6);
          const cPrev = scaled(rng, B * H, 2);
          const l = { xp: lxp, hp: lhp, cPrev, i: o(), f: o(), g: o(), o: o(), tc: o(), c: o(), h: o() };
          gates.lstmForward(B, H, l);
          const dhL = randomData(rng, B * H);
          const dcIn = randomData(rng, B * H);
          const ldxp = { data: new Float32Array(B * ls), offset: 0, stride: ls };
          const lb = {
            ...l,
            dh: dhL,
            dc: Float32Array.from(dcIn),
            dxp: ldxp,
            rows: new Float32Array(B * ls),
            direct: o(),
          };
          gates.lstmBackward(B, H, lb);
          for (let k = 0; k < B * H; k++) {
            const b = Math.floor(k / H);
            const j = k % H;
            const pre = (q: number) => lxp.data[b * ls + q * H + j]! + lhp[b * ls + q * H + j]!;
            const [i, f, gg, oo] = [sig(pre(0)), sig(pre(1)), Math.tanh(pre(2)), sig(pre(3))];
            const c = f * cPrev[k]! + i * gg;
            expect(l.c[k]).toBeCloseTo(c, 5);
            expect(l.h[k]).toBeCloseTo(oo * Math.tanh(c), 5);
            const tc = Math.tanh(c);
            const dct = dcIn[k]! + dhL[k]! * oo * (1 - tc * tc);
            expect(lb.dc[k]).toBeCloseTo(dct * f, 5);
            expect(ldxp.data[b * ls + 2 * H + j]).toBeCloseTo(dct * i * (1 - gg * gg), 5);
            expect(lb.rows[b * ls + 3 * H + j]).toBeCloseTo(dhL[k]! * tc * oo * (1 - oo), 5);
            expect(lb.direct[k]).toBe(0);
          }
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          forceKernelVariant(undefined);
        }
      });
    });
  }

  it('the float32 exp inside stays within 1e-6 relative of Math.exp through sigmoid and tanh', async () => {
    await on('wasm', () => {
      const gates = recurrentGateKernels()!;
      // One LSTM step with hp = 0 and c_prev = 0 turns xp into sigmoid/tanh of a sweep of inputs.
      const n = 400;
      const xs = Float32Array.from({ length: 4 * n }, (_, k) => -40 + (80 * (k % n)) / n);
      const o = () => new Float32Array(n);
      const s = {
        xp: { data: xs, offset: 0, stride: 4 * n },
        hp: new Float32Array(4 * n),
        cPrev: new Float32Array(n),
        i: o(),
        f: o(),
        g: o(),
        o: o(),
        tc: o(),
        c: o(),
        h: o(),
      };
      gates.lstmForward(1, n, s);
      let worst = 0;
      for (let k = 0; k < n; k++) {
        const x = xs[k]!;
        worst = Math.max(worst, Math.abs(s.i[k]! - sig(x)) / sig(x), Math.abs(s.g[k]! - Math.tanh(x)));
      }
      expect(worst).toBeLessThan(1e-6);
    });
  });
});
