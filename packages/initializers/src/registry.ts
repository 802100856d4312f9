import { InvalidArgumentError, Registry } from '@gradflow/core';
// Every class resolveInitializer can return must be deserializable, so registration comes with it.
import './register.js';
import { isInitializer, type GradflowInitializer, type Initializer } from './base.js';
import { Constant, Normal, Ones, TruncNormal, Uniform, Zeros } from './basic.js';
import { Dirac, Identity, Orthogonal } from './structured.js';
import {
  GlorotNormal,
  GlorotTruncatedNormal,
  GlorotUniform,
  HeNormal,
  HeTruncatedNormal,
  HeUniform,
  LecunNormal,
  LecunTruncatedNormal,
  LecunUniform,
  VarianceScaling,
} from './variance-scaling.js';

/**
 * A gradflow initializer class: constructed from its options, validating them; the `cls` of an
 * {@link InitializerSpec}.
 */
export interface InitializerClass {
  new (args?: Record<string, unknown>): GradflowInitializer;
  readonly className: string;
  /** The option names its constructor accepts (besides tfjs's `customObjects`). */
  readonly options: readonly string[];
}

/** One registry entry: the class a name builds and its documentation. */
export interface InitializerSpec {
  /** The class it builds; its `options` are the accepted `{ name, ...options }` keys. */
  readonly cls: InitializerClass;
  /** What the weights are, in one line (with the standard deviation or bound). */
  readonly summary: string;
  /** The PyTorch / Keras counterpart, for the docs table. */
  readonly counterpart: string;
  /** Set when this name is another name for `aliasOf` (same class, same semantics). */
  readonly aliasOf?: string;
}

const cls = <T>(c: T) => c as unknown as InitializerClass;

/**
 * Every initializer by name: the single source of truth for `InitializerName`,
 * `resolveInitializer`, `listInitializers` and the README table. Names are snake_case; a name
 * taken from PyTorch (`xavier_*`, `kaiming_*`, `eye`, `dirac`, `trunc_normal`) has PyTorch's
 * semantics, and `_normal` always means an untruncated normal (`_truncated_normal` is Keras's
 * corrected truncated normal).
 *
 * @example
 * ```ts
 * INITIALIZERS.kaiming_normal.counterpart; // 'torch kaiming_normal_'
 * const w = new INITIALIZERS.orthogonal.cls({ gain: 1 }).apply([4, 4]);
 * if (!(w instanceof tf.Tensor) || !('he_normal' in INITIALIZERS)) throw new Error('unexpected');
 * w.dispose();
 * ```
 */
