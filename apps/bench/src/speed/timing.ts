export interface Timing {
  medianMs: number;
  samplesMs: number[];
}

/**
 * Median wall time of `fn` after `warmup` untimed calls (V8 tiers wasm and JS up during the first
 * calls, and tfjs compiles kernels lazily). `fn` must finish its work before returning (read a
 * value back) so asynchronous backends are timed fairly.
 */
export async function timeIt(
  fn: () => unknown,
  options: { warmup: number; repeats: number },
): Promise<Timing> {
  for (let i = 0; i < options.warmup; i++) await fn();
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
