import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, StateError, UnknownNameError } from '@gradflow/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../src/index.js';
import { classificationBatch, mlp, weightValues } from './models.js';

/** Runs `fn`, expects it to reject with `type`, and checks weights and tensor count are unchanged. */
async function expectUntouched(
  model: tf.LayersModel,
  fn: () => Promise<unknown>,
  type: new (...a: never[]) => Error,
) {
  const weights = weightValues(model);
  const n = tf.memory().numTensors;
  await expect(fn()).rejects.toBeInstanceOf(type);
  expect(tf.memory().numTensors).toBe(n);
  weightValues(model).forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(weights[i]!)));
}

describe('bad input: typed errors, model untouched', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const model = mlp({
    depth: 3,
    width: 8,
    activation: 'relu',
    std: 0.3,
    inputDim: 5,
    classes: 3,
    name: 'small',
  });

  it('a model with no trainable weights', async () => {
    const frozen = mlp({
      depth: 2,
      width: 4,
      activation: 'relu',
      std: 0.3,
      inputDim: 5,
      classes: 3,
      name: 'frozen',
    });
    frozen.layers.forEach((l) => (l.trainable = false));
    const { x, y } = classificationBatch(4, 5, 3);
    await expectUntouched(
      frozen,
      () => probe(frozen, { x, y }, { loss: 'categorical_crossentropy' }),
      StateError,
    );
    tf.dispose([x, y]);
  });

  it('not a model', async () => {
    await expect(probe({} as tf.LayersModel, { x: tf.zeros([1]), y: tf.zeros([1]) })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('a batch whose shape does not match the model input', async () => {
    const x = tf.zeros([4, 6]);
    const y = tf.zeros([4, 3]);
    await expectUntouched(
      model,
      () => probe(model, { x, y }, { loss: 'categorical_crossentropy' }),
      ShapeError,
    );
    const x3 = tf.zeros([4, 5, 1]);
    await expectUntouched(
      model,
      () => probe(model, { x: x3, y }, { loss: 'categorical_crossentropy' }),
      ShapeError,
    );
    const xOk = tf.zeros([4, 5]);
    const yShort = tf.zeros([3, 3]);
    await expectUntouched(
      model,
      () => probe(model, { x: xOk, y: yShort }, { loss: 'categorical_crossentropy' }),
      ShapeError,
    );
    tf.dispose([x, y, x3, xOk, yShort]);
  });

  it('labels that do not match the loss', async () => {
    const x = tf.zeros([4, 5]);
    // class indices given to a one-hot loss
    const indices = tf.tensor1d([0, 1, 2, 1]);
    await expectUntouched(
      model,
      () => probe(model, { x, y: indices }, { loss: 'categorical_crossentropy' }),
      ShapeError,
    );
    // one-hot given to the sparse loss
    const onehot = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    await expectUntouched(
      model,
      () => probe(model, { x, y: onehot }, { loss: 'sparse_categorical_crossentropy' }),
      ShapeError,
    );
    // class index out of range, and non-integral
    const big = tf.tensor1d([0, 1, 7, 1]);
    await expectUntouched(
      model,
      () => probe(model, { x, y: big }, { loss: 'sparse_categorical_crossentropy' }),
      InvalidArgumentError,
    );
    const frac = tf.tensor1d([0, 1, 0.5, 1]);
    await expectUntouched(
      model,
      () => probe(model, { x, y: frac }, { loss: 'sparseCategoricalCrossentropy' }),
      InvalidArgumentError,
    );
    // probabilities outside [0, 1] for a cross-entropy
    const neg = tf.fill([4, 3], -1);
    await expectUntouched(
      model,
      () => probe(model, { x, y: neg }, { loss: 'binary_crossentropy' }),
      InvalidArgumentError,
    );
    // an unknown loss name, with a suggestion
    await expectUntouched(
      model,
      () => probe(model, { x, y: onehot }, { loss: 'categorical_crossentrop' }),
      UnknownNameError,
    );
    // an uncompiled model and no loss
    await expectUntouched(model, () => probe(model, { x, y: onehot }), StateError);
    tf.dispose([x, indices, onehot, big, frac, neg]);
  });

  it('the sparse loss accepts class indices', async () => {
    const x = tf.randomNormal([4, 5]);
    const y = tf.tensor1d([0, 1, 2, 1]);
    const r = await probe(model, { x, y }, { loss: 'sparse_categorical_crossentropy' });
    const onehot = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const r2 = await probe(model, { x, y: onehot }, { loss: 'categorical_crossentropy' });
    expect(r.loss).toBeCloseTo(r2.loss, 5);
    tf.dispose([x, y, onehot]);
  });

  it('an empty batch', async () => {
    const x = tf.zeros([0, 5]);
    const y = tf.zeros([0, 3]);
    await expectUntouched(
      model,
      () => probe(model, { x, y }, { loss: 'categorical_crossentropy' }),
      InvalidArgumentError,
    );
    tf.dispose([x, y]);
  });

  it('non-finite inputs, disposed tensors, wrong tensor counts, bad options', async () => {
    const x = tf.fill([2, 5], NaN);
    const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 3);
    await expectUntouched(
      model,
      () => probe(model, { x, y }, { loss: 'categorical_crossentropy' }),
      InvalidArgumentError,
    );
    const gone = tf.zeros([2, 5]);
    gone.dispose();
    await expectUntouched(
      model,
      () => probe(model, { x: gone, y }, { loss: 'categorical_crossentropy' }),
      InvalidArgumentError,
    );
    const ok = tf.zeros([2, 5]);
    await expectUntouched(
      model,
      () => probe(model, { x: [ok, ok], y }, { loss: 'categorical_crossentropy' }),
      InvalidArgumentError,
    );
    await expectUntouched(
      model,
      () => probe(model, { x: ok, y }, { loss: 'mse', thresholds: { deadFraction: NaN } }),
      InvalidArgumentError,
    );
    await expectUntouched(
      model,
      () => probe(model, { x: ok, y }, { loss: 'mse', learningRate: -1 }),
      InvalidArgumentError,
    );
    tf.dispose([x, y, ok]);
  });
});
