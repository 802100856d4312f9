import './register.js';

export { GradflowInitializer, InitializerBase, isInitializer, setInitializerSeed } from './base.js';
export type { Initializer, SeedArgs } from './base.js';
export { calculateGain, PYTORCH_GAINS } from './gain.js';
export type { PytorchGainName } from './gain.js';
export { TRUNCATION_STD_CORRECTION } from './sampling.js';
export {
  VarianceScaling,
  GlorotNormal,
  GlorotTruncatedNormal,
  GlorotUniform,
  HeNormal,
  HeTruncatedNormal,
  HeUniform,
  LecunNormal,
  LecunTruncatedNormal,
  LecunUniform,
  FAN_MODES,
  DISTRIBUTIONS,
  fanFor,
} from './variance-scaling.js';
export type {
  VarianceScalingArgs,
  GlorotArgs,
  KaimingArgs,
  FanMode,
  Distribution,
} from './variance-scaling.js';
export { Zeros, Ones, Constant, Normal, Uniform, TruncNormal } from './basic.js';
export type { ConstantArgs, NormalArgs, UniformArgs, TruncNormalArgs } from './basic.js';
export { Orthogonal, Identity, Dirac } from './structured.js';
export type { OrthogonalArgs, IdentityArgs, DiracArgs } from './structured.js';
export {
  INITIALIZERS,
  listInitializers,
  getInitializerSpec,
  registerInitializer,
  resolveInitializer,
  initializerTable,
} from './registry.js';
export type { InitializerName, InitializerLike, InitializerSpec, InitializerClass } from './registry.js';
export { INITIALIZER_CLASSES } from './register.js';
export { lsuv, LSUV_LAYER_CLASSES, LSUV_MEASURES } from './lsuv.js';
export type { LsuvOptions, LsuvLayerResult } from './lsuv.js';
export { init } from './init.js';
