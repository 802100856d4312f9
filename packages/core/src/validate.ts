import { InvalidArgumentError } from './errors.js';

/** Throws `InvalidArgumentError` unless `value` is an integer >= `min` (default 1). */
export function checkInteger(argument: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(argument, value, min === 1 ? 'a positive integer' : `an integer >= ${min}`);
  }
  return value;
}

/** Throws unless `value` is a finite number, optionally within [min, max]. */
export function checkFinite(argument: string, value: unknown, range: { min?: number; max?: number; minExclusive?: boolean } = {}): number {
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

/** Throws unless `value` is one of `options`. */
export function checkOneOf<const T extends readonly unknown[]>(argument: string, value: unknown, options: T): T[number] {
  if (!options.includes(value)) {
    throw new InvalidArgumentError(argument, value, `one of ${options.map((o) => JSON.stringify(o)).join(', ')}`);
  }
  return value as T[number];
}
