import * as tf from '@tensorflow/tfjs';
import { gradflowKernelsRegistered } from './kernels.js';
import {
  CELL_LAYOUT,
  RECURRENT_BACKWARD_KERNEL,
  RECURRENT_FORWARD_KERNEL,
  type FusedCell,
} from './kernels/recurrent.js';

export type { FusedCell };

/** The forward pass of a GRU (reset after, PyTorch/Keras 3) or LSTM layer over one sequence. */
export interface RecurrentForwardArgs {
  cell: FusedCell;
  /**
   * The input projection x W for every step, `[T*B, G*H]` in step order (G = 3 or 4 gates): row
   * s*B+b is batch row b at step s, which is time s, or T-1-s with `reverse`. Each step then
   * reads one contiguous block.
   */
  xp: tf.Tensor;
  /** The input bias `[G*H]`, added to xp inside the kernel. */
  b: tf.Tensor;
  /** The recurrent kernel U, `[H, G*H]` (gate order r,z,n or i,f,g,o). */
  u: tf.Tensor;
  /** The initial state `[B, H]` (and the LSTM's initial cell state). */
  h0: tf.Tensor;
  c0?: tf.Tensor | null;
  /** The GRU's recurrent bias `[3H]` (added to h U inside the reset gate), if any. */
  rb?: tf.Tensor | null;
  /** Time steps (`xp` has T*B rows). */
  T: number;
  /** Run t = T-1 ... 0 (the backward direction of a bidirectional layer). */
  reverse: boolean;
  /** Keep every step's gates for `backward` (else only one step's: inference). */
  keep: boolean;
}

/** What `forward` returns: the layer's output and what `backward` will read. */
export interface RecurrentForwardResult {
  /** `[B, T+S, H]`: h_t for each t, then the final h (and, for the LSTM, the final c). */
  packed: tf.Tensor;
  /** States in step order, `[(T+1)*B, H]`, the initial state first (block s is the input of step s). */
  hs: tf.Tensor;
  /** What `backward` reads: `hs`, the LSTM's cell states, the gate stash. Dispose when done. */
  tape: tf.Tensor[];
}

/** What `backward` returns: the gradients the layer's weight and input gradients are made of. */
export interface RecurrentBackwardResult {
  /** d loss / d (x W + b), `[T*B, G*H]` in xp's step order: dx = dxp Wᵀ, dW = xᵀ dxp. */
  dxp: tf.Tensor;
  /**
   * The gradients against h_{t−1} U, `[T*B, G*H]` in step order: dU = hs[0..T)ᵀ rows. The LSTM's
   * are its dxp (this is the same tensor); the GRU's differ (its reset gate holds the recurrent
   * bias and multiplies h_{t−1} U).
   */
  rows: tf.Tensor;
  dh0: tf.Tensor;
  dc0: tf.Tensor | null;
  /** The input bias's gradient `[G*H]` (Σ dxp rows, summed in the kernel). */
  db: tf.Tensor;
  /** The GRU's recurrent bias's gradient `[G*H]` (Σ rows); null for the LSTM. */
  drb: tf.Tensor | null;
  /** d loss / d h_t per step, `[T*B, H]` in step order, when asked for (the probe). */
  stepGrads: tf.Tensor | null;
}

/**
 * A GRU or LSTM layer's time loop as two kernels of gradflow's own on wasm (wasm/gates.c): per step
 * the recurrent matmul (the GEMM behind `BatchMatMul`) and the gate math fused in SIMD, with no
 * JavaScript between steps and no copies out of the wasm heap.
 */
export interface RecurrentSequenceKernels {
  forward(args: RecurrentForwardArgs): RecurrentForwardResult;
  backward(args: {
    cell: FusedCell;
    /** Gradient of `packed`. */
    dy: tf.Tensor;
    u: tf.Tensor;
    /** The forward pass's `tape` (run with `keep`). */
    tape: tf.Tensor[];
    T: number;
    reverse: boolean;
    stepGrads: boolean;
  }): RecurrentBackwardResult;
}

/**
 * The fused sequence kernels on the active backend, or null when it is not 'wasm' with gradflow's
 * kernels registered (callers then run their own loops).
 *
 * @example
 * ```ts
 * await useWasmBackend();
 * const seq = recurrentSequenceKernels();
 * if (!seq) throw new Error('expected the wasm sequence kernels');
 * // A GRU of one unit over one step with U = 0 and a zero input projection and bias: r = z = 1/2,
 * // n = tanh(0) = 0, so h_1 = h_0 / 2.
 * const [xp, b, u, h0] = [tf.zeros([1, 3]), tf.zeros([3]), tf.zeros([1, 3]), tf.tensor2d([[0.8]])];
 * const { packed, tape } = seq.forward({ cell: 'gru', xp, b, u, h0, T: 1, reverse: false, keep: false });
 * const h1 = packed.dataSync()[0]!;
 * if (Math.abs(h1 - 0.4) > 1e-6) throw new Error(`h = ${h1}`);
 * tf.dispose([xp, b, u, h0, packed, ...tape]);
 * await tf.setBackend('cpu');
 * ```
 */
export function recurrentSequenceKernels(): RecurrentSequenceKernels | null {
  if (tf.getBackend() !== 'wasm' || !gradflowKernelsRegistered()) return null;
  return {
    forward({ cell, xp, b, u, h0, c0, rb, T, reverse, keep }) {
      const inputs: tf.NamedTensorMap = { xp, b, u, h0 };
      if (cell === 'lstm') inputs.c0 = c0 ?? tf.zeros(h0.shape);
      if (cell === 'gru' && rb) inputs.rb = rb;
      const attrs = { cell, T, reverse, keep };
      const out = tf.engine().runKernel(RECURRENT_FORWARD_KERNEL, inputs, attrs) as tf.Tensor[];
      if (cell === 'lstm' && !c0) inputs.c0!.dispose();
      const [packed, ...tape] = out as [tf.Tensor, ...tf.Tensor[]];
      return { packed, hs: tape[0]!, tape };
    },
    backward({ cell, dy, u, tape, T, reverse, stepGrads }) {
      const { states } = CELL_LAYOUT[cell];
      const inputs: tf.NamedTensorMap = { dy, u, hs: tape[0]! };
      if (states === 2) inputs.cs = tape[1]!;
      tape.slice(states).forEach((t, k) => (inputs[`s${k}`] = t));
      const attrs = { cell, T, reverse, stepGrads };
      const out = tf.engine().runKernel(RECURRENT_BACKWARD_KERNEL, inputs, attrs) as tf.Tensor[];
      if (cell === 'gru') {
        const [dxp, rows, dh0, db, drb] = out as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return { dxp, rows, dh0, dc0: null, db, drb, stepGrads: stepGrads ? out[5]! : null };
      }
      const [dxp, dh0, dc0, db] = out as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      return { dxp, rows: dxp, dh0, dc0, db, drb: null, stepGrads: stepGrads ? out[4]! : null };
    },
  };
}
