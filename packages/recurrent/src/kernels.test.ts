import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectAllClose, withBackend } from '@gradflow/testing';
import type { KernelKind } from './cells.js';
import { GATES, STATES, runSequenceKernel } from './kernels.js';

const KINDS: KernelKind[] = ['tanh', 'relu', 'gru', 'gru_cho', 'lstm'];

function inputs(kind: KernelKind, B: number, T: number, I: number, H: number) {
  const G = GATES[kind];
  return {
    x: tf.randomUniform([B, T, I], -1, 1, 'float32', 1),
    kernel: tf.randomUniform([I, G * H], -0.5, 0.5, 'float32', 2),
    recurrentKernel: tf.randomUniform([H, G * H], -0.5, 0.5, 'float32', 3),
    bias: tf.randomUniform([G * H], -0.5, 0.5, 'float32', 4),
    recurrentBias: kind === 'gru' ? tf.randomUniform([G * H], -0.5, 0.5, 'float32', 5) : null,
    h0: tf.randomUniform([B, H], -0.5, 0.5, 'float32', 6),
    c0: STATES[kind] === 2 ? tf.randomUniform([B, H], -0.5, 0.5, 'float32', 7) : null,
  };
}

describe('runSequenceKernel', () => {
  it('inference (no tape: one step of gates kept) gives the same outputs as training', async () => {
    await withBackend('cpu', () => {
      for (const kind of KINDS) {
        const args = inputs(kind, 3, 7, 2, 4);
        const mask = Float32Array.from({ length: 21 }, (_v, i) => (i % 7 < 7 - (i % 3) ? 1 : 0));
        for (const reverse of [false, true]) {
          const before = tf.memory().numTensors;
          const a = runSequenceKernel(args, { kind, reverse, mask });
          let b: tf.Tensor[] = [];
          const g = tf.grad((x: tf.Tensor) => {
            const r = runSequenceKernel({ ...args, x }, { kind, reverse, mask });
            b = [r.output, r.h, ...(r.c ? [r.c] : [])].map((t) => tf.keep(t.clone()));
            return tf.sum(r.output);
          })(args.x);
          [a.output, a.h, ...(a.c ? [a.c] : [])].forEach((t, i) =>
            expectAllClose(t, b[i]!, { rtol: 0, atol: 0 }, `${kind} ${i}`),
          );
          tf.dispose([a.output, a.h, ...(a.c ? [a.c] : []), ...b, g]);
          expect(tf.memory().numTensors).toBe(before);
        }
        tf.dispose(Object.values(args).filter((t): t is tf.Tensor => t !== null));
      }
    });
  });
});