export const INITIALIZERS = {
  zeros: { cls: cls(Zeros), summary: '0', counterpart: 'torch zeros_ / keras Zeros' },
  ones: { cls: cls(Ones), summary: '1', counterpart: 'torch ones_ / keras Ones' },
  constant: {
    cls: cls(Constant),
    summary: '`value` (default 0)',
    counterpart: 'torch constant_ / keras Constant',
  },
  normal: { cls: cls(Normal), summary: 'N(mean, std²), default N(0, 1)', counterpart: 'torch normal_' },
  uniform: { cls: cls(Uniform), summary: 'U(a, b), default U(0, 1)', counterpart: 'torch uniform_' },
  trunc_normal: {
    cls: cls(TruncNormal),
    summary: 'N(mean, std²) restricted to the ABSOLUTE interval [a, b] (default -2, 2)',
    counterpart: 'torch trunc_normal_',
  },
  variance_scaling: {
    cls: cls(VarianceScaling),
    summary:
      'variance scale/fan; mode fan_in, fan_out or fan_avg; distribution normal, truncated_normal or uniform',
    counterpart: 'keras VarianceScaling (truncated normal corrected)',
  },
  glorot_normal: {
    cls: cls(GlorotNormal),
    summary: 'N(0, gain²·2/(fan_in+fan_out))',
    counterpart: 'torch xavier_normal_',
  },
  glorot_truncated_normal: {
    cls: cls(GlorotTruncatedNormal),
    summary: 'truncated normal, std gain·sqrt(2/(fan_in+fan_out))',
    counterpart: 'keras GlorotNormal',
  },
  glorot_uniform: {
    cls: cls(GlorotUniform),
    summary: 'U(±gain·sqrt(6/(fan_in+fan_out)))',
    counterpart: 'torch xavier_uniform_ / keras GlorotUniform',
  },
  xavier_normal: {
    cls: cls(GlorotNormal),
    summary: 'same as glorot_normal',
    counterpart: 'torch xavier_normal_',
    aliasOf: 'glorot_normal',
  },
  xavier_uniform: {
    cls: cls(GlorotUniform),
    summary: 'same as glorot_uniform',
    counterpart: 'torch xavier_uniform_',
    aliasOf: 'glorot_uniform',
  },
  he_normal: {
    cls: cls(HeNormal),
    summary: 'N(0, gain²/fan), gain = calculateGain(nonlinearity, a), default sqrt(2)',
    counterpart: 'torch kaiming_normal_',
  },
  he_truncated_normal: {
    cls: cls(HeTruncatedNormal),
    summary: 'truncated normal, std gain/sqrt(fan)',
    counterpart: 'keras HeNormal',
  },
  he_uniform: {
    cls: cls(HeUniform),
    summary: 'U(±gain·sqrt(3/fan))',
    counterpart: 'torch kaiming_uniform_ (a=0) / keras HeUniform',
  },
  kaiming_normal: {
    cls: cls(HeNormal),
    summary: 'same as he_normal',
    counterpart: 'torch kaiming_normal_',
    aliasOf: 'he_normal',
  },
  kaiming_uniform: {
    cls: cls(HeUniform),
    summary: 'same as he_uniform',
    counterpart: 'torch kaiming_uniform_',
    aliasOf: 'he_uniform',
  },
  lecun_normal: {
    cls: cls(LecunNormal),
    summary: 'N(0, 1/fan_in)',
    counterpart: "torch kaiming_normal_(nonlinearity='linear')",
  },
  lecun_truncated_normal: {
    cls: cls(LecunTruncatedNormal),
    summary: 'truncated normal, std sqrt(1/fan_in)',
    counterpart: 'keras LecunNormal',
  },
  lecun_uniform: { cls: cls(LecunUniform), summary: 'U(±sqrt(3/fan_in))', counterpart: 'keras LecunUniform' },
  orthogonal: {
    cls: cls(Orthogonal),
    summary: 'gain · (semi-)orthogonal matrix of the [prod(shape[:-1]), shape[-1]] view',
    counterpart: 'torch orthogonal_ / keras Orthogonal',
  },
  identity: {
    cls: cls(Identity),
    summary: 'gain · identity (rank 2)',
    counterpart: 'torch eye_ / keras Identity',
  },
  eye: { cls: cls(Identity), summary: 'same as identity', counterpart: 'torch eye_', aliasOf: 'identity' },
  dirac: {
    cls: cls(Dirac),
    summary: 'centre tap = identity per channel (conv kernels), groups',
    counterpart: 'torch dirac_',
  },
} as const satisfies Record<string, InitializerSpec>;

/** Every registered initializer name (`'he_normal'`, `'orthogonal'`, `'dirac'`, ...). */
export type InitializerName = keyof typeof INITIALIZERS;

/**
 * What every `kernelInitializer` option in gradflow accepts: a registered name, a name with
 * options, or any tfjs initializer instance (used as is).
 */
export type InitializerLike =
  InitializerName | { name: InitializerName; [param: string]: unknown } | Initializer;

const registry = new Registry<InitializerSpec>('initializer', INITIALIZERS, {
  hint: 'see listInitializers()',
});

/**
 * Registered initializer names, in table order (aliases included).
 *
 * @example
 * ```ts
 * listInitializers(); // ['zeros', 'ones', 'constant', 'normal', 'uniform', 'trunc_normal', ...]
 * if (!listInitializers().includes('kaiming_uniform')) throw new Error('unexpected');
 * ```
 */
export function listInitializers(): string[] {
  return registry.list();
}

/**
 * The registry entry of `name` (throws `UnknownNameError` with suggestions).
 *
 * @example
 * ```ts
 * getInitializerSpec('xavier_uniform').aliasOf; // 'glorot_uniform'
 * getInitializerSpec('orthogonal').cls.options; // ['gain', 'seed']
 * try {
 *   getInitializerSpec('he_norml');
 * } catch (e) {
 *   // UnknownNameError: unknown initializer 'he_norml'; did you mean 'he_normal'? see listInitializers()
 *   if (!(e instanceof Error) || !e.message.includes("'he_normal'")) throw e;
 * }
 * ```
 */
