import { InvalidArgumentError, ShapeError } from './errors.js';

/** A tensor or weight shape: a read-only list of dimensions. */
export type Shape = readonly number[];

/**
 * Number of elements of a shape (1 for a scalar).
 *
 * @example
 * ```ts
 * sizeOf([3, 3, 16, 32]); // 4608
 * if (sizeOf([]) !== 1 || sizeOf([2, 5]) !== 10) throw new Error('unexpected');
 * ```
 */
export function sizeOf(shape: Shape): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * Throws `ShapeError` unless `shape` is an array whose every dimension is a positive integer;
 * returns it unchanged.
 *
 * @example
 * ```ts
 * checkShape('kernel', [3, 3, 16, 32]); // [3, 3, 16, 32]
 * try {
 *   checkShape('kernel', [3, 0]);
 *   throw new Error('expected a throw');
 * } catch (e) {
 *   // kernel has shape [3, 0], expected dimensions that are positive integers
 *   if (!(e instanceof ShapeError)) throw e;
 * }
 * ```
 */
export function checkShape(what: string, shape: Shape): Shape {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(what, shape, 'dimensions that are positive integers');
  }
  return shape;
}

/** Fan-in and fan-out of a weight, as returned by {@link computeFans}. */
export interface Fans {
  /** Inputs feeding each output unit: `in * receptiveField`. */
  fanIn: number;
  /** Outputs each input unit feeds: `out * receptiveField`. */
  fanOut: number;
  /** Product of the spatial (receptive-field) dimensions; 1 for dense kernels. */
  receptiveField: number;
}

/**
 * Fans of a weight in tfjs layout: dense `[in, out]`, conv `[...spatial, in, out]`
 * (e.g. `[kh, kw, in, out]`). The numbers equal PyTorch's `_calculate_fan_in_and_fan_out` for
 * the same layer, whose layout is `[out, in, ...spatial]`. Rank < 2 has no fans: a bias or a
 * norm scale has no fan-in, so asking for one is an error rather than a silent guess.
 *
 * @example
 * ```ts
 * computeFans([256, 128]); // { fanIn: 256, fanOut: 128, receptiveField: 1 } (dense)
 * const { fanIn, fanOut } = computeFans([3, 3, 16, 32]); // conv2d kernel [kh, kw, in, out]
 * if (fanIn !== 144 || fanOut !== 288) throw new Error('unexpected fans');
 * // computeFans([64]) throws ShapeError: a bias has no fans
 * ```
 */
export function computeFans(shape: Shape): Fans {
  if (!Array.isArray(shape) || shape.length < 2) {
    throw new ShapeError(
      'weight',
      shape,
      'rank >= 2 ([in, out] or [...spatial, in, out])',
      'fans are undefined for rank 0 and 1 (biases, norm scales)',
    );
  }
  checkShape('weight', shape);
  const receptiveField = sizeOf(shape.slice(0, -2));
  const fanIn = shape[shape.length - 2]! * receptiveField;
  const fanOut = shape[shape.length - 1]! * receptiveField;
  return { fanIn, fanOut, receptiveField };
}

/**
 * Resolves a possibly negative axis against `rank`; throws `InvalidArgumentError` for axes out
 * of range.
 *
 * @example
 * ```ts
 * normalizeAxis(-1, 4); // 3 (channels-last)
 * if (normalizeAxis(1, 4) !== 1) throw new Error('unexpected');
 * // normalizeAxis(4, 4) throws: invalid axis: got 4, expected an integer in [-4, 3] for rank 4
 * ```
 */
export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new InvalidArgumentError('axis', axis, `an integer in [${-rank}, ${rank - 1}] for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
