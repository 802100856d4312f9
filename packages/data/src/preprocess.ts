import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, StateError, checkFinite, checkInteger } from '@gradflow/core';
import { symmetricEigen } from './linalg.js';

/** Per-channel statistics (channels last). */
export interface ChannelStats {
  mean: number[];
  std: number[];
}

/**
 * torchvision's ImageNet statistics for RGB in [0, 1] (the ResNet preprocessing).
 *
 * @example
 * ```ts
 * const x = tf.ones([1, 2, 2, 3]).mul(0.5); // an RGB image in [0, 1]
 * const normalized = normalizeChannels(x, IMAGENET_STATS);
 * console.log(IMAGENET_STATS.mean); // [0.485, 0.456, 0.406]
 * tf.dispose([x, normalized]);
 * ```
 */
export const IMAGENET_STATS: Readonly<ChannelStats> = Object.freeze({
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
});

function checkRank(what: string, x: tf.Tensor, minRank: number): void {
  if (!(x instanceof tf.Tensor)) throw new InvalidArgumentError(what, x, 'a tf.Tensor');
  if (x.isDisposed) throw new StateError(`${what} is disposed`);
  if (x.rank < minRank)
    throw new ShapeError(what, x.shape, `rank >= ${minRank} (examples first, channels last)`);
}

/**
 * Mean and (population) std of each channel over every other axis, computed on the training
 * set — as for ResNet, where each input channel is standardized with the dataset's statistics.
 *
 * @example
 * ```ts
 * const x = tf.tensor4d([0, 10, 2, 10, 4, 10, 6, 10], [2, 2, 1, 2]); // 2 channels
 * const stats = channelStats(x);
 * if (stats.mean.join() !== '3,10' || stats.std[1] !== 0) throw new Error(`got ${stats.mean} ${stats.std}`);
 * x.dispose();
 * ```
 */
export function channelStats(x: tf.Tensor): ChannelStats {
  checkRank('x', x, 2);
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const [mean, variance] = tf.tidy(() => {
    const { mean, variance } = tf.moments(x.toFloat(), axes);
    return [mean.arraySync() as number[], variance.arraySync() as number[]];
  });
  return { mean: mean!, std: variance!.map((v) => Math.sqrt(v)) };
}

/**
 * `(x − mean[c]) / std[c]` per channel (the last axis). Returns a new tensor.
 *
 * @example
 * ```ts
 * const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
 * const z = normalizeChannels(x, channelStats(x));
 * const mean = z.mean();
 * if (Math.abs(mean.arraySync() as number) > 1e-6) throw new Error('zero mean');
 * tf.dispose([x, z, mean]);
 * ```
 */
export function normalizeChannels(x: tf.Tensor, stats: ChannelStats, epsilon = 0): tf.Tensor {
  checkRank('x', x, 1);
  const channels = x.shape[x.rank - 1]!;
  if (stats.mean.length !== channels || stats.std.length !== channels) {
    throw new ShapeError(
      'channel stats',
      [stats.mean.length, stats.std.length],
      `${channels} means and ${channels} stds (one per channel)`,
    );
  }
  stats.mean.forEach((m, i) => checkFinite(`mean[${i}]`, m));
  stats.std.forEach((s, i) => checkFinite(`std[${i}]`, s + epsilon, { min: 0, minExclusive: true }));
  return tf.tidy(() =>
    x
      .toFloat()
      .sub(tf.tensor1d(stats.mean))
      .div(tf.tensor1d(stats.std.map((s) => s + epsilon))),
  );
}

/**
 * The mean example (`[H, W, C]` for images) over the first axis, as AlexNet subtracts it. Caller owns it.
 *
 * @example
 * ```ts
 * const x = tf.tensor4d([0, 2, 4, 6], [2, 1, 2, 1]); // two 1x2 images
 * const mean = meanImage(x);
 * if (mean.shape.join() !== '1,2,1' || String(mean.dataSync()) !== '2,4') throw new Error('per-pixel mean');
 * tf.dispose([x, mean]);
 * ```
 */
export function meanImage(x: tf.Tensor): tf.Tensor {
  checkRank('x', x, 2);
  return tf.tidy(() => x.toFloat().mean(0));
}

