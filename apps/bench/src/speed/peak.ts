/**
 * The machine's ceiling, measured in its own process on gradflow's wasm backend (one thread):
 * the SIMD multiply-add peak and the throughput of a large square GEMM (512³), which is what
 * every model's GFLOP/s is compared with, and which build of gradflow's kernels ran (the relaxed-SIMD
 * build's fused multiply-add raises both). Prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import { matMul, simdPeakGflops, useWasmBackend } from '@gradflow/backend-wasm';
import { timeIt } from './timing.js';

async function main(): Promise<{ gflops: number; simdPeakGflops: number; kernelVariant: string | null }> {
  const { kernelVariant } = await useWasmBackend();
  const n = 512;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  // No read-back: wasm kernels are synchronous, and a 1 MB copy is not GEMM work. Ten warm-up
  // calls: V8 swaps in optimized wasm between calls, and with three a run once measured 28.5
  // GFLOP/s where the next ones measured 40-43.
  const { medianMs } = await timeIt(() => tf.dispose(matMul(a, b)), { warmup: 10, repeats: 15 });
  tf.dispose([a, b]);
  return { gflops: (2 * n ** 3) / (medianMs * 1e6), simdPeakGflops: simdPeakGflops(), kernelVariant };
}

main().then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (error: unknown) =>
    process.stdout.write(
      `${JSON.stringify({ note: `peak not measured: ${error instanceof Error ? error.message : String(error)}` })}\n`,
    ),
);
