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
  const { medianMs } = await timeIt(
    () => {
      const c = matMul(a, b);
      c.dataSync();
      c.dispose();
    },
    { warmup: 3, repeats: 7 },
  );
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
