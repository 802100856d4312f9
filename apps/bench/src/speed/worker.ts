/**
 * One speed measurement in its own process: a runner (backend set-up) × a model. Separate
 * processes keep runners honest: kernels registered by @gradflow/backend-wasm are global, and
 * a wasm module's thread count is fixed when it starts. Prints one JSON line (a Measurement).
 */
import * as tf from '@tensorflow/tfjs';
import { createModel } from '@gradflow/zoo';
import { trainingStepGflop } from './flops.js';
import { SPEED_MODELS } from './models.js';
import { timeIt } from './timing.js';
import type { Measurement, RunnerId } from './types.js';

async function setUp(runner: RunnerId): Promise<void> {
  if (runner === 'tfjs_cpu') {
    await tf.setBackend('cpu');
  } else if (runner === 'stock_wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
  } else {
    const { useWasmBackend } = await import('@gradflow/backend-wasm');
    const info = await useWasmBackend({ threads: runner === 'gradflow_wasm_2t' ? 2 : 1 });
    if (runner === 'gradflow_wasm_2t' && !info.threads) throw new Error(`threads unavailable: ${JSON.stringify(info)}`);
  }
  await tf.ready();
}

async function measure(runner: RunnerId, modelId: string, repeats: number, warmup: number): Promise<Measurement & { gflopPerStep: number }> {
  const spec = SPEED_MODELS.find((m) => m.id === modelId);
  if (!spec) throw new Error(`unknown speed model ${modelId}`);
  await setUp(runner);
  const model = createModel(spec.zoo, { ...spec.options, inputShape: spec.inputShape, numClasses: 10 });
  const gflopPerStep = trainingStepGflop(model, spec.batch);
  const x = tf.randomNormal([spec.batch, ...spec.inputShape], 0, 1, 'float32', 1);
  const outShape = (model.outputs[0]!.shape.slice(1) as number[]);
  const labels = tf.oneHot(tf.randomUniform([spec.batch, ...outShape.slice(0, -1)], 0, outShape.at(-1)!, 'int32', 2), outShape.at(-1)!).toFloat();
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    loss.dataSync();
    loss.dispose();
  };
  try {
    const timing = await timeIt(step, { warmup, repeats });
    return { msPerStep: timing.medianMs, examplesPerSecond: (1000 * spec.batch) / timing.medianMs, gflopPerStep };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const kernel = /Kernel '(\w+)' not registered/.exec(message);
    return { note: kernel ? `cannot train (${kernel[1]} missing)` : `failed: ${message.slice(0, 120)}`, gflopPerStep };
  }
}

const [runner, modelId, repeats = '5', warmup = '2'] = process.argv.slice(2);
measure(runner as RunnerId, modelId!, Number(repeats), Number(warmup)).then(
  (m) => process.stdout.write(`${JSON.stringify(m)}\n`),
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ note: `failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200), gflopPerStep: 0 })}\n`);
  },
);
