import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import type { ProgressBar } from './progress.js';

export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

export type LossFn = (labels: tf.Tensor, predictions: tf.Tensor) => tf.Scalar;

export const crossEntropy: LossFn = (labels, logits) =>
  tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
export const meanSquaredError: LossFn = (labels, predictions) =>
  tf.losses.meanSquaredError(labels, predictions) as tf.Scalar;

const READ_EVERY = 25;

export interface TrainOptions {
  steps: number;
  optimizer: tf.Optimizer;
  loss: LossFn;
  /** Gradient clipping by global norm (off by default). */
  clipNorm?: number;
  bar?: ProgressBar;
}

/**
 * A plain training loop (no `fit`, so every model and experiment trains the same way): one
 * optimizer step per batch, the loss of every step recorded. Non-finite losses are recorded and
 * training goes on, since a diverging run is itself a result.
 */
export function train(
  model: tf.LayersModel,
  nextBatch: (step: number) => Batch,
  options: TrainOptions,
): number[] {
  const losses: number[] = [];
  // Loss scalars stay on the device and are read back in groups: one sync per READ_EVERY steps
  // instead of one per step.
  let pending: tf.Scalar[] = [];
  const flush = () => {
    const values = tf.tidy(() => tf.stack(pending).dataSync());
    losses.push(...Array.from(values));
    options.bar?.tick(pending.length, `loss ${losses[losses.length - 1]!.toPrecision(3)}`);
    tf.dispose(pending);
    pending = [];
  };
  for (let step = 0; step < options.steps; step++) {
    const batch = nextBatch(step);
    const loss = tf.tidy(() => {
      const f = () => options.loss(batch.y, model.apply(batch.x, { training: true }) as tf.Tensor);
      if (options.clipNorm === undefined) return options.optimizer.minimize(f, true)!;
      const { value, grads } = tf.variableGrads(f);
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(options.clipNorm, tf.add(norm, 1e-12)));
      options.optimizer.applyGradients(
        Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, scale)])),
      );
      return value;
    });
    tf.dispose([batch.x, batch.y]);
    pending.push(loss as tf.Scalar);
    if (pending.length === READ_EVERY || step === options.steps - 1) flush();
  }
  return losses;
}

/** Seeded mini-batches drawn without replacement (reshuffled every epoch) from in-memory tensors. */
export function sampler(
  x: tf.Tensor,
  y: tf.Tensor,
  batchSize: number,
  seed: number,
): (step: number) => Batch {
  const n = x.shape[0]!;
  const rng = new Rng(seed);
  let order = rng.permutation(n);
  let cursor = 0;
  return () => {
    if (cursor + batchSize > n) {
      order = rng.permutation(n);
      cursor = 0;
    }
    const idx = tf.tensor1d(order.subarray(cursor, cursor + batchSize), 'int32');
    cursor += batchSize;
    const batch = { x: tf.gather(x, idx), y: tf.gather(y, idx) };
    idx.dispose();
    return batch;
  };
}

/** Mean of the last `k` finite values (a smoothed "final loss"). */
export function tailMean(values: number[], k: number): number {
  const tail = values.slice(-k).filter(Number.isFinite);
  return tail.length === 0 ? Number.NaN : tail.reduce((a, b) => a + b, 0) / tail.length;
}
