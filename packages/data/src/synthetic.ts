import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, Rng, checkFinite, checkInteger } from '@gradflow/core';
import { checkLabelEncoding, encodeLabels, makeDataset, toRng } from './dataset.js';
import type { Dataset, LabelEncoding, RandomSource } from './dataset.js';

/** Options of the sequence tasks: a seed, or an object with one. */
export type SeedOption = RandomSource | { seed?: RandomSource };

function seedOf(option: SeedOption | undefined): RandomSource | undefined {
  if (option === undefined || typeof option === 'number' || option instanceof Rng) return option;
  return option.seed;
}

/** The adding-problem dataset: `x` `[n, T, 2]`, `y` `[n, 1]`, and the MSE a model must beat. */
export interface AddingProblem extends Dataset {
  /** MSE of always predicting 1 (the mean target): Var(U1 + U2) = 1/6 ≈ 0.167. */
  readonly baselineMse: number;
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015 and
 * Arjovsky et al. 2016): `x` is float32 `[n, T, 2]`, channel 0 values drawn from U(0, 1),
 * channel 1 a marker that is 1 at exactly two steps — one uniformly in the first half
 * `[0, ⌊T/2⌋)`, one in the second half `[⌊T/2⌋, T)` — and 0 elsewhere; `y` is float32 `[n, 1]`,
 * the sum of the two marked values. Predicting 1 always gives MSE 1/6 ≈ 0.167, the bar a
 * model has to beat to show it carries information across T steps.
 *
 * @example
 * ```ts
 * const task = addingProblem(20, 8, 1); // T = 20 steps, 8 sequences, seed 1
 * if (task.x.shape.join() !== '8,20,2' || task.y.shape.join() !== '8,1') throw new Error('shapes');
 * const markers = task.x.slice([0, 0, 1], [8, 20, 1]).sum();
 * if (markers.arraySync() !== 16) throw new Error('two markers per sequence');
 * markers.dispose();
 * task.dispose();
 * ```
 */
export function addingProblem(T: number, n = 1000, seed?: SeedOption): AddingProblem {
  checkInteger('T', T, 2);
  checkInteger('n', n);
  const rng = toRng(seedOf(seed));
  const x = new Float32Array(n * T * 2);
  const y = new Float32Array(n);
  const half = Math.floor(T / 2);
  for (let i = 0; i < n; i++) {
    const base = i * T * 2;
    for (let t = 0; t < T; t++) x[base + 2 * t] = rng.uniform();
    const first = rng.int(half);
    const second = half + rng.int(T - half);
    x[base + 2 * first + 1] = 1;
    x[base + 2 * second + 1] = 1;
    y[i] = x[base + 2 * first]! + x[base + 2 * second]!;
  }
  const dataset = makeDataset(tf.tensor3d(x, [n, T, 2]), tf.tensor2d(y, [n, 1]));
  return { ...dataset, dispose: dataset.dispose, baselineMse: 1 / 6 };
}

/** Options of `copyTask()`. */
export interface CopyTaskOptions {
  /** Seed or generator; default `DEFAULT_SEED`. */
  seed?: RandomSource;
  /** Number of symbols to copy; default 10 (Arjovsky et al.). */
  copyLength?: number;
  /** Size of the data alphabet; default 8 (symbols 1..8; 0 is blank, numSymbols + 1 the delimiter). */
  numSymbols?: number;
  /** `'onehot'` (default): `y` is float32 `[n, L, numSymbols + 2]`; `'int'`: int32 `[n, L]`. */
  labels?: LabelEncoding;
}

/** The copy-memory dataset, with its sequence length, alphabet size and the memoryless baseline loss. */
export interface CopyTask extends Dataset {
  /** Cross-entropy of the memoryless strategy (blanks, then uniform guesses): copyLength·ln(numSymbols) / L. */
  readonly baselineLoss: number;
  /** Sequence length L = T + 2·copyLength. */
  readonly length: number;
  /** Alphabet size numSymbols + 2 (blank 0, data 1..numSymbols, delimiter numSymbols + 1). */
  readonly vocabSize: number;
}

