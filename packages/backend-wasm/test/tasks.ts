// Deterministic training tasks shared by the end-to-end test and the cpu fixture generator.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { resnetCifar, smallUnet } from './models.js';

export interface TrainTask {
  name: string;
  build: () => tf.LayersModel;
  x: { data: Float32Array; shape: number[] };
  y: { data: Float32Array; shape: number[] };
  loss: string;
  learningRate: number;
  steps: number;
}

function uniform(rng: Rng, n: number): Float32Array {
  return rng.fill(n, (r) => r.uniform(-1, 1));
}

function oneHot(rng: Rng, n: number, classes: number): Float32Array {
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) out[i * classes + rng.int(classes)] = 1;
  return out;
}

export const TASKS: TrainTask[] = (() => {
  const r1 = new Rng(1);
  const r2 = new Rng(2);
  const batch = 2;
  return [
    {
      name: 'resnet20',
      build: () => resnetCifar(3),
      x: { data: uniform(r1, batch * 32 * 32 * 3), shape: [batch, 32, 32, 3] },
      y: { data: oneHot(r1, batch, 10), shape: [batch, 10] },
      loss: 'categoricalCrossentropy',
      learningRate: 0.05,
      steps: 20,
    },
    {
      name: 'unet_small',
      build: () => smallUnet(16, 1, 8),
      x: { data: uniform(r2, batch * 16 * 16), shape: [batch, 16, 16, 1] },
      y: { data: r2.fill(batch * 16 * 16, (r) => (r.uniform() > 0.5 ? 1 : 0)), shape: [batch, 16, 16, 1] },
      loss: 'binaryCrossentropy',
      learningRate: 0.05,
      steps: 20,
    },
  ];
})();

/** Seeded initial weights: He-normal kernels, zero biases/betas/means, unit gammas/variances. */
export function seededWeights(model: tf.LayersModel, seed: number): tf.Tensor[] {
  const rng = new Rng(seed);
  return model.weights.map((w) => {
    const size = w.shape.reduce((p: number, d) => p * (d as number), 1);
    const name = w.originalName;
    if (/gamma|moving_variance/.test(name)) return tf.ones(w.shape as number[]);
    if (/beta|moving_mean|bias/.test(name)) return tf.zeros(w.shape as number[]);
    const fanIn = size / (w.shape[w.shape.length - 1] as number);
    const std = Math.sqrt(2 / fanIn);
    return tf.tensor(
      rng.fill(size, (r) => r.normal(0, std)),
      w.shape as number[],
    );
  });
}

/** Trains `task` on the active backend from the seeded weights; returns the losses (disposes everything). */
export async function trainTask(task: TrainTask): Promise<number[]> {
  const model = task.build();
  const init = seededWeights(model, 7);
  model.setWeights(init);
  tf.dispose(init);
  model.compile({ optimizer: tf.train.sgd(task.learningRate), loss: task.loss });
  const x = tf.tensor(task.x.data, task.x.shape);
  const y = tf.tensor(task.y.data, task.y.shape);
  const losses: number[] = [];
  for (let s = 0; s < task.steps; s++) losses.push((await model.trainOnBatch(x, y)) as number);
  tf.dispose([x, y]);
  model.optimizer.dispose();
  model.dispose();
  return losses;
}
