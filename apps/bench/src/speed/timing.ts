export interface Timing {
  medianMs: number;
  samplesMs: number[];
}

/**
 * Warm-up time on top of the warm-up calls (unless there are none). V8 compiles optimized JS in
 * background threads; with two busy threads of our own on a 2-core machine that took about 2 s
 * (a ResNet-20 step on 2 threads went from 190 to 145 ms over its first dozen steps).
 */
const WARMUP_MS = 2500;

/**
 * Median wall time of `fn` after `warmup` untimed calls and, when `warmup` > 0, at least WARMUP_MS
 * of them (V8 tiers wasm and JS up during the first calls, and tfjs compiles kernels lazily).
 * `fn` must finish its work before returning (read a value back) so asynchronous backends are
 * timed fairly.
 */
export async function timeIt(
  fn: () => unknown,
  options: { warmup: number; repeats: number },
): Promise<Timing> {
  const warmUntil = performance.now() + (options.warmup > 0 ? WARMUP_MS : 0);
  for (let i = 0; i < options.warmup || performance.now() < warmUntil; i++) await fn();
  const samplesMs: number[] = [];
  for (let i = 0; i < options.repeats; i++) {
    const start = performance.now();
    await fn();
    samplesMs.push(performance.now() - start);
  }
  return { medianMs: median(samplesMs), samplesMs };
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
