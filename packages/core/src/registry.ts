import { DuplicateNameError, InvalidArgumentError, UnknownNameError } from './errors.js';
import { suggestNames } from './suggest.js';

/** Options of {@link Registry.register}. */
export interface RegisterOptions {
  /** Replace an existing entry instead of throwing `DuplicateNameError`. */
  override?: boolean;
}

/**
 * A name → value table with "did you mean" lookups. Packages create one from their `as const`
 * table, so the table stays the single source of truth and users can still add entries.
 *
 * @example
 * ```ts
 * const COLORS = { red: '#f00', green: '#0f0' } as const;
 * const colors = new Registry<string>('color', COLORS, { hint: 'see listColors()' });
 * colors.get('green'); // '#0f0'
 * colors.register('blue', '#00f');
 * colors.list(); // ['red', 'green', 'blue']
 * try {
 *   colors.get('gren');
 * } catch (e) {
 *   // UnknownNameError: unknown color 'gren'; did you mean 'green'? see listColors()
 *   if (!(e instanceof UnknownNameError) || e.suggestions[0] !== 'green') throw e;
 * }
 * ```
 */
export class Registry<T> {
  readonly kind: string;
  private readonly entries = new Map<string, T>();
  private readonly hint: string | undefined;

  constructor(kind: string, initial: Readonly<Record<string, T>> = {}, options: { hint?: string } = {}) {
    this.kind = kind;
    this.hint = options.hint;
    for (const [name, value] of Object.entries(initial)) this.register(name, value);
  }

  /** Adds `value` under `name`; throws `DuplicateNameError` if taken, unless `override`. */
  register(name: string, value: T, options: RegisterOptions = {}): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError(`${this.kind} name`, name, 'a non-empty string');
    }
    if (this.entries.has(name) && !options.override) throw new DuplicateNameError(this.kind, name);
    this.entries.set(name, value);
  }

  /** The entry for `name`; throws `UnknownNameError` with suggestions otherwise. */
  get(name: string): T {
    const value = typeof name === 'string' ? this.entries.get(name) : undefined;
    if (value === undefined) {
      const known = this.list();
      const suggestions = typeof name === 'string' ? suggestNames(name, known) : [];
      throw new UnknownNameError(this.kind, name, known, suggestions, this.hint);
    }
    return value;
  }

  /** Whether `name` is registered (exact match, no suggestions). */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Registered names, in registration order. */
  list(): string[] {
    return [...this.entries.keys()];
  }

  /** `[name, value]` pairs, in registration order. */
  [Symbol.iterator](): IterableIterator<[string, T]> {
    return this.entries.entries();
  }
}
