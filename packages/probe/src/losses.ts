import * as tf from '@tensorflow/tfjs';
import { Registry } from '@gradflow/core';

/** How labels must look for a loss (checked before anything runs). */
export type LabelKind =
  /** same shape as the model output */
  | 'same'
  /** same shape, values in [0, 1] */
  | 'probabilities'
  /** class indices: shape [batch] or [batch, 1], integers in [0, classes) */
  | 'indices';

/** A loss of {@link LOSSES}: its label requirement, its function and one line for docs. */
export interface LossSpec {
  /** What the labels must look like (checked before the probe runs). */
  labels: LabelKind;
  /** Per-example (or per-element) loss; the probe takes its mean, as `model.fit` does. */
  fn: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;
  /** One line for docs. */
  doc: string;
}

/**
 * Losses by name (snake_case; camelCase and Keras names are accepted by `resolveLossName`).
 * They follow tfjs-layers / Keras semantics: the mean over the batch of a per-example loss.
 *
 * @example
 * ```ts
 * const mse = LOSSES.get('mean_squared_error');
 * const yTrue = tf.tensor2d([[1, 2], [0, 0]]);
 * const yPred = tf.tensor2d([[1, 4], [0, 0]]);
 * const perExample = mse.fn(yTrue, yPred); // [(0 + 4) / 2, 0]
 * if (perExample.dataSync().join() !== '2,0' || mse.labels !== 'same') throw new Error(String(perExample.dataSync()));
 * if (!LOSSES.has('sparse_categorical_crossentropy')) throw new Error('sparse labels');
 * tf.dispose([yTrue, yPred, perExample]);
 * ```
 */
export const LOSSES = new Registry<LossSpec>(
  'loss',
  {
    mean_squared_error: {
      labels: 'same',
      fn: (t, p) => tf.metrics.meanSquaredError(t, p),
      doc: 'mean((y - p)^2)',
    },
    mean_absolute_error: {
      labels: 'same',
      fn: (t, p) => tf.metrics.meanAbsoluteError(t, p),
      doc: 'mean(|y - p|)',
    },
    binary_crossentropy: {
      labels: 'probabilities',
      fn: (t, p) => tf.metrics.binaryCrossentropy(t, p),
      doc: 'on probabilities (sigmoid outputs)',
    },
    categorical_crossentropy: {
      labels: 'probabilities',
      fn: (t, p) => tf.metrics.categoricalCrossentropy(t, p),
      doc: 'one-hot labels, softmax outputs',
    },
    sparse_categorical_crossentropy: {
      labels: 'indices',
      fn: (t, p) =>
        tf.metrics.categoricalCrossentropy(
          tf.oneHot(tf.cast(tf.reshape(t, [-1]), 'int32'), p.shape[p.rank - 1]!),
          p,
        ),
      doc: 'class-index labels, softmax outputs',
    },
    softmax_cross_entropy: {
      labels: 'probabilities',
      fn: (t, p) => tf.losses.softmaxCrossEntropy(t, p, undefined, undefined, tf.Reduction.NONE),
      doc: 'one-hot labels, logits outputs (no softmax layer)',
    },
    sigmoid_cross_entropy: {
      labels: 'probabilities',
      fn: (t, p) => tf.losses.sigmoidCrossEntropy(t, p, undefined, undefined, tf.Reduction.NONE),
      doc: 'binary labels, logits outputs',
    },
    huber: {
      labels: 'same',
      fn: (t, p) => tf.losses.huberLoss(t, p, undefined, undefined, tf.Reduction.NONE),
      doc: 'Huber loss, delta 1',
    },
  },
  { hint: 'see LOSSES.list(), or pass a function (yTrue, yPred) => loss' },
);

const ALIASES: Readonly<Record<string, string>> = {
  mse: 'mean_squared_error',
  mae: 'mean_absolute_error',
  bce: 'binary_crossentropy',
  categorical_cross_entropy: 'categorical_crossentropy',
  sparse_categorical_cross_entropy: 'sparse_categorical_crossentropy',
  binary_cross_entropy: 'binary_crossentropy',
  huber_loss: 'huber',
};

/**
 * `meanSquaredError`, `mean_squared_error`, `mse` -> `mean_squared_error`.
 *
 * @example
 * ```ts
 * for (const name of ['meanSquaredError', 'mean_squared_error', 'mse']) {
 *   if (resolveLossName(name) !== 'mean_squared_error') throw new Error(name);
 * }
 * if (resolveLossName('categoricalCrossentropy') !== 'categorical_crossentropy') throw new Error('camelCase');
 * ```
 */
export function resolveLossName(name: string): string {
  const snake = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  return ALIASES[snake] ?? snake;
}
