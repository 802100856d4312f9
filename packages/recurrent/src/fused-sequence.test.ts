import * as tf from '@tensorflow/tfjs';
import { withBackend } from '@gradflow/testing';
import { describe, expect, it } from 'vitest';
import { fusedSequence } from './fused-sequence.js';
import { gruLayer, lstmLayer } from './layer.js';

// The torch-parity suite runs every GRU/LSTM case on wasm too; this pins down that those runs take
// the fused path (and that the JavaScript loops keep the cases the kernels do not cover).
describe('fusedSequence', () => {
  it('is used for GRU (reset after) and LSTM on wasm, and nowhere else', async () => {
    await withBackend('wasm', () => {
      expect(fusedSequence('gru', false)).not.toBeNull();
      expect(fusedSequence('lstm', false)).not.toBeNull();
      expect(fusedSequence('gru', true)).toBeNull();
      expect(fusedSequence('gru_cho', false)).toBeNull();
      expect(fusedSequence('tanh', false)).toBeNull();
    });
    await withBackend('cpu', () => {
      expect(fusedSequence('gru', false)).toBeNull();
    });
  });
});

describe('the fused path in training', () => {
  it('200 steps (bidirectional GRU, stacked LSTM) keep the tensor count, bytes and wasm heap', async () => {
    await withBackend('wasm', () => {
      const input = tf.input({ shape: [12, 5] });
      const h = gruLayer({ units: 8, bidirectional: true, returnSequences: true }).apply(
        input,
      ) as tf.SymbolicTensor;
      const y = lstmLayer({ units: 8, numLayers: 2 }).apply(h) as tf.SymbolicTensor;
      const model = tf.model({
        inputs: input,
        outputs: tf.layers.dense({ units: 1 }).apply(y) as tf.SymbolicTensor,
      });
      const x = tf.randomNormal([3, 12, 5], 0, 1, 'float32', 1);
      const target = tf.randomNormal([3, 1], 0, 1, 'float32', 2);
      const optimizer = tf.train.adam(0.01);
      const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
      const step = () => {
        const loss = optimizer.minimize(
          () => tf.losses.meanSquaredError(target, model.apply(x) as tf.Tensor) as tf.Scalar,
          true,
        )!;
        loss.dispose();
        // Inference too: it keeps one step of gates, which must go with the call.
        tf.dispose(model.predict(x));
      };
      for (let i = 0; i < 5; i++) step();
      const [tensors, bytes, heapBytes] = [tf.memory().numTensors, tf.memory().numBytes, heap()];
      for (let i = 0; i < 200; i++) step();
      expect([tf.memory().numTensors, tf.memory().numBytes, heap()]).toEqual([tensors, bytes, heapBytes]);
      optimizer.dispose();
      tf.dispose([x, target]);
      model.dispose();
    });
  });
});

describe('the input projection', () => {
  // Counting matmuls: the forward projection, dW and dU; a fourth (dx = dXp Wᵀ) only when x
  // itself needs a gradient.
  const matMulsInStep = async (xIsVariable: boolean) =>
    withBackend('wasm', async () => {
      const layer = lstmLayer({ units: 6 });
      const x0 = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 3);
      const x = xIsVariable ? tf.variable(x0) : x0;
      tf.dispose(layer.apply(x) as tf.Tensor);
      const variables = [...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
      if (xIsVariable) variables.push(x as tf.Variable);
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor), variables);
        tf.dispose([value, ...Object.values(grads)]);
      });
      tf.dispose(xIsVariable ? [x0, x] : x0);
      layer.dispose();
      return profile.kernels.filter((k) => k.name === 'BatchMatMul').length;
    });

  it('computes dx only when x needs a gradient', async () => {
    expect(await matMulsInStep(false)).toBe(3);
    expect(await matMulsInStep(true)).toBe(4);
  });
});
