export {
  GradflowError,
  UnknownNameError,
  DuplicateNameError,
  InvalidArgumentError,
  ShapeError,
  UnsupportedError,
  MissingResourceError,
  StateError,
  formatValue,
} from './errors.js';
export type { GradflowErrorCode, GradflowErrorDetails } from './errors.js';
export { Registry } from './registry.js';
export type { RegisterOptions } from './registry.js';
export { editDistance, suggestNames } from './suggest.js';
export { Rng, DEFAULT_SEED } from './rng.js';
export { checkInteger, checkFinite, checkLayerName, checkOneOf, checkRate } from './validate.js';
export { sizeOf, checkShape, computeFans, normalizeAxis } from './shape.js';
export type { Shape, Fans } from './shape.js';
