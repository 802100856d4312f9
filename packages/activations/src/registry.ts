import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SEED, InvalidArgumentError, Registry, checkFinite, formatValue } from '@gradflow/core';
import { normalCdf64, normalPdf64, sigmoid64, softplus64 } from './math64.js';
import {
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
import type { ActivationParams, ActivationSpec } from './spec.js';

const num = (p: ActivationParams, key: string): number => p[key] as number;
const leakyGain = (a: number) => Math.sqrt(2 / (1 + a * a));
const GELU_C = Math.sqrt(2 / Math.PI);

/**
 * The activation table: the single source of truth for names, parameters, ops, formulas and
 * metadata. Types (`ActivationName`), lookups (`getActivation`), the docs table and the tests
 * are derived from it.
 *
 * @example
 * ```ts
 * ACTIVATIONS.relu.formula; // 'max(0, x)'
 * ACTIVATIONS.sigmoid.supDerivative; // 0.25: each sigmoid layer shrinks a gradient by 4x or more
 * const saturating = listActivations().filter((n) => ACTIVATIONS[n].saturates === 'both');
 * // ['sigmoid', 'tanh', 'softsign', 'hard_sigmoid', 'hard_tanh']
 * if (!saturating.includes('tanh') || saturating.includes('relu')) throw new Error('unexpected');
 * ```
 */
export const ACTIVATIONS = {
  sigmoid: {
    summary: 'logistic function',
    formula: 'σ(x) = 1 / (1 + e^(−x))',
    derivative: 'σ(x) (1 − σ(x))',
    params: {},
    op: (x) => tf.sigmoid(x),
    builtin: { label: 'tf.sigmoid', op: (x) => tf.sigmoid(x) },
    f64: (x) => sigmoid64(x),
    df64: (x) => sigmoid64(x) * sigmoid64(-x),
    supDerivative: 1 / 4,
    saturates: 'both',
    zeroCentred: false,
    gain: { source: 'pytorch', value: () => 1 },
  },
  tanh: {
    summary: 'hyperbolic tangent',
    formula: 'tanh(x)',
    derivative: '1 − tanh²(x)',
    params: {},
    op: (x) => tf.tanh(x),
    builtin: { label: 'tf.tanh', op: (x) => tf.tanh(x) },
    f64: (x) => Math.tanh(x),
    df64: (x) => 1 / Math.cosh(x) ** 2,
    supDerivative: 1,
    saturates: 'both',
    zeroCentred: true,
    gain: { source: 'pytorch', value: () => 5 / 3 },
  },
  relu: {
    summary: 'rectified linear unit',
    formula: 'max(0, x)',
    derivative: '1 if x > 0, else 0',
    params: {},
    op: (x) => tf.relu(x),
    builtin: { label: 'tf.relu', op: (x) => tf.relu(x) },
    f64: (x) => Math.max(0, x),
    df64: (x) => (x > 0 ? 1 : 0),
    supDerivative: 1,
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'pytorch', value: () => Math.SQRT2 },
  },
  relu6: {
    summary: 'ReLU clipped at 6 (MobileNet)',
    formula: 'min(max(0, x), 6)',
    derivative: '1 if 0 < x < 6, else 0',
    params: {},
    op: (x) => relu6(x),
    builtin: { label: 'tf.relu6', op: (x) => tf.relu6(x) },
    f64: (x) => Math.min(Math.max(0, x), 6),
    df64: (x) => (x > 0 && x < 6 ? 1 : 0),
    supDerivative: 1,
    saturates: 'both',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  leaky_relu: {
    summary: 'ReLU with a fixed negative slope',
    formula: 'x if x > 0, else slope·x',
    derivative: '1 if x > 0, else slope',
    params: { slope: { type: 'number', default: 0.01, doc: 'negative slope (PyTorch negative_slope)' } },
    op: (x, p) => leakyRelu(x, { slope: num(p, 'slope') }),
    builtin: { label: 'tf.leakyRelu', op: (x, p) => tf.leakyRelu(x, num(p, 'slope')) },
    f64: (x, p) => (x > 0 ? x : num(p, 'slope') * x),
    df64: (x, p) => (x > 0 ? 1 : num(p, 'slope')),
    supDerivative: (p) => Math.max(1, Math.abs(num(p, 'slope'))),
    saturates: 'none',
    zeroCentred: false,
    gain: { source: 'pytorch', value: (p) => leakyGain(num(p, 'slope')) },
  },
  prelu: {
    summary: 'leaky ReLU with a learnable slope α',
    formula: 'x if x > 0, else α·x (α learnable, initialised to init)',
    derivative: '∂/∂x: 1 if x > 0, else α; ∂/∂α: 0 if x > 0, else x',
    params: {
      init: { type: 'number', default: 0.25, doc: 'initial slope (PyTorch init)' },
      per_channel: {
        type: 'boolean',
        default: false,
        doc: 'one α per channel (last axis, Keras-like) instead of one shared α (PyTorch default)',
      },
    },
    op: (x, p, ctx) => (ctx.alpha ? prelu(x, ctx.alpha) : leakyRelu(x, { slope: num(p, 'init') })),
    builtin: { label: 'tf.prelu', op: (x, p) => tf.prelu(x, tf.fill([1], num(p, 'init'))) },
    f64: (x, p) => (x > 0 ? x : num(p, 'init') * x),
    df64: (x, p) => (x > 0 ? 1 : num(p, 'init')),
    supDerivative: (p) => Math.max(1, Math.abs(num(p, 'init'))),
    saturates: 'none',
    zeroCentred: false,
    gain: { source: 'he2015', value: (p) => leakyGain(num(p, 'init')) },
    learnable: true,
  },
  rrelu: {
    summary: 'randomised leaky ReLU',
    formula:
      'x if x ≥ 0, else a·x; a ~ U(lower, upper) per element in training, (lower + upper)/2 in inference',
    derivative: '1 if x > 0, else a',
    params: {
      lower: { type: 'number', default: 1 / 8, doc: 'lower bound of the random slope' },
      upper: { type: 'number', default: 1 / 3, doc: 'upper bound of the random slope' },
      seed: { type: 'number', default: DEFAULT_SEED, min: 0, doc: 'seed of the slopes drawn in training' },
    },
    op: (x, p, ctx) =>
      rrelu(x, {
        lower: num(p, 'lower'),
        upper: num(p, 'upper'),
        training: ctx.training,
        rng: ctx.rng,
        seed: num(p, 'seed'),
      }),
    builtin: {
      label: 'tf.leakyRelu (inference)',
      op: (x, p) => tf.leakyRelu(x, (num(p, 'lower') + num(p, 'upper')) / 2),
    },
    f64: (x, p) => (x >= 0 ? x : ((num(p, 'lower') + num(p, 'upper')) / 2) * x),
    df64: (x, p) => (x > 0 ? 1 : (num(p, 'lower') + num(p, 'upper')) / 2),
    supDerivative: (p) => Math.max(1, Math.abs(num(p, 'lower')), Math.abs(num(p, 'upper'))),
    saturates: 'none',
    zeroCentred: false,
    gain: { source: 'he2015', value: (p) => leakyGain((num(p, 'lower') + num(p, 'upper')) / 2) },
    check: (p) => {
      if (!(num(p, 'lower') <= num(p, 'upper'))) {
        throw new InvalidArgumentError(
          'rrelu lower/upper',
          [num(p, 'lower'), num(p, 'upper')],
          'lower <= upper',
        );
      }
    },
    stochastic: true,
  },
  elu: {
    summary: 'exponential linear unit, any α',
    formula: 'x if x > 0, else α (e^x − 1)',
    derivative: '1 if x > 0, else α e^x',
    params: { alpha: { type: 'number', default: 1, doc: 'negative saturation value −α' } },
    op: (x, p) => elu(x, { alpha: num(p, 'alpha') }),
    builtin: { label: 'tf.elu (α = 1)', op: (x) => tf.elu(x) },
    f64: (x, p) => (x > 0 ? x : num(p, 'alpha') * Math.expm1(x)),
    df64: (x, p) => (x > 0 ? 1 : num(p, 'alpha') * Math.exp(x)),
    supDerivative: (p) => Math.max(1, Math.abs(num(p, 'alpha'))),
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  selu: {
    summary: 'scaled ELU, self-normalising',
    formula: 'λ x if x > 0, else λ α (e^x − 1); λ ≈ 1.0507, α ≈ 1.6733',
    derivative: 'λ if x > 0, else λ α e^x',
    params: {},
    op: (x) => selu(x),
    builtin: { label: 'tf.selu', op: (x) => tf.selu(x) },
    f64: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
    df64: (x) => SELU_SCALE * (x > 0 ? 1 : SELU_ALPHA * Math.exp(x)),
    supDerivative: SELU_SCALE * SELU_ALPHA,
    saturates: 'one',
    zeroCentred: true,
    gain: { source: 'pytorch', value: () => 3 / 4 },
  },
  celu: {
    summary: 'continuously differentiable ELU',
    formula: 'max(0, x) + min(0, α (e^(x/α) − 1))',
    derivative: '1 if x > 0, else e^(x/α)',
    params: { alpha: { type: 'number', default: 1, min: 0, minExclusive: true, doc: 'α > 0' } },
    op: (x, p) => celu(x, { alpha: num(p, 'alpha') }),
    f64: (x, p) => (x > 0 ? x : num(p, 'alpha') * Math.expm1(x / num(p, 'alpha'))),
    df64: (x, p) => (x > 0 ? 1 : Math.exp(x / num(p, 'alpha'))),
    supDerivative: 1,
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  gelu: {
    summary: 'Gaussian error linear unit (exact, erf)',
    formula: 'x Φ(x) = x/2 (1 + erf(x/√2))',
    derivative: 'Φ(x) + x φ(x)',
    params: {},
    op: (x) => gelu(x),
    builtin: {
      label: "tfjs-layers 'gelu'",
      op: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
    },
    f64: (x) => x * normalCdf64(x),
    df64: (x) => normalCdf64(x) + x * normalPdf64(x),
    supDerivative: 'numeric',
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  gelu_tanh: {
    summary: "GELU's tanh approximation",
    formula: 'x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))',
    derivative: '½(1 + tanh u) + ½ x (1 − tanh² u) √(2/π)(1 + 0.134145 x²), u = √(2/π)(x + 0.044715 x³)',
    params: {},
    op: (x) => geluTanh(x),
    builtin: {
      label: "tfjs-layers 'gelu_new'",
      op: (x) =>
        tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(GELU_C, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
    },
    // x sigmoid(2u) = x/2 (1 + tanh u) without the 1 + tanh cancellation (it bites even in float64)
    f64: (x) => x * sigmoid64(2 * GELU_C * (x + 0.044715 * x ** 3)),
    df64: (x) => {
      const u2 = 2 * GELU_C * (x + 0.044715 * x ** 3);
      return sigmoid64(u2) + x * sigmoid64(u2) * sigmoid64(-u2) * 2 * GELU_C * (1 + 3 * 0.044715 * x * x);
    },
    supDerivative: 'numeric',
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  silu: {
    summary: 'sigmoid-weighted linear unit (swish with β = 1)',
    formula: 'x σ(x)',
    derivative: 'σ(x) (1 + x (1 − σ(x)))',
    params: {},
    op: (x) => silu(x),
    builtin: { label: "tfjs-layers 'swish'", op: (x) => tf.mul(x, tf.sigmoid(x)) },
    f64: (x) => x * sigmoid64(x),
    df64: (x) => sigmoid64(x) * (1 + x * sigmoid64(-x)),
    supDerivative: 'numeric',
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
    aliases: ['swish'],
  },
  mish: {
    summary: 'self-regularised non-monotonic activation',
    formula: 'x tanh(softplus(x))',
    derivative: 'tanh(sp(x)) + x σ(x) (1 − tanh²(sp(x))), sp = softplus',
    params: {},
    op: (x) => mish(x),
    builtin: { label: "tfjs-layers 'mish'", op: (x) => tf.mul(x, tf.tanh(tf.softplus(x))) },
    f64: (x) => x * Math.tanh(softplus64(x)),
    df64: (x) => {
      const t = Math.tanh(softplus64(x));
      return t + x * sigmoid64(x) * (1 - t * t);
    },
    supDerivative: 'numeric',
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  softplus: {
    summary: 'smooth ReLU',
    formula: 'log(1 + e^(βx)) / β, or x where βx > threshold',
    derivative: 'σ(βx), or 1 where βx > threshold',
    params: {
      beta: { type: 'number', default: 1, min: 0, minExclusive: true, doc: 'sharpness β > 0' },
      threshold: {
        type: 'number',
        default: 20,
        min: 0,
        minExclusive: true,
        doc: 'above βx > threshold the function is x (PyTorch)',
      },
    },
    op: (x, p) => softplus(x, { beta: num(p, 'beta'), threshold: num(p, 'threshold') }),
    builtin: { label: 'tf.softplus (β = 1)', op: (x) => tf.softplus(x) },
    f64: (x, p) =>
      num(p, 'beta') * x > num(p, 'threshold') ? x : softplus64(num(p, 'beta') * x) / num(p, 'beta'),
    df64: (x, p) => (num(p, 'beta') * x > num(p, 'threshold') ? 1 : sigmoid64(num(p, 'beta') * x)),
    supDerivative: 1,
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  softsign: {
    summary: 'x / (1 + |x|)',
    formula: 'x / (1 + |x|)',
    derivative: '1 / (1 + |x|)²',
    params: {},
    op: (x) => softsign(x),
    builtin: { label: "tfjs-layers 'softsign'", op: (x) => tf.div(x, tf.add(1, tf.abs(x))) },
    f64: (x) => x / (1 + Math.abs(x)),
    df64: (x) => 1 / (1 + Math.abs(x)) ** 2,
    supDerivative: 1,
    saturates: 'both',
    zeroCentred: true,
    gain: { source: 'second_moment' },
  },
  hard_sigmoid: {
    summary: 'piecewise-linear sigmoid (PyTorch / Keras 3 form)',
    formula: 'min(max(x/6 + 1/2, 0), 1) = relu6(x + 3)/6',
    derivative: '1/6 if −3 < x < 3, else 0',
    params: {},
    op: (x) => hardSigmoid(x),
    builtin: {
      label: "tfjs-layers 'hardSigmoid' (Keras 2: 0.2x + 0.5)",
      op: (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1),
    },
    f64: (x) => Math.min(Math.max(x / 6 + 0.5, 0), 1),
    df64: (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
    supDerivative: 1 / 6,
    saturates: 'both',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  hard_swish: {
    summary: 'x · hard_sigmoid(x) (MobileNetV3)',
    formula: 'x relu6(x + 3) / 6',
    derivative: '0 if x < −3; x/3 + 1/2 if −3 ≤ x < 3; 1 if x ≥ 3',
    params: {},
    op: (x) => hardSwish(x),
    f64: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
    df64: (x) => (x < -3 ? 0 : x < 3 ? x / 3 + 0.5 : 1),
    supDerivative: 3 / 2,
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  hard_tanh: {
    summary: 'clip to [min_val, max_val]',
    formula: 'min(max(x, min_val), max_val)',
    derivative: '1 if min_val < x < max_val, else 0',
    params: {
      min_val: { type: 'number', default: -1, doc: 'lower clip value' },
      max_val: { type: 'number', default: 1, doc: 'upper clip value (> min_val)' },
    },
    op: (x, p) => hardTanh(x, { minVal: num(p, 'min_val'), maxVal: num(p, 'max_val') }),
    builtin: {
      label: 'tf.clipByValue',
      op: (x, p) => tf.clipByValue(x, num(p, 'min_val'), num(p, 'max_val')),
    },
    f64: (x, p) => Math.min(Math.max(x, num(p, 'min_val')), num(p, 'max_val')),
    df64: (x, p) => (x > num(p, 'min_val') && x < num(p, 'max_val') ? 1 : 0),
    supDerivative: 1,
    saturates: 'both',
    zeroCentred: true,
    gain: { source: 'second_moment' },
    check: (p) => {
      if (!(num(p, 'min_val') < num(p, 'max_val'))) {
        throw new InvalidArgumentError(
          'hard_tanh min_val/max_val',
          [num(p, 'min_val'), num(p, 'max_val')],
          'min_val < max_val',
        );
      }
    },
  },
  log_sigmoid: {
    summary: 'log of the logistic function',
    formula: 'log σ(x) = −softplus(−x)',
    derivative: 'σ(−x) = 1 − σ(x)',
    params: {},
    op: (x) => logSigmoid(x),
    builtin: { label: 'tf.logSigmoid', op: (x) => tf.logSigmoid(x) },
    f64: (x) => -softplus64(-x),
    df64: (x) => sigmoid64(-x),
    supDerivative: 1,
    saturates: 'one',
    zeroCentred: false,
    gain: { source: 'second_moment' },
  },
  identity: {
    summary: 'no-op (linear)',
    formula: 'x',
    derivative: '1',
    params: {},
    op: (x) => tf.clone(x),
    f64: (x) => x,
    df64: () => 1,
    supDerivative: 1,
    saturates: 'none',
    zeroCentred: true,
    gain: { source: 'pytorch', value: () => 1 },
    aliases: ['linear'],
  },
} as const satisfies Record<string, ActivationSpec>;

/** Canonical activation names (the keys of `ACTIVATIONS`). */
export type CanonicalActivationName = keyof typeof ACTIVATIONS;

type AliasOf<K extends CanonicalActivationName> = (typeof ACTIVATIONS)[K] extends {
  aliases: readonly (infer A extends string)[];
}
  ? A
  : never;

/** Alternative names (`swish`, `linear`). */
export type ActivationAlias = { [K in CanonicalActivationName]: AliasOf<K> }[CanonicalActivationName];

/** Every accepted name: canonical names and aliases. */
export type ActivationName = CanonicalActivationName | ActivationAlias;

/** An activation by name, or by name with parameters: `'relu'`, `{ name: 'leaky_relu', slope: 0.2 }`. */
export type ActivationLike = ActivationName | { name: ActivationName; [param: string]: unknown };

/** An activation with its canonical name and every parameter resolved and validated. */
export interface ResolvedActivation {
  readonly name: CanonicalActivationName;
  readonly spec: ActivationSpec;
  readonly params: ActivationParams;
}

const NAMES = new Registry<CanonicalActivationName>(
  'activation',
  Object.fromEntries(
    (Object.entries(ACTIVATIONS) as [CanonicalActivationName, ActivationSpec][]).flatMap(([name, spec]) => [
      [name, name],
      ...(spec.aliases ?? []).map((alias) => [alias, name] as const),
    ]),
  ) as Record<string, CanonicalActivationName>,
  { hint: 'see listActivations()' },
);

/**
 * The canonical name for a name or alias; throws `UnknownNameError` with suggestions.
 *
 * @example
 * ```ts
 * canonicalActivationName('swish'); // 'silu'
 * if (canonicalActivationName('linear') !== 'identity') throw new Error('unexpected');
 * ```
 */
export function canonicalActivationName(name: string): CanonicalActivationName {
  return NAMES.get(name);
}

/**
 * The spec of an activation by name or alias.
 *
 * @example
 * ```ts
 * getActivation('swish') === ACTIVATIONS.silu; // true
 * getActivation('gelu').derivative; // "Φ(x) + x φ(x)"
 * try {
 *   getActivation('rleu');
 * } catch (e) {
 *   // UnknownNameError: unknown activation 'rleu'; did you mean 'relu' or 'rrelu' or 'elu'? see listActivations()
 *   if (!(e instanceof Error) || !e.message.includes("did you mean 'relu'")) throw e;
 * }
 * ```
 */
export function getActivation<N extends ActivationName>(name: N): ActivationSpec;
export function getActivation(name: string): ActivationSpec;
export function getActivation(name: string): ActivationSpec {
  return ACTIVATIONS[NAMES.get(name)];
}

/**
 * Canonical activation names, in table order; `{ aliases: true }` adds the aliases.
 *
 * @example
 * ```ts
 * listActivations(); // ['sigmoid', 'tanh', 'relu', 'relu6', 'leaky_relu', ...]
 * const all = listActivations({ aliases: true }); // ... plus 'swish' and 'linear'
 * if (listActivations().includes('swish') || !all.includes('swish')) throw new Error('unexpected');
 * ```
 */
export function listActivations(): CanonicalActivationName[];
export function listActivations(options: { aliases: true }): ActivationName[];
export function listActivations(options?: { aliases?: boolean }): ActivationName[];
export function listActivations(options: { aliases?: boolean } = {}): ActivationName[] {
  return (options.aliases ? NAMES.list() : Object.keys(ACTIVATIONS)) as ActivationName[];
}

/**
 * Default parameters of an activation (an empty object for parameter-free ones).
 *
 * @example
 * ```ts
 * defaultParams('leaky_relu'); // { slope: 0.01 } (PyTorch's default, not tfjs's 0.2)
 * defaultParams('hard_tanh'); // { min_val: -1, max_val: 1 }
 * if (defaultParams('leaky_relu').slope !== 0.01 || Object.keys(defaultParams('relu')).length !== 0) {
 *   throw new Error('unexpected');
 * }
 * ```
 */
export function defaultParams(name: ActivationName): ActivationParams {
  const spec = getActivation(name);
  return Object.fromEntries(Object.entries(spec.params).map(([k, s]) => [k, s.default]));
}

/**
 * Resolves an `ActivationLike` to its canonical name, spec and complete, validated parameters.
 * Unknown names throw `UnknownNameError`; unknown or out-of-range parameters throw
 * `InvalidArgumentError` naming the value and the accepted range.
 *
 * @example
 * ```ts
 * const { name, params } = resolveActivation({ name: 'swish' }); // 'silu', {}
 * const leaky = resolveActivation({ name: 'leaky_relu', slope: 0.2 });
 * leaky.params; // { slope: 0.2 }
 * try {
 *   resolveActivation({ name: 'elu', slope: 0.2 });
 * } catch (e) {
 *   // InvalidArgumentError: invalid elu parameter: got 'slope', expected one of alpha
 *   if (!(e instanceof Error) || !e.message.includes('one of alpha')) throw e;
 * }
 * if (name !== 'silu' || Object.keys(params).length !== 0) throw new Error('unexpected');
 * ```
 */
export function resolveActivation(like: ActivationLike | ResolvedActivation): ResolvedActivation {
  if (typeof like === 'object' && like !== null && 'spec' in like && 'params' in like) {
    return resolveActivation({ ...(like.params as Record<string, unknown>), name: like.name });
  }
  if (typeof like !== 'string' && (typeof like !== 'object' || like === null)) {
    throw new InvalidArgumentError(
      'activation',
      like,
      "an activation name (e.g. 'relu') or { name, ...params }; see listActivations()",
    );
  }
  const { name: rawName, ...given } = typeof like === 'string' ? { name: like } : like;
  const name = NAMES.get(rawName as string);
  const spec: ActivationSpec = ACTIVATIONS[name];
  const params: Record<string, number | boolean> = {};
  for (const key of Object.keys(given)) {
    if (!(key in spec.params)) {
      const known = Object.keys(spec.params);
      throw new InvalidArgumentError(
        `${name} parameter`,
        key,
        known.length > 0 ? `one of ${known.join(', ')}` : `none (${name} takes no parameters)`,
      );
    }
  }
  for (const [key, p] of Object.entries(spec.params)) {
    const value = (given as Record<string, unknown>)[key] ?? p.default;
    if (p.type === 'boolean') {
      if (typeof value !== 'boolean')
        throw new InvalidArgumentError(`${name} ${key}`, value, 'true or false');
      params[key] = value;
    } else {
      params[key] = checkFinite(`${name} ${key}`, value, {
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
        ...(p.minExclusive ? { minExclusive: true } : {}),
      });
    }
  }
  spec.check?.(params);
  return { name, spec, params };
}

/**
 * A resolved activation as a short human-readable string: the canonical name and the
 * parameters that differ from their defaults.
 *
 * @example
 * ```ts
 * describeActivation({ name: 'leaky_relu', slope: 0.2 }); // 'leaky_relu(slope=0.2)'
 * describeActivation({ name: 'leaky_relu', slope: 0.01 }); // 'leaky_relu' (default slope)
 * if (describeActivation('swish') !== 'silu') throw new Error('unexpected');
 * ```
 */
export function describeActivation(like: ActivationLike): string {
  const { name, params, spec } = resolveActivation(like);
  const changed = Object.entries(params).filter(([k, v]) => spec.params[k]?.default !== v);
  return changed.length === 0
    ? name
    : `${name}(${changed.map(([k, v]) => `${k}=${formatValue(v)}`).join(', ')})`;
}
