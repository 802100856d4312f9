/** What the per-step loops read and write (typed arrays only, so the loops stay monomorphic). */
export interface StepContext {
  B: number;
  T: number;
  H: number;
  /** Forward: the input projection `[B*T, G*H]` (bias included). Unused backward. */
  xp: Float32Array;
  /** The reset-after GRU's recurrent bias `[G*H]`. */
  rbv: Float32Array | null;
  hs: Float32Array;
  cs: Float32Array | null;
  stash: Float32Array[];
  /** Offset between the stashes of two steps: B*H when recording for backprop, 0 (one reused step) otherwise. */
  stashStride: number;
  /** Forward: the outputs `[B*T, H]`. Backward: d input projection `[B*T, G*H]`. */
  out: Float32Array;
  mask: Float32Array | null;
}