/**
 * `x − meanImage`, broadcasting over the examples. Returns a new tensor.
 *
 * @example
 * ```ts
 * const x = tf.tensor4d([0, 2, 4, 6], [2, 1, 2, 1]);
 * const mean = meanImage(x);
 * const centred = subtractMeanImage(x, mean);
 * if (String(centred.dataSync()) !== '-2,-2,2,2') throw new Error('centred');
 * tf.dispose([x, mean, centred]);
 * ```
 */
export function subtractMeanImage(x: tf.Tensor, mean: tf.Tensor): tf.Tensor {
  checkRank('x', x, 2);
  if (mean.rank !== x.rank - 1 || mean.shape.some((d, i) => d !== x.shape[i + 1])) {
    throw new ShapeError('mean image', mean.shape, `[${x.shape.slice(1).join(', ')}] (one example of x)`);
  }
  return tf.tidy(() => x.toFloat().sub(mean));
}

/** `'zca'` rotates the whitened data back (same shape as the input); `'pca'` keeps the projection on the components. */
export type WhiteningMethod = 'pca' | 'zca';

/** Options of `fitWhitening()`. */
export interface WhiteningOptions {
  /** `'zca'` (default): rotate back, output has x's shape; `'pca'`: project on the components, output `[N, K]`. */
  method?: WhiteningMethod;
  /** Added to each eigenvalue before the inverse square root; default 1e-5 (for data in [0, 1] or standardized). */
  epsilon?: number;
  /** Number of leading principal components to keep (PCA only); default all. */
  components?: number;
}

/**
 * A whitening transform fitted on training data: `transform(x) = (flatten(x) − mean) · W`, with
 * W = U·diag(1/√(λ+ε)) for PCA (top K columns) and U·diag(1/√(λ+ε))·Uᵀ for ZCA (Bell &
 * Sejnowski 1997; as used for CIFAR by Krizhevsky 2009 and Goodfellow et al. 2013). Fit on
 * the training set, apply the same transform to the test set. Owns two tensors: `dispose()`.
 */
export interface Whitening {
  /** The method it was fitted with. */
  readonly method: WhiteningMethod;
  /** Shape of one example it was fitted on. */
  readonly exampleShape: readonly number[];
  /** Per-feature mean, `[D]`. */
  readonly mean: tf.Tensor1D;
  /** `[D, D]` (ZCA) or `[D, K]` (PCA). */
  readonly matrix: tf.Tensor2D;
  /** Eigenvalues of the (population) covariance, descending. */
  readonly eigenvalues: Float64Array;
  /** Whitens `x` (same example shape as the fit); returns a new tensor. */
  transform(x: tf.Tensor): tf.Tensor;
  /** Frees `mean` and `matrix`. */
  dispose(): void;
}

/**
 * Mean and population covariance in float64. Accumulates E[x xᵀ] over the non-zero entries of
 * each row (MNIST-like data is ~80% zeros, which makes this ~20× faster than a dense product),
 * then subtracts μμᵀ.
 */
function covarianceOf(
  data: ArrayLike<number>,
  n: number,
  D: number,
): { meanValues: Float32Array; cov: Float64Array } {
  const mean = new Float64Array(D);
  const second = new Float64Array(D * D);
  const nz = new Int32Array(D);
  const vals = new Float64Array(D);
  for (let r = 0; r < n; r++) {
    const o = r * D;
    let k = 0;
    for (let i = 0; i < D; i++) {
      const v = data[o + i]!;
      if (v !== 0) {
        mean[i] = mean[i]! + v;
        nz[k] = i;
        vals[k] = v;
        k++;
      }
    }
    for (let a = 0; a < k; a++) {
      const row = nz[a]! * D;
      const va = vals[a]!;
      for (let b = a; b < k; b++) second[row + nz[b]!] = second[row + nz[b]!]! + va * vals[b]!;
    }
  }
  for (let i = 0; i < D; i++) mean[i] = mean[i]! / n;
  const cov = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      const c = second[i * D + j]! / n - mean[i]! * mean[j]!;
      cov[i * D + j] = c;
      cov[j * D + i] = c;
    }
  }
  return { meanValues: Float32Array.from(mean), cov };
}

