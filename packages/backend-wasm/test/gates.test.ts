import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { forceKernelVariant, recurrentSequenceKernels } from '../src/index.js';
import { on } from './helpers.js';
import { recurrentReference, sig } from './recurrent-reference.js';

// The fused sequence loops against the same equations in float64 JavaScript: odd H (SIMD body and
// scalar tail), both directions, pre-activations large enough to saturate, every kernel build.
const [B, T, H] = [3, 4, 7];
const BH = B * H;
const { makeCase, reference, runKernels, compare } = recurrentReference(B, T, H);

describe('recurrentSequenceKernels (whole sequences on wasm)', () => {
  it('is null off wasm', async () => {
    await on('cpu', () => expect(recurrentSequenceKernels()).toBeNull());
  });

  for (const variant of [undefined, 'simd', 'scalar'] as const) {
    it(`GRU and LSTM, both directions, match float64 forward and BPTT (${variant ?? 'default'} build)`, async () => {
      await on('wasm', () => {
        forceKernelVariant(variant);
        try {
          const before = tf.memory().numTensors;
          for (const cell of ['gru', 'lstm'] as const) {
            for (const reverse of [false, true]) {
              const c = makeCase(cell, new Rng(cell === 'gru' ? 3 : 4));
              const want = reference(c, reverse);
              const got = runKernels(c, reverse);
              compare(c, want, got, `${cell}${reverse ? ' reverse' : ''}`);
            }
          }
          expect(tf.memory().numTensors).toBe(before);
        } finally {
          forceKernelVariant(undefined);
        }
      });
    });
  }

  it('without `keep` the forward pass keeps one step of gates and gives the same output', async () => {
    await on('wasm', () => {
      const c = makeCase('gru', new Rng(5));
      const kept = runKernels(c, false);
      const xp = tf.tensor2d(c.xp, [T * B, 3 * H]);
      const b = tf.tensor1d(c.bias);
      const u = tf.tensor2d(c.u, [H, 3 * H]);
      const h0 = tf.tensor2d(c.h0, [B, H]);
      const rb = tf.tensor1d(c.rb!);
      const fwd = recurrentSequenceKernels()!.forward({
        cell: 'gru',
        xp,
        b,
        u,
        h0,
        rb,
        T,
        reverse: false,
        keep: false,
      });
      expect(fwd.packed.dataSync()).toEqual(kept.packed);
      // The one stashed block is the last step's.
      expect(fwd.tape[1]!.shape).toEqual([B, H]);
      expect(fwd.tape[1]!.dataSync()).toEqual(kept.stash[0]!.subarray((T - 1) * BH));
      tf.dispose([xp, b, u, h0, rb, fwd.packed, ...fwd.tape]);
    });
  });

  it('refuses a tape without every step (typed error naming the shape)', async () => {
    await on('wasm', () => {
      const seq = recurrentSequenceKernels()!;
      const [xp, b, u, h0] = [
        tf.zeros([T * B, 3 * H]),
        tf.zeros([3 * H]),
        tf.zeros([H, 3 * H]),
        tf.zeros([B, H]),
      ];
      const fwd = seq.forward({ cell: 'gru', xp, b, u, h0, T, reverse: false, keep: false });
      const dy = tf.zeros([B, T + 1, H]);
      const before = tf.memory().numTensors;
      expect(() =>
        seq.backward({ cell: 'gru', dy, u, tape: fwd.tape, T, reverse: false, stepGrads: false }),
      ).toThrow(new RegExp(`s0 .*\\[${T * B}, ${H}\\]`));
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xp, b, u, h0, dy, fwd.packed, ...fwd.tape]);
    });
  });

  it('the float32 exp inside stays within 1e-6 relative of Math.exp through sigmoid and tanh', async () => {
    await on('wasm', () => {
      // One LSTM step with U = 0 and h_0 = c_0 = 0 turns xp into sigmoid/tanh of a sweep of inputs.
      const n = 400;
      const sweep = Float32Array.from({ length: 4 * n }, (_, k) => -40 + (80 * (k % n)) / n);
      const [xp, b, u, h0] = [
        tf.tensor2d(sweep, [1, 4 * n]),
        tf.zeros([4 * n]),
        tf.zeros([n, 4 * n]),
        tf.zeros([1, n]),
      ];
      const fwd = recurrentSequenceKernels()!.forward({
        cell: 'lstm',
        xp,
        b,
        u,
        h0,
        T: 1,
        reverse: false,
        keep: true,
      });
      const [i, , g] = fwd.tape.slice(2).map((t) => t.dataSync());
      let worst = 0;
      for (let k = 0; k < n; k++) {
        const x = sweep[k]!;
        worst = Math.max(worst, Math.abs(i![k]! - sig(x)) / sig(x), Math.abs(g![k]! - Math.tanh(x)));
      }
      expect(worst).toBeLessThan(1e-6);
      tf.dispose([xp, b, u, h0, fwd.packed, ...fwd.tape]);
    });
  });
});
