import { InvalidArgumentError } from './errors.js';

/**
 * Throws `InvalidArgumentError` unless `value` is an integer >= `min` (default 1); returns it
 * typed as a number.
 *
 * @example
 * ```ts
 * const units = checkInteger('units', 64); // 64
 * checkInteger('padding', 0, 0); // 0 is fine when min is 0
 * try {
 *   checkInteger('units', 2.5);
 *   throw new Error('expected a throw');
 * } catch (e) {
 *   // invalid units: got 2.5, expected a positive integer
 *   if (!(e instanceof InvalidArgumentError)) throw e;
 * }
 * void units;
 * ```
 */
export function checkInteger(argument: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(
      argument,
      value,
      min === 1 ? 'a positive integer' : `an integer >= ${min}`,
    );
  }
  return value;
}

/**
 * Throws `InvalidArgumentError` unless `value` is a finite number, optionally within
 * [min, max] (or (min, max] with `minExclusive`); returns it typed as a number.
 *
 * @example
 * ```ts
 * checkFinite('momentum', 0.9, { min: 0, max: 1 }); // 0.9
 * try {
 *   checkFinite('std', 0, { min: 0, minExclusive: true });
 *   throw new Error('expected a throw');
 * } catch (e) {
 *   // invalid std: got 0, expected a finite number > 0
 *   if (!(e instanceof InvalidArgumentError) || e.argument !== 'std') throw e;
 * }
 * ```
 */
export function checkFinite(
  argument: string,
  value: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  const { min, max, minExclusive = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (min === undefined || (minExclusive ? value > min : value >= min)) &&
    (max === undefined || value <= max);
  if (!ok) {
    const lower = min === undefined ? '' : `${minExclusive ? '>' : '>='} ${min}`;
    const upper = max === undefined ? '' : `<= ${max}`;
    const bounds = [lower, upper].filter(Boolean).join(' and ');
    throw new InvalidArgumentError(argument, value, `a finite number${bounds ? ` ${bounds}` : ''}`);
  }
  return value;
}

/**
 * Throws `InvalidArgumentError` unless `value` is one of `options`; returns it narrowed to the
 * union of the options.
 *
 * @example
 * ```ts
 * const mode = checkOneOf('mode', 'fan_in', ['fan_in', 'fan_out'] as const); // type 'fan_in' | 'fan_out'
 * try {
 *   checkOneOf('mode', 'fan_avg', ['fan_in', 'fan_out']);
 *   throw new Error('expected a throw');
 * } catch (e) {
 *   // invalid mode: got 'fan_avg', expected one of "fan_in", "fan_out"
 *   if (!(e instanceof InvalidArgumentError)) throw e;
 * }
 * void mode;
 * ```
 */
export function checkOneOf<const T extends readonly unknown[]>(
  argument: string,
  value: unknown,
  options: T,
): T[number] {
  if (!options.includes(value)) {
    throw new InvalidArgumentError(
      argument,
      value,
      `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`,
    );
  }
  return value as T[number];
}

/**
 * Throws `InvalidArgumentError` unless `value` is a drop probability: a finite number in [0, 1).
 *
 * @example
 * ```ts
 * checkRate('dropout', 0.2); // 0.2
 * try {
 *   checkRate('dropout', 1);
 *   throw new Error('expected a throw');
 * } catch (e) {
 *   // invalid dropout: got 1, expected a finite number in [0, 1)
 *   if (!(e instanceof InvalidArgumentError)) throw e;
 * }
 * ```
 */
export function checkRate(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new InvalidArgumentError(argument, value, 'a finite number in [0, 1)');
  }
  return value;
}

let anonymousLayers = 0;

/**
 * Checks an optional layer-name prefix (the block builders name their layers `<prefix>_conv1`, ...):
 * letters, digits, `_`, `.` and `-`. Without one, returns a fresh `<kind><n>` so two unnamed
 * blocks never collide.
 *
 * @example
 * ```ts
 * checkLayerName('stage2_block1', 'block'); // 'stage2_block1'
 * const fresh = checkLayerName(undefined, 'block'); // 'block1', then 'block2', ...
 * if (!/^block\d+$/.test(fresh)) throw new Error(fresh);
 * try {
 *   checkLayerName('no spaces', 'block');
 *   throw new Error('expected a throw');
 * } catch (e) {
 *   if (!(e instanceof InvalidArgumentError)) throw e;
 * }
 * ```
 */
export function checkLayerName(name: unknown, kind: string): string {
  if (name === undefined) {
    anonymousLayers += 1;
    return `${kind}${anonymousLayers}`;
  }
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new InvalidArgumentError('name', name, 'a non-empty string of letters, digits, _ . -');
  }
  return name;
}
