/**
 * The measurement itself, shared by the Node worker (worker.ts) and the browser page
 * (../browser/entry.ts) so both time exactly the same thing: the zoo model, a random batch, one
 * SGD-momentum training step (forward, softmax cross-entropy, backward, update, read the loss
 * back), median after warm-up. No node: imports here: this module is bundled for the browser.
 */
import * as tf from '@tensorflow/tfjs';
import { createModel } from '@gradflow/zoo';
import { trainingStepGflop } from './flops.js';
import { SPEED_MODELS, type SpeedModel } from './models.js';
import { timeIt } from './timing.js';
import type { Measurement } from './types.js';

export type ModelMeasurement = Measurement & { gflopPerStep: number };

export function speedModel(modelId: string): SpeedModel {
  const spec = SPEED_MODELS.find((m) => m.id === modelId);
  if (!spec)
    throw new Error(`unknown speed model ${modelId} (known: ${SPEED_MODELS.map((m) => m.id).join(', ')})`);
  return spec;
}

/** Why a step failed, shortened for a report cell. */
export function failureNote(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const kernel = /Kernel '(\w+)' not registered/.exec(message);
  return kernel ? `cannot train (${kernel[1]} missing)` : `failed: ${message.slice(0, 120)}`;
}

/**
 * Times `repeats` training steps of `modelId` after `warmup` untimed ones on the active tfjs
 * backend (set it up first), at the model's batch unless `batch` overrides it. A step that throws becomes a `note`, not an exception. Every tensor
 * the measurement creates is disposed before it returns.
 */
export async function measureModel(
  modelId: string,
  repeats: number,
  warmup: number,
  batch?: number,
): Promise<ModelMeasurement> {
  const spec = speedModel(modelId);
  const n = batch ?? spec.batch;
  const model = createModel(spec.zoo, { ...spec.options, inputShape: spec.inputShape, numClasses: 10 });
  const gflopPerStep = trainingStepGflop(model, spec.batch);
  const outShape = model.outputs[0]!.shape.slice(1) as number[];
  const classes = outShape.at(-1)!;
  const x = tf.randomNormal([n, ...spec.inputShape], 0, 1, 'float32', 1);
  const labels = tf.tidy(() =>
    tf.oneHot(tf.randomUniform([n, ...outShape.slice(0, -1)], 0, classes, 'int32', 2), classes).toFloat(),
  );
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = () => {
    const loss = optimizer.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
    )!;
    loss.dataSync();
    loss.dispose();
  };
  try {
    const timing = await timeIt(step, { warmup, repeats });
    return {
      msPerStep: timing.medianMs,
      examplesPerSecond: (1000 * n) / timing.medianMs,
      ...(n !== spec.batch ? { batch: n } : {}),
      gflopPerStep,
    };
  } catch (error) {
    return { note: failureNote(error), gflopPerStep };
  } finally {
    optimizer.dispose();
    // tfjs 4.22's MomentumOptimizer.dispose() skips SGDOptimizer's, which frees the learning-rate scalar.
    const learningRate = (optimizer as unknown as { c?: tf.Tensor }).c;
    if (learningRate && !learningRate.isDisposed) learningRate.dispose();
    tf.dispose([x, labels]);
    model.dispose();
  }
}
