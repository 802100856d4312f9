import './register.js';

export {
  ACTIVATIONS,
  canonicalActivationName,
  defaultParams,
  describeActivation,
  getActivation,
  listActivations,
  resolveActivation,
} from './registry.js';
export type {
  ActivationAlias,
  ActivationLike,
  ActivationName,
  CanonicalActivationName,
  ResolvedActivation,
} from './registry.js';
export type {
  ActivationParams,
  ActivationSpec,
  BooleanParamSpec,
  GainRule,
  NumberParamSpec,
  OpContext,
  ParamSpec,
  Saturation,
} from './spec.js';
export { applyActivation } from './apply.js';
export type { ApplyActivationOptions } from './apply.js';
export { GradflowActivation, activationLayer } from './layer.js';
export type { ActivationLayerOptions, GradflowActivationArgs } from './layer.js';
export {
  SELU_ALPHA,
  SELU_SCALE,
  celu,
  elu,
  gelu,
  geluTanh,
  hardSigmoid,
  hardSwish,
  hardTanh,
  leakyRelu,
  logSigmoid,
  mish,
  prelu,
  relu6,
  rrelu,
  selu,
  silu,
  softplus,
  softsign,
} from './ops.js';
export { activationGain, activationInfo, activationTable, supDerivative } from './metadata.js';
export type { ActivationInfo } from './metadata.js';
