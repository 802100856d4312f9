import * as tf from '@tensorflow/tfjs';
import { StateError } from '@gradflow/core';
import { recurrentSequenceKernels, type RecurrentSequenceKernels } from '@gradflow/backend-wasm';
import type { KernelKind } from './cells.js';
import type { ProbeSink } from './kernels.js';

/**
 * @gradflow/backend-wasm's sequence kernels for `kind` on the active backend: a GRU (reset after)
 * or LSTM layer's whole time loop, forward and backward, one kernel call each, with the states and
 * gates left in the wasm heap between the two. Null where kernels.ts's JavaScript loops run instead
 * (they stay the reference): other backends, the other cells, masked sequences.
 */
export function fusedSequence(kind: KernelKind, masked: boolean): RecurrentSequenceKernels | null {
  if (masked || (kind !== 'gru' && kind !== 'lstm')) return null;
  return recurrentSequenceKernels();
}

interface FusedInputs {
  x: tf.Tensor;
  kernel: tf.Tensor;
  rk: tf.Tensor;
  bias: tf.Tensor;
  rb: tf.Tensor | null;
  h0: tf.Tensor;
  c0: tf.Tensor | null;
}

/** Copies `[T*B*H]` step-ordered blocks out to per-time arrays (`sink[t]`). */
function toTimeOrder(
  data: Float32Array,
  T: number,
  BH: number,
  reverse: boolean,
  sink: Float32Array[],
  from = 0,
) {
  for (let s = 0; s < T; s++)
    sink[reverse ? T - 1 - s : s] = data.slice((s + from) * BH, (s + from + 1) * BH);
}

/**
 * The body of runSequenceKernel's `tf.customGrad` on the fused path: the packed output and its
 * gradient function. The input projection is one matmul; the weight gradients are a few more over
 * all steps (`dx = dXp Wᵀ`, `dW = xᵀ dXp`, `dU = hsᵀ rows`, biases as column sums), run by the
 * backend's transposed-operand GEMM.
 */
export function fusedSequenceOp(
  seq: RecurrentSequenceKernels,
  t: FusedInputs,
  save: tf.GradSaveFunc,
  o: { cell: 'gru' | 'lstm'; reverse: boolean; keep: boolean; probe: ProbeSink | null },
): { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] } {
  const [B, T, I] = t.x.shape as [number, number, number];
  const H = t.rk.shape[0]!;
  const { cell, reverse, probe } = o;
  const xp = tf.tidy(() => tf.add(tf.matMul(tf.reshape(t.x, [B * T, I]), t.kernel), t.bias));
  const { packed, hs, tape } = seq.forward({
    cell,
    xp,
    u: t.rk,
    h0: t.h0,
    c0: t.c0,
    rb: t.rb,
    T,
    reverse,
    keep: o.keep,
  });
  xp.dispose();
  if (probe) toTimeOrder(hs.dataSync() as Float32Array, T, B * H, reverse, probe.hidden, 1);
  // tfjs keeps (clones of) these until the backward pass has run; the originals go with the
  // customGrad's own scope.
  save([t.x, t.kernel, t.rk, ...tape]);
  return {
    value: packed,
    gradFunc: (dy, saved) => {
      if (!o.keep) {
        throw new StateError(
          'a recurrent kernel that ran outside a gradient computation kept no gates to backpropagate through',
        );
      }
      const [x, kernel, rk, ...kept] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, ...tf.Tensor[]];
      return tf.tidy(() => {
        const back = seq.backward({ cell, dy, u: rk, tape: kept, T, reverse, stepGrads: probe !== null });
        if (probe) toTimeOrder(back.stepGrads!.dataSync() as Float32Array, T, B * H, reverse, probe.grads);
        const hPrev = tf.slice(kept[0]!, [0, 0], [T * B, H]);
        return [
          tf.reshape(tf.matMul(back.dxp, kernel, false, true), [B, T, I]),
          tf.matMul(tf.reshape(x, [B * T, I]), back.dxp, true, false),
          tf.matMul(hPrev, back.rows, true, false),
          tf.sum(back.dxp, 0),
          ...(t.rb ? [tf.sum(back.rows, 0)] : []),
          back.dh0,
          ...(back.dc0 ? [back.dc0] : []),
        ];
      });
    },
  };
}