/**
 * The copy-memory task of Arjovsky et al. 2016 ("Unitary evolution RNNs"): the input is
 * `copyLength` data symbols, T − 1 blanks, a delimiter, then `copyLength` blanks (length
 * L = T + 2·copyLength); the target is T + copyLength blanks then the same data symbols. `x` is
 * one-hot float32 `[n, L, numSymbols + 2]`. A model that remembers nothing can reach cross
 * entropy `baselineLoss` = copyLength·ln(numSymbols)/L; beating it requires memory across T steps.
 *
 * @example
 * ```ts
 * const task = copyTask(5, 4, { copyLength: 3, numSymbols: 4, labels: 'int' });
 * if (task.length !== 11 || task.vocabSize !== 6) throw new Error('L = T + 2·copyLength, V = numSymbols + 2');
 * if (task.x.shape.join() !== '4,11,6' || task.y.shape.join() !== '4,11') throw new Error('shapes');
 * task.dispose();
 * ```
 */
export function copyTask(T: number, n = 1000, options: CopyTaskOptions | RandomSource = {}): CopyTask {
  checkInteger('T', T);
  checkInteger('n', n);
  const opts: CopyTaskOptions =
    typeof options === 'number' || options instanceof Rng ? { seed: options } : options;
  const copyLength = checkInteger('copyLength', opts.copyLength ?? 10);
  const numSymbols = checkInteger('numSymbols', opts.numSymbols ?? 8, 2);
  const encoding = checkLabelEncoding(opts.labels ?? 'onehot');
  const rng = toRng(opts.seed);
  const L = T + 2 * copyLength;
  const V = numSymbols + 2;
  const delimiter = numSymbols + 1;
  const x = new Float32Array(n * L * V);
  const y = new Int32Array(n * L);
  for (let i = 0; i < n; i++) {
    const input = new Int32Array(L);
    for (let t = 0; t < copyLength; t++) {
      const s = 1 + rng.int(numSymbols);
      input[t] = s;
      y[i * L + T + copyLength + t] = s;
    }
    input[copyLength + T - 1] = delimiter;
    for (let t = 0; t < L; t++) x[(i * L + t) * V + input[t]!] = 1;
  }
  const yTensor =
    encoding === 'int'
      ? tf.tensor2d(y, [n, L], 'int32')
      : tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), V).reshape([n, L, V]).toFloat());
  const dataset = makeDataset(tf.tensor3d(x, [n, L, V]), yTensor, V);
  return {
    ...dataset,
    dispose: dataset.dispose,
    baselineLoss: (copyLength * Math.log(numSymbols)) / L,
    length: L,
    vocabSize: V,
  };
}

/** Options of `spirals()`. */
export interface SpiralsOptions {
  /** Number of points (split evenly over the classes); default 600. */
  n?: number;
  /** Number of interleaved arms; default 2. */
  classes?: number;
  /** Turns each arm makes; default 1. */
  turns?: number;
  /** Std of the Gaussian noise added to each coordinate; default 0.05. */
  noise?: number;
  seed?: RandomSource;
  labels?: LabelEncoding;
}

/**
 * Interleaved spirals in 2-D (Lang & Witbrock 1988; the CS231n form): arm k has points
 * r(t) = t, θ(t) = 2π·turns·t + 2πk/classes for t ∈ [0, 1], plus N(0, noise²). `x` float32
 * `[n, 2]`, `y` one-hot `[n, classes]` (or int32 `[n]`), examples in shuffled order.
 *
 * @example
 * ```ts
 * const data = spirals({ n: 90, classes: 3, seed: 2 });
 * if (data.x.shape.join() !== '90,2' || data.numClasses !== 3) throw new Error('shapes');
 * data.dispose();
 * ```
 */
