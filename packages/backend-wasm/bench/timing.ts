// Timing helpers shared by the bench scripts.
import * as tf from '@tensorflow/tfjs';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median ms of `fn` (which returns tensors, read back and disposed) after `warm` untimed calls. */
export function timeIt(fn: () => tf.Tensor | tf.Tensor[], reps: number, warm = 5): number {
  for (let i = 0; i < warm; i++) tf.dispose(fn());
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const out = fn();
    (Array.isArray(out) ? out : [out]).forEach((t) => t.dataSync());
    ts.push(performance.now() - t0);
    tf.dispose(out);
  }
  return median(ts);
}
