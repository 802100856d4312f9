export { denseLayer, denseBlock, transition, transitionChannels } from './dense-block.js';
export type {
  DenseCommonOptions,
  DenseLayerOptions,
  DenseBlockOptions,
  TransitionOptions,
} from './dense-block.js';
export {
  DENSENET_CONFIGS,
  denseNets,
  listDenseNets,
  getDenseNetConfig,
  denseNetConfig,
  denseNetChannels,
  denseNetFeatures,
  denseNetsMarkdownTable,
} from './configs.js';
export type {
  DenseNetConfig,
  DenseNetName,
  DenseNetDepthOptions,
  DenseNetStagePlan,
  DenseNetFeaturesOptions,
} from './configs.js';
