import * as tf from '@tensorflow/tfjs';
import {
  DEFAULT_SEED,
  InvalidArgumentError,
  Rng,
  ShapeError,
  StateError,
  checkInteger,
} from '@gradflow/core';

/** How labels are encoded: one-hot float32 `[N, classes]` or integer class ids int32 `[N]`. */
export type LabelEncoding = 'onehot' | 'int';

/**
 * Examples as tensors: `x` (first axis = example) and `y` (targets, same first axis). The caller
 * owns both tensors; `dispose()` frees them.
 */
export interface Dataset {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
  /** Number of examples (`x.shape[0]`). */
  readonly size: number;
  /** Number of classes for classification sets; undefined for regression targets. */
  readonly numClasses?: number | undefined;
  dispose(): void;
}

/** A train/test pair. `dispose()` frees both. */
export interface SplitDataset<Extra = Record<string, never>> {
  readonly train: Dataset;
  readonly test: Dataset;
  readonly info: DatasetInfo & Extra;
  dispose(): void;
}

/** What a loaded train/test pair is: its registry name, the shape of one example and the label encoding. */
export interface DatasetInfo {
  /** Registry name of the dataset. */
  readonly name: string;
  /** Shape of one example (without the batch axis). */
  readonly inputShape: readonly number[];
  readonly numClasses?: number | undefined;
  readonly labels?: LabelEncoding | undefined;
}

/**
 * Wraps two tensors as a `Dataset`, checking that they have the same number of examples.
 *
 * @example
 * ```ts
 * const x = tf.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const y = tf.tensor1d([0, 1, 1, 0], 'int32');
 * const xor = makeDataset(x, y, 2);
 * if (xor.size !== 4) throw new Error('4 examples');
 * xor.dispose(); // frees x and y
 * ```
 */
export function makeDataset(x: tf.Tensor, y: tf.Tensor, numClasses?: number): Dataset {
  if (x.rank < 1 || y.rank < 1 || x.shape[0] !== y.shape[0]) {
    throw new ShapeError(
      'dataset targets',
      y.shape,
      `a first axis equal to the inputs' (${x.shape[0]})`,
      `inputs have shape [${x.shape.join(', ')}]`,
    );
  }
  let disposed = false;
  return {
    x,
    y,
    size: x.shape[0]!,
    numClasses,
    dispose() {
      if (disposed) return;
      disposed = true;
      x.dispose();
      y.dispose();
    },
  };
}

/**
 * Labels as a tensor in the requested encoding: one-hot float32 `[N, numClasses]` or int32 `[N]`.
 *
 * @example
 * ```ts
 * const onehot = encodeLabels([2, 0], 3, 'onehot');
 * const ids = encodeLabels([2, 0], 3, 'int');
 * if (onehot.arraySync().toString() !== '0,0,1,1,0,0') throw new Error('wrong one-hot');
 * if (ids.dtype !== 'int32') throw new Error('ids are int32');
 * tf.dispose([onehot, ids]);
 * ```
 */
export function encodeLabels(
  labels: ArrayLike<number>,
  numClasses: number,
  encoding: LabelEncoding,
): tf.Tensor {
  if (encoding === 'int') return tf.tensor1d(Int32Array.from(labels), 'int32');
  const out = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]!] = 1;
  return tf.tensor2d(out, [labels.length, numClasses], 'float32');
}

export function checkLabelEncoding(value: unknown): LabelEncoding {
  if (value !== 'onehot' && value !== 'int')
    throw new InvalidArgumentError('labels', value, "'onehot' or 'int'");
  return value;
}

/** A seed or a generator: functions that draw randomness take either. */
export type RandomSource = number | Rng;

export function toRng(source: RandomSource | undefined): Rng {
  if (source instanceof Rng) return source;
  return new Rng(source ?? DEFAULT_SEED);
}

/** Options of `batches()`. */
export interface BatchOptions {
  /** Examples per batch (the last one may be smaller unless `dropRemainder`). */
  batchSize: number;
  /** Reshuffle the order (seeded); default false. */
  shuffle?: boolean;
  /** Seed or generator for the shuffle; default `DEFAULT_SEED`. Pass an `Rng` to get a new order each epoch. */
  seed?: RandomSource;
  /** Drop a last batch smaller than `batchSize`; default false. */
  dropRemainder?: boolean;
}

/** One mini-batch: rows of `x` and `y` gathered together; the caller disposes both. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/**
 * One epoch of mini-batches. Each batch is made when it is requested (`tf.gather` of the
 * example indices), and the caller owns it: dispose `x` and `y` (or run the step inside
 * `tf.tidy`). Stopping early leaks nothing, because nothing is made ahead of time.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { Rng } from '@gradflow/core';
 * import { batches, spirals } from '@gradflow/data';
 *
 * const train = spirals({ n: 100 });
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], activation: 'softmax' })] });
 * model.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
 * const rng = new Rng(1); // a generator: a new order each epoch
 * for (let epoch = 0; epoch < 2; epoch++) {
 *   for (const { x, y } of batches(train, { batchSize: 32, shuffle: true, seed: rng })) {
 *     await model.trainOnBatch(x, y);
 *     tf.dispose([x, y]);
 *   }
 * }
 * model.dispose();
 * train.dispose();
 * ```
 */
export function* batches(
  dataset: Pick<Dataset, 'x' | 'y'>,
  options: BatchOptions,
): Generator<Batch, void, undefined> {
  const { x, y } = dataset;
  if (x.isDisposed || y.isDisposed) throw new StateError('cannot batch a dataset whose tensors are disposed');
  const size = x.shape[0];
  if (size === undefined || y.shape[0] !== size) {
    throw new ShapeError('dataset targets', y.shape, `a first axis equal to the inputs' (${size})`);
  }
  const batchSize = checkInteger('batchSize', options.batchSize);
  const order =
    (options.shuffle ?? false)
      ? toRng(options.seed).permutation(size)
      : Int32Array.from({ length: size }, (_, i) => i);
  const dropRemainder = options.dropRemainder ?? false;
  for (let start = 0; start < size; start += batchSize) {
    const end = Math.min(size, start + batchSize);
    if (dropRemainder && end - start < batchSize) return;
    const batch = tf.tidy(() => {
      const idx = tf.tensor1d(order.subarray(start, end), 'int32');
      return { x: tf.gather(x, idx), y: tf.gather(y, idx) };
    });
    yield batch;
  }
}

/**
 * Number of batches `batches()` yields for `size` examples.
 *
 * @example
 * ```ts
 * if (numBatches(100, 32) !== 4) throw new Error('ceil(100 / 32)');
 * if (numBatches(100, 32, true) !== 3) throw new Error('floor with dropRemainder');
 * ```
 */
export function numBatches(size: number, batchSize: number, dropRemainder = false): number {
  checkInteger('batchSize', batchSize);
  return dropRemainder ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}