export function getInitializerSpec(name: string): InitializerSpec {
  return registry.get(name);
}

/**
 * Adds an initializer under a new name (throws `DuplicateNameError` unless `override`), so it
 * resolves by name everywhere gradflow takes an {@link InitializerLike}.
 *
 * @example
 * ```ts
 * import { getInitializerSpec, registerInitializer, resolveInitializer, type InitializerName } from '@gradflow/initializers';
 *
 * registerInitializer('my_orthogonal', {
 *   cls: getInitializerSpec('orthogonal').cls,
 *   summary: 'orthogonal, under a project-specific name',
 *   counterpart: 'torch orthogonal_',
 * }, { override: true });
 * const w = resolveInitializer({ name: 'my_orthogonal' as InitializerName, gain: 2 }).apply([3, 3]);
 * if (w.shape.join() !== '3,3') throw new Error('unexpected');
 * w.dispose();
 * ```
 */
export function registerInitializer(
  name: string,
  spec: InitializerSpec,
  options: { override?: boolean } = {},
): void {
  registry.register(name, spec, options);
}

/**
 * Turns an `InitializerLike` into a tfjs initializer: `'he_normal'`, `{ name: 'he_normal',
 * mode: 'fan_out', nonlinearity: 'relu' }`, or an initializer instance (returned as is).
 * Unknown names, unknown options and out-of-range values throw typed errors.
 *
 * @example
 * ```ts
 * const conv = tf.layers.conv2d({
 *   filters: 64,
 *   kernelSize: 3,
 *   kernelInitializer: resolveInitializer({ name: 'kaiming_normal', mode: 'fan_out', nonlinearity: 'relu' }),
 * });
 * conv.apply(tf.input({ shape: [32, 32, 3] })); // kernel [3, 3, 3, 64], std sqrt(2 / (9 · 64))
 * resolveInitializer('zeros').apply([2]).dispose();
 * try {
 *   resolveInitializer({ name: 'he_normal', mdoe: 'fan_out' }); // typo in an option
 * } catch (e) {
 *   // InvalidArgumentError: invalid kaiming option: got 'mdoe', expected one of 'a', 'mode', 'nonlinearity', 'seed'
 *   if (!(e instanceof Error) || !e.message.includes("'mdoe'")) throw e;
 * }
 * conv.dispose();
 * ```
 */
export function resolveInitializer(spec: InitializerLike): Initializer {
  if (isInitializer(spec)) return spec;
  if (typeof spec === 'string') return new (registry.get(spec).cls)({});
  if (
    spec !== null &&
    typeof spec === 'object' &&
    !Array.isArray(spec) &&
    'name' in spec &&
    typeof spec.name === 'string'
  ) {
    const { name, ...options } = spec;
    return new (registry.get(name).cls)(options);
  }
  throw new InvalidArgumentError(
    'initializer',
    spec,
    'a registered name (see listInitializers()), { name, ...options } or a tf initializer instance',
  );
}

/**
 * The registry as a Markdown table (name, options, what the weights are, PyTorch/Keras
 * counterpart): the README's table is this output, checked by a test so it cannot drift.
 *
 * @example
 * ```ts
 * const table = initializerTable();
 * // | name | options | weights | PyTorch / Keras counterpart |
 * // |---|---|---|---|
 * // | `zeros` | — | 0 | torch zeros_ / keras Zeros |
 * // ...
 * if (table.split('\n').length !== listInitializers().length + 2) throw new Error('one row per name');
 * ```
 */
export function initializerTable(): string {
  const rows = listInitializers().map((name) => {
    const spec = registry.get(name);
    const options = spec.cls.options.length > 0 ? spec.cls.options.map((o) => `\`${o}\``).join(', ') : '—';
    const alias = spec.aliasOf ? ` (alias of \`${spec.aliasOf}\`)` : '';
    return `| \`${name}\`${alias} | ${options} | ${spec.summary} | ${spec.counterpart} |`;
  });
  return ['| name | options | weights | PyTorch / Keras counterpart |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
}
