/**
 * One speed measurement in its own process: a runner (backend set-up) × a model. Separate
 * processes keep runners honest: kernels registered by @gradflow/backend-wasm are global, and
 * a wasm module's thread count is fixed when it starts. Prints one JSON line (a Measurement).
 * The measurement itself (measure.ts) is the one the browser page runs too.
 */
import * as tf from '@tensorflow/tfjs';
import { measureModel, speedModel } from './measure.js';
import type { RunnerId } from './types.js';

async function setUp(runner: RunnerId): Promise<void> {
  if (runner === 'tfjs_cpu') {
    await tf.setBackend('cpu');
  } else if (runner === 'stock_wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
  } else {
    const { useWasmBackend } = await import('@gradflow/backend-wasm');
    const info = await useWasmBackend({ threads: runner === 'gradflow_wasm_2t' ? 2 : 1 });
    if (runner === 'gradflow_wasm_2t' && !info.threads)
      throw new Error(`threads unavailable: ${JSON.stringify(info)}`);
  }
  await tf.ready();
}

async function measure(runner: RunnerId, modelId: string, repeats: number, warmup: number, batch?: number) {
  speedModel(modelId);
  await setUp(runner);
  return measureModel(modelId, repeats, warmup, batch);
}

/**
 * Prints the one JSON line, then exits: the suite waits for this process to close, and a failed
 * measurement may leave a wasm module (and its pool threads) in a state where nothing else would
 * end it.
 */
function report(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

const [runner, modelId, repeats = '5', warmup = '2', batch] = process.argv.slice(2);
measure(
  runner as RunnerId,
  modelId!,
  Number(repeats),
  Number(warmup),
  batch ? Number(batch) : undefined,
).then(report, (error: unknown) =>
  report({
    note: `failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200),
    gflopPerStep: 0,
  }),
);
