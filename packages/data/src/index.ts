export { makeDataset, encodeLabels, batches, numBatches } from './dataset.js';
export type {
  Dataset,
  SplitDataset,
  DatasetInfo,
  LabelEncoding,
  RandomSource,
  BatchOptions,
  Batch,
} from './dataset.js';
export {
  mnist,
  fashionMnist,
  fashionMnistDir,
  hasFashionMnist,
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
} from './images.js';
export type { ImageSetOptions, ImageSetInfo, MnistOptions, FashionMnistOptions } from './images.js';
export { addingProblem, copyTask, spirals, blobs } from './synthetic.js';
export type {
  AddingProblem,
  CopyTask,
  CopyTaskOptions,
  SpiralsOptions,
  BlobsOptions,
  SeedOption,
} from './synthetic.js';
export {
  channelStats,
  normalizeChannels,
  meanImage,
  subtractMeanImage,
  fitWhitening,
  IMAGENET_STATS,
} from './preprocess.js';
export type { ChannelStats, Whitening, WhiteningOptions, WhiteningMethod } from './preprocess.js';
export { symmetricEigen } from './linalg.js';
export type { SymmetricEigen } from './linalg.js';
export { randomFlip, randomCrop, cutout, mixup, colorJitter } from './augment.js';
export type { AugmentOptions, PadMode, MixupResult, ColorJitterOptions } from './augment.js';
export { DATASETS, getDataset, listDatasets, loadDataset, registerDataset } from './registry.js';
export type {
  DatasetName,
  DatasetSpec,
  DatasetKind,
  DatasetTask,
  SyntheticSplitOptions,
} from './registry.js';