/**
 * Fits PCA or ZCA whitening on `x` (`[N, ...]`, features = product of the trailing axes). The
 * covariance is accumulated and decomposed in float64 on the CPU (tfjs has no eigen solver). For
 * D features the cost is O(N·D² + D³), less for sparse data: a few seconds for MNIST
 * (D = 784), too slow for 224×224 images (whiten patches instead).
 *
 * @example
 * ```ts
 * const train = tf.randomNormal([64, 3], 0, 1, 'float32', 1).matMul(tf.tensor2d([[2, 0, 0], [1, 1, 0], [0, 0, 0.5]]));
 * const zca = fitWhitening(train, { method: 'zca' });
 * const white = zca.transform(train);
 * const cov = tf.matMul(white, white, true, false).div(64); // ≈ identity
 * const off = Math.abs((cov.arraySync() as number[][])[0]![1]!);
 * if (off > 0.05) throw new Error(`correlated: ${off}`);
 * tf.dispose([train, white, cov]);
 * zca.dispose();
 * ```
 */
export function fitWhitening(x: tf.Tensor, options: WhiteningOptions = {}): Whitening {
  checkRank('x', x, 2);
  const method = options.method ?? 'zca';
  if (method !== 'zca' && method !== 'pca')
    throw new InvalidArgumentError('method', method, "'zca' or 'pca'");
  const epsilon = checkFinite('epsilon', options.epsilon ?? 1e-5, { min: 0 });
  const n = x.shape[0]!;
  const exampleShape = x.shape.slice(1);
  const D = exampleShape.reduce((a, b) => a * b, 1);
  if (n < 2) throw new ShapeError('x', x.shape, 'at least 2 examples to estimate a covariance');
  if (D > 4096)
    throw new ShapeError(
      'x',
      x.shape,
      'at most 4096 features per example',
      'whitening is O(D³); whiten patches or downsample first',
    );
  const K = method === 'pca' ? checkInteger('components', options.components ?? D) : D;
  if (K > D)
    throw new InvalidArgumentError('components', K, `an integer in [1, ${D}] (the number of features)`);
  if (method === 'zca' && options.components !== undefined && options.components !== D) {
    throw new InvalidArgumentError(
      'components',
      options.components,
      `${D} or undefined for ZCA`,
      "use method: 'pca' to reduce dimension",
    );
  }
  const { meanValues, cov } = covarianceOf(x.dataSync(), n, D);
  const { values, vectors } = symmetricEigen(cov, D);
  const eigenvalues = Float64Array.from(values).reverse();
  const W = new Float32Array(D * K);
  // Columns of `vectors` are ascending; component k (descending) is column D-1-k.
  if (method === 'pca') {
    for (let k = 0; k < K; k++) {
      const col = D - 1 - k;
      const scale = 1 / Math.sqrt(Math.max(values[col]!, 0) + epsilon);
      for (let r = 0; r < D; r++) W[r * K + k] = vectors[r * D + col]! * scale;
    }
  } else {
    const scaled = new Float64Array(D * D);
    for (let c = 0; c < D; c++) {
      const scale = 1 / Math.sqrt(Math.max(values[c]!, 0) + epsilon);
      for (let r = 0; r < D; r++) scaled[r * D + c] = vectors[r * D + c]! * scale;
    }
    for (let i = 0; i < D; i++) {
      for (let j = i; j < D; j++) {
        let s = 0;
        for (let c = 0; c < D; c++) s += scaled[i * D + c]! * vectors[j * D + c]!;
        W[i * D + j] = s;
        W[j * D + i] = s;
      }
    }
  }
  if (!Number.isFinite(eigenvalues[0]!) || (epsilon === 0 && values[0]! <= 0)) {
    throw new InvalidArgumentError(
      'epsilon',
      epsilon,
      'a positive number',
      'the covariance is singular (constant features); whitening needs epsilon > 0',
    );
  }
  const mean = tf.tensor1d(meanValues);
  const matrix = tf.tensor2d(W, [D, K]);
  let disposed = false;
  return {
    method,
    exampleShape,
    mean,
    matrix,
    eigenvalues,
    transform(input: tf.Tensor): tf.Tensor {
      if (disposed) throw new StateError('this whitening transform was disposed');
      checkRank('x', input, 2);
      const shape = input.shape.slice(1);
      if (shape.length !== exampleShape.length || shape.some((d, i) => d !== exampleShape[i])) {
        throw new ShapeError(
          'x',
          input.shape,
          `[N, ${exampleShape.join(', ')}] (the shape it was fitted on)`,
        );
      }
      return tf.tidy(() => {
        const m = input.shape[0]!;
        const out = input.toFloat().reshape([m, D]).sub(mean).matMul(matrix);
        return method === 'zca' ? out.reshape(input.shape) : out;
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      mean.dispose();
      matrix.dispose();
    },
  };
}
