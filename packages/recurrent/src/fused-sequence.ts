import * as tf from '@tensorflow/tfjs';
import { StateError } from '@gradflow/core';
import { recurrentSequenceKernels, type RecurrentSequenceKernels } from '@gradflow/backend-wasm';
import type { KernelKind } from './cells.js';
import type { ProbeSink, SequenceKernelInputs } from './kernels.js';

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
 * runSequenceKernel on the fused path: the packed output `[B, T+S, H]`. The input projection
 * `x W` is one ordinary tfjs matmul outside the custom op, so tfjs's own gradients give
 * `dW = xᵀ dXp` and compute `dx = dXp Wᵀ` only when something upstream needs it (a model's input
 * does not: that matmul was 7% of an LSTM training step). It runs on x in step order (time-major,
 * reversed for `reverse`), so each step of the kernels reads and writes one contiguous block of
 * xp and dXp. The custom op covers the time loop and the biases (the kernel adds b to every step's
 * gates and sums both biases' gradients as it goes, saving a pass over `[T*B, G*H]` each way): its
 * gradients are dXp, `dU = hsᵀ rows` (one matmul over all steps; the LSTM's rows are dXp), db,
 * the GRU's d rb and the initial states.
 */
export function fusedSequencePacked(
  seq: RecurrentSequenceKernels,
  t: SequenceKernelInputs,
  o: { cell: 'gru' | 'lstm'; reverse?: boolean; keep: boolean; probe?: ProbeSink | null },
): tf.Tensor {
  const [B, T, I] = t.x.shape as [number, number, number];
  const H = t.recurrentKernel.shape[0]!;
  const { cell } = o;
  const reverse = o.reverse ?? false;
  const probe = o.probe ?? null;
  const rb = t.recurrentBias;
  const xp = tf.tidy(() => {
    const timeMajor = tf.transpose(t.x, [1, 0, 2]);
    const steps = reverse ? tf.reverse(timeMajor, 0) : timeMajor;
    return tf.matMul(tf.reshape(steps, [T * B, I]), t.kernel);
  });
  const list = [xp, t.recurrentKernel, t.bias, ...(rb ? [rb] : []), t.h0, ...(t.c0 ? [t.c0] : [])];
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[list.length] as tf.GradSaveFunc;
    const { packed, hs, tape } = seq.forward({
      cell,
      xp,
      b: t.bias,
      u: t.recurrentKernel,
      h0: t.h0,
      c0: t.c0,
      rb,
      T,
      reverse,
      keep: o.keep,
    });
    if (probe) toTimeOrder(hs.dataSync() as Float32Array, T, B * H, reverse, probe.hidden, 1);
    // tfjs keeps (clones of) these until the backward pass has run; the originals go with the
    // customGrad's own scope.
    save([t.recurrentKernel, ...tape]);
    return {
      value: packed,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (!o.keep) {
          throw new StateError(
            'a recurrent kernel that ran outside a gradient computation kept no gates to backpropagate through',
          );
        }
        const [rk, ...kept] = saved as [tf.Tensor, ...tf.Tensor[]];
        return tf.tidy(() => {
          const back = seq.backward({ cell, dy, u: rk, tape: kept, T, reverse, stepGrads: probe !== null });
          if (probe) toTimeOrder(back.stepGrads!.dataSync() as Float32Array, T, B * H, reverse, probe.grads);
          const hPrev = tf.slice(kept[0]!, [0, 0], [T * B, H]);
          return [
            back.dxp,
            tf.matMul(hPrev, back.rows, true, false),
            back.db,
            ...(rb ? [back.drb!] : []),
            back.dh0,
            ...(back.dc0 ? [back.dc0] : []),
          ];
        });
      },
    };
  });
  const packed = op(...list) as tf.Tensor;
  xp.dispose();
  return packed;
}
