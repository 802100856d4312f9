import './register.js';

export {
  MODELS,
  createModel,
  listModels,
  getModelInfo,
  registerModel,
  modelsMarkdownTable,
} from './registry.js';
export type { ModelName, ModelFamily, ModelInfo, ModelSpec, ModelFilter, OptionsOf } from './registry.js';
export type { ModelOptions, Pooling, ClassifierActivation } from './options.js';
export {
  CIFAR_RESNETS,
  IMAGENET_RESNETS,
  PREACT_RESNETS,
  RESNET_D,
  SE_RESNETS,
  DENSENETS,
  UNETS,
  MLPS,
  SEQUENCE_MODELS,
} from './variants.js';
export { buildDenseNet } from './families/densenet.js';
export type { DenseNetVariant, DenseNetOptions } from './families/densenet.js';
export { buildUNet } from './families/unet.js';
export type { UNetVariant, UNetModelOptions } from './families/unet.js';
export { buildResNet } from './families/resnet.js';
export type { ResNetVariant, ResNetOptions } from './families/resnet.js';
export { buildMlp } from './families/mlp.js';
export type { MlpVariant, MlpOptions } from './families/mlp.js';
export { buildSequenceModel } from './families/sequence.js';
export type { SequenceVariant, SequenceModelOptions } from './families/sequence.js';
