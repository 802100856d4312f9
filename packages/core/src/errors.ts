/**
 * Every error gradflow throws is a `GradflowError`: it carries a stable `code`, the offending
 * `value` and, where there is one, what would have been `accepted`, so callers can branch on
 * the code and users can read what to do.
 */
export type GradflowErrorCode =
  | 'UNKNOWN_NAME'
  | 'DUPLICATE_NAME'
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED'
  | 'MISSING_RESOURCE'
  | 'STATE';

export interface GradflowErrorDetails {
  /** The value that was rejected. */
  value?: unknown;
  /** What would have been accepted: a list of names, a range, a shape. */
  accepted?: unknown;
}

export class GradflowError extends Error {
  readonly code: GradflowErrorCode;
  readonly value: unknown;
  readonly accepted: unknown;

  constructor(code: GradflowErrorCode, message: string, details: GradflowErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.value = details.value;
    this.accepted = details.accepted;
  }
}

/** A name that no registry entry has; `suggestions` holds the closest registered names. */
export class UnknownNameError extends GradflowError {
  readonly kind: string;
  readonly suggestions: readonly string[];

  constructor(kind: string, name: unknown, known: readonly string[], suggestions: readonly string[], hint?: string) {
    const didYouMean = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : '';
    const shown = known.length <= 40 ? `; known: ${known.join(', ')}` : '';
    super(
      'UNKNOWN_NAME',
      `unknown ${kind} ${formatValue(name)}${didYouMean}${hint ? ` ${hint}` : shown}`,
      { value: name, accepted: known },
    );
    this.kind = kind;
    this.suggestions = suggestions;
  }
}

/** A second registration under a name that is taken (pass `{ override: true }` to replace). */
export class DuplicateNameError extends GradflowError {
  constructor(kind: string, name: string) {
    super('DUPLICATE_NAME', `${kind} '${name}' is already registered; pass { override: true } to replace it`, {
      value: name,
    });
  }
}

/** An argument outside its accepted domain (a negative fan, a non-finite gain, ...). */
export class InvalidArgumentError extends GradflowError {
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

/** A tensor or layer whose shape cannot be used where it was given. */
export class ShapeError extends GradflowError {
  constructor(what: string, shape: unknown, expected: string, extra?: string) {
    super(
      'SHAPE_MISMATCH',
      `${what} has shape ${formatValue(shape)}, expected ${expected}${extra ? `; ${extra}` : ''}`,
      { value: shape, accepted: expected },
    );
  }
}

/** A feature the current environment or configuration does not support. */
export class UnsupportedError extends GradflowError {
  constructor(message: string, details: GradflowErrorDetails = {}) {
    super('UNSUPPORTED', message, details);
  }
}

/** A file or dataset that is not installed, with how to install it. */
export class MissingResourceError extends GradflowError {
  constructor(message: string, details: GradflowErrorDetails = {}) {
    super('MISSING_RESOURCE', message, details);
  }
}

/** An operation called in a state that does not allow it (e.g. no trainable weights). */
export class StateError extends GradflowError {
  constructor(message: string, details: GradflowErrorDetails = {}) {
    super('STATE', message, details);
  }
}

/** Short, unambiguous rendering of a value for error messages. */
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