export function spirals(options: SpiralsOptions = {}): Dataset {
  const n = checkInteger('n', options.n ?? 600);
  const classes = checkInteger('classes', options.classes ?? 2, 2);
  const turns = checkFinite('turns', options.turns ?? 1, { min: 0, minExclusive: true });
  const noise = checkFinite('noise', options.noise ?? 0.05, { min: 0 });
  const encoding = checkLabelEncoding(options.labels ?? 'onehot');
  const rng = toRng(options.seed);
  const perm = rng.permutation(n);
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % classes;
    const t = Math.floor(i / classes) / Math.max(1, Math.ceil(n / classes) - 1);
    const theta = 2 * Math.PI * turns * t + (2 * Math.PI * k) / classes;
    const j = perm[i]!;
    x[2 * j] = t * Math.cos(theta) + rng.normal(0, noise);
    x[2 * j + 1] = t * Math.sin(theta) + rng.normal(0, noise);
    labels[j] = k;
  }
  return makeDataset(tf.tensor2d(x, [n, 2]), encodeLabels(labels, classes, encoding), classes);
}

/** Options of `blobs()`. */
export interface BlobsOptions {
  /** Number of points (split evenly over the centres); default 600. */
  n?: number;
  /** Number of centres drawn uniformly in `centerBox`, or the centres themselves; default 3. */
  centers?: number | readonly (readonly number[])[];
  /** Dimension when `centers` is a number; default 2. */
  dim?: number;
  /** Std of each blob; default 1. */
  std?: number;
  /** Box the random centres are drawn from; default [-10, 10]. */
  centerBox?: readonly [number, number];
  seed?: RandomSource;
  labels?: LabelEncoding;
}

/**
 * Isotropic Gaussian blobs (sklearn's `make_blobs`): `x` float32 `[n, dim]`, `y` by centre.
 *
 * @example
 * ```ts
 * const data = blobs({ n: 30, centers: [[0, 0], [5, 5]], std: 0.5, labels: 'int' });
 * if (data.x.shape.join() !== '30,2' || data.centers.length !== 2) throw new Error('shapes');
 * data.dispose();
 * ```
 */
export function blobs(options: BlobsOptions = {}): Dataset & { centers: number[][] } {
  const n = checkInteger('n', options.n ?? 600);
  const std = checkFinite('std', options.std ?? 1, { min: 0 });
  const encoding = checkLabelEncoding(options.labels ?? 'onehot');
  const rng = toRng(options.seed);
  let centers: number[][];
  const spec = options.centers ?? 3;
  if (typeof spec === 'number') {
    const k = checkInteger('centers', spec);
    const dim = checkInteger('dim', options.dim ?? 2);
    const [lo, hi] = options.centerBox ?? [-10, 10];
    checkFinite('centerBox[0]', lo);
    checkFinite('centerBox[1]', hi, { min: lo });
    centers = Array.from({ length: k }, () => Array.from({ length: dim }, () => rng.uniform(lo, hi)));
  } else {
    if (!Array.isArray(spec) || spec.length === 0)
      throw new InvalidArgumentError('centers', spec, 'a positive integer or a non-empty list of points');
    const dim = spec[0]!.length;
    if (
      dim === 0 ||
      spec.some((c: readonly number[]) => c.length !== dim || c.some((v) => !Number.isFinite(v)))
    ) {
      throw new InvalidArgumentError(
        'centers',
        spec,
        'points of equal, non-zero dimension with finite coordinates',
      );
    }
    centers = spec.map((c) => [...c]);
  }
  const k = centers.length;
  const dim = centers[0]!.length;
  const perm = rng.permutation(n);
  const x = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    const j = perm[i]!;
    for (let d = 0; d < dim; d++) x[j * dim + d] = centers[c]![d]! + rng.normal(0, std);
    labels[j] = c;
  }
  const dataset = makeDataset(tf.tensor2d(x, [n, dim]), encodeLabels(labels, k, encoding), k);
  return { ...dataset, dispose: dataset.dispose, centers };
}
