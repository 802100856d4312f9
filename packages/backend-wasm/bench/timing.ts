// Timing helpers shared by the bench scripts.
import * as tf from '@tensorflow/tfjs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * Median ms of `fn` (which returns tensors, disposed untimed) after `warm` untimed calls.
 *
 * Nothing is read back inside the timing: the wasm and cpu backends run a kernel synchronously, so
 * its output is complete when it returns. Reading it back would add a copy into a fresh JS array
 * that grows with the output, not with the work; it made a 1x1 stride-2 input gradient (output 4x
 * the size of its forward's, for the same FLOPs) look 2x slower than it is.
 */
export function timeIt(fn: () => tf.Tensor | tf.Tensor[], reps: number, warm = 5): number {
  if (tf.getBackend() !== 'wasm' && tf.getBackend() !== 'cpu') {
    throw new Error(`timeIt times synchronous backends only (wasm, cpu), not ${tf.getBackend()}`);
  }
  for (let i = 0; i < warm; i++) tf.dispose(fn());
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = fn();
    ts.push(performance.now() - t0);
    tf.dispose(out);
  }
  return median(ts);
}
