import './register.js';

export { basicBlock, bottleneckBlock, planBlock, buildBlock, BRANCHES } from './blocks.js';
export type {
  ResidualBlockOptions,
  BottleneckBlockOptions,
  BlockPlan,
  BranchName,
  BranchSpec,
  FeatureShape,
} from './blocks.js';
export {
  residualStage,
  RESIDUAL_BLOCKS,
  residualBlocks,
  listResidualBlocks,
  residualBlocksMarkdownTable,
} from './stage.js';
export type { ResidualStageOptions, ResidualBlockName, ResidualBlockSpec } from './stage.js';
export { stem } from './stem.js';
export type { StemOptions } from './stem.js';
export { squeezeExcitation } from './se.js';
export type { SqueezeExcitationOptions, SqueezeExcitationBuildOptions } from './se.js';
export {
  RESIDUAL_INITS,
  residualInits,
  listResidualInits,
  SHORTCUTS,
  shortcuts,
  residualInitsMarkdownTable,
  shortcutsMarkdownTable,
} from './schemes.js';
export type { ResidualInit, ResidualInitSpec, ShortcutKind, ShortcutSpec } from './schemes.js';
export { conv } from './parts.js';
export type { ConvSpec } from './parts.js';
export { DropPath } from './layers/drop-path.js';
export type { DropPathArgs } from './layers/drop-path.js';
export { DropConnectDense } from './layers/drop-connect.js';
export type { DropConnectDenseArgs } from './layers/drop-connect.js';
export { DropBlock2D } from './layers/drop-block.js';
export type { DropBlockArgs } from './layers/drop-block.js';
export { ScalarScale, ScalarBias } from './layers/scalar.js';
export type { ScalarArgs } from './layers/scalar.js';
export { OptionAShortcut } from './layers/option-a.js';
export type { OptionAShortcutArgs } from './layers/option-a.js';
export { ScaledInitializer } from './scaled-initializer.js';
export type { ScaledInitializerArgs } from './scaled-initializer.js';
export { RESIDUAL_CLASSES } from './register.js';
