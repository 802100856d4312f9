import './register.js';

export {
  CELL_TYPES,
  cellTypes,
  listCellTypes,
  simpleRnnCell,
  irnnCell,
  gruCell,
  lstmCell,
  normalizeCell,
  kernelKind,
  SIMPLE_ACTIVATIONS,
  cellTable,
} from './cells.js';
export type {
  CellType,
  CellTypeSpec,
  CellConfig,
  CellOptions,
  SimpleRnnCellOptions,
  GruCellOptions,
  LstmCellOptions,
  SimpleActivation,
  KernelKind,
} from './cells.js';
export {
  RecurrentLayer,
  recurrentLayer,
  recurrent,
  simpleRnnLayer,
  irnnLayer,
  gruLayer,
  lstmLayer,
} from './layer.js';
export type { RecurrentLayerOptions, SequenceOptions, WeightSlot } from './layer.js';
export { runSequenceKernel } from './kernels.js';
export type {
  SequenceKernelInputs,
  SequenceKernelOutputs,
  SequenceKernelOptions,
  ProbeSink,
} from './kernels.js';
export { loadTorchState, toTorchState, loadKerasWeights, toKerasWeights } from './weights.js';
export type { WeightArray, WeightInput, TorchStateOptions } from './weights.js';
export { sequenceGradientProfile } from './profile.js';
export type { SequenceGradientProfile, SequenceProfileTrack } from './profile.js';
export type { InitializerSpec } from './init.js';
