import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StateError } from '@gradflow/core';
import { backendsUnderTest, withBackend } from '@gradflow/testing';
import './register.js';
import { gruCell, lstmCell, simpleRnnCell } from './cells.js';
import { RecurrentLayer, gruLayer } from './layer.js';
import { sequenceGradientProfile } from './profile.js';

describe('sequenceGradientProfile', () => {
  // On wasm the GRU runs the fused sequence kernel, which returns every step's d loss / d h_t.
  it.each(backendsUnderTest())(
    'd loss / d h_t equals the gradient w.r.t. the state fed into the rest of the sequence (%s)',
    async (backend) => {
      await withBackend(backend, () => {
        const T = 6;
        const layer = new RecurrentLayer({ cell: gruCell({ units: 3 }), returnState: true });
        const x = tf.randomUniform([2, T, 2], -1, 1, 'float32', 11);
        const q = tf.randomUniform([2, 3], -1, 1, 'float32', 12);
        const loss = (y: tf.Tensor | tf.Tensor[]) => tf.sum(tf.mul((y as tf.Tensor[])[0]!, q)) as tf.Scalar;
        layer.apply(x); // build
        const before = tf.memory().numTensors;
        const profile = sequenceGradientProfile(layer, x, loss);
        expect(tf.memory().numTensors).toBe(before);
        expect(profile.hidden).toHaveLength(T);
        expect(profile.gradNorms).toHaveLength(T);
        expect(profile.tracks).toHaveLength(1);
        // At the last step the gradient is q itself.
        expect(profile.gradNorms[T - 1]).toBeCloseTo(Math.hypot(...q.dataSync()), 5);
        // Independent check at t = 2: run steps 3..T-1 from h_2 and differentiate w.r.t. h_2.
        const t = 2;
        const h2 = tf.tensor(profile.hidden[t]!, [2, 3]);
        const rest = tf.slice(x, [0, t + 1, 0], [2, T - t - 1, 2]);
        const g = tf.grad((h: tf.Tensor) => loss(layer.apply([rest, h]) as tf.Tensor[]))(h2);
        const expected = g.dataSync();
        profile.tracks[0]!.grads[t]!.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
        tf.dispose([x, q, h2, rest, g]);
        layer.weights.forEach((w) => w.dispose());
      });
    },
  );

  it('profiles every layer and direction of a model; gated cells keep the gradient alive', async () => {
    await withBackend('cpu', () => {
      const T = 40;
      const input = tf.input({ shape: [T, 2] });
      const h = gruLayer({ units: 4, bidirectional: true, returnSequences: true, name: 'enc' }).apply(
        input,
      ) as tf.SymbolicTensor;
      const y = new RecurrentLayer({ cell: lstmCell({ units: 4 }), name: 'dec' }).apply(
        h,
      ) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: y });
      const x = tf.randomUniform([3, T, 2], -1, 1, 'float32', 5);
      const before = tf.memory().numTensors;
      const p = sequenceGradientProfile(model, x, (out) => tf.mean(tf.square(out as tf.Tensor)) as tf.Scalar);
      expect(tf.memory().numTensors).toBe(before);
      expect(p.tracks.map((tr) => `${tr.layer}/${tr.depth}/${tr.direction}`)).toEqual([
        'enc/0/forward',
        'enc/0/backward',
        'dec/0/forward',
      ]);
      expect(p.gradNorms).toBe(p.tracks[2]!.gradNorms);
      expect(p.gradNorms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
      // Saturating tanh RNN with large weights: the gradient through time vanishes.
      const rnnIn = tf.input({ shape: [T, 2] });
      const rnn = tf.model({
        inputs: rnnIn,
        outputs: new RecurrentLayer({
          cell: simpleRnnCell({ units: 4, recurrentInitializer: { name: 'orthogonal', gain: 0.3 } }),
        }).apply(rnnIn) as tf.SymbolicTensor,
      });
      const vanishing = sequenceGradientProfile(
        rnn,
        x,
        (out) => tf.sum(out as tf.Tensor) as tf.Scalar,
      ).gradNorms;
      expect(vanishing[0]! / vanishing[T - 1]!).toBeLessThan(1e-6);
      x.dispose();
      model.dispose();
      rnn.dispose();
    });
  });

  it('bad use is a typed error and leaks nothing', async () => {
    await withBackend('cpu', () => {
      const dense = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
      const x = tf.ones([1, 2]);
      const before = tf.memory().numTensors;
      expect(() => sequenceGradientProfile(dense, x, (y) => tf.sum(y as tf.Tensor) as tf.Scalar)).toThrow(
        StateError,
      );
      expect(() => sequenceGradientProfile(dense, x, 'mse' as never)).toThrow(InvalidArgumentError);
      expect(() =>
        sequenceGradientProfile(
          new RecurrentLayer({ cell: gruCell({ units: 2 }) }),
          x,
          (y) => tf.sum(y as tf.Tensor) as tf.Scalar,
        ),
      ).toThrow(StateError);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      dense.dispose();
    });
  });
});
