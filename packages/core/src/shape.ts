import { InvalidArgumentError, ShapeError } from './errors.js';

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Throws `ShapeError` unless every dimension is a positive integer. */
export function checkShape(what: string, shape: Shape): Shape {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(what, shape, 'dimensions that are positive integers');
  }
  return shape;
}

export interface Fans {
  fanIn: number;
  fanOut: number;
  /** Product of the spatial (receptive-field) dimensions; 1 for dense kernels. */
  receptiveField: number;
}

/**
 * Fans of a weight in tfjs layout: dense `[in, out]`, conv `[...spatial, in, out]`
 * (e.g. `[kh, kw, in, out]`). The numbers equal PyTorch's `_calculate_fan_in_and_fan_out` for
 * the same layer, whose layout is `[out, in, ...spatial]`. Rank < 2 has no fans: a bias or a
 * norm scale has no fan-in, so asking for one is an error rather than a silent guess.
 */
export function computeFans(shape: Shape): Fans {
  if (!Array.isArray(shape) || shape.length < 2) {
    throw new ShapeError('weight', shape, 'rank >= 2 ([in, out] or [...spatial, in, out])', 'fans are undefined for rank 0 and 1 (biases, norm scales)');
  }
  checkShape('weight', shape);
  const receptiveField = sizeOf(shape.slice(0, -2));
  const fanIn = shape[shape.length - 2]! * receptiveField;
  const fanOut = shape[shape.length - 1]! * receptiveField;
  return { fanIn, fanOut, receptiveField };
}

/** Resolves a possibly negative axis against `rank`; throws for axes out of range. */
export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new InvalidArgumentError('axis', axis, `an integer in [${-rank}, ${rank - 1}] for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
