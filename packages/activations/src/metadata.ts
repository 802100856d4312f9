import { gaussianExpectation, maxAbs } from './math64.js';
import {
  ACTIVATIONS,
  describeActivation,
  resolveActivation,
  type ActivationLike,
  type CanonicalActivationName,
} from './registry.js';
import type { Saturation } from './spec.js';

/** The metadata of one activation at given parameters. */
export interface ActivationInfo {
  name: CanonicalActivationName;
  params: Readonly<Record<string, number | boolean>>;
  formula: string;
  derivative: string;
  /** sup over x of |f'(x)|: how much one layer can amplify a gradient (sigmoid: 1/4). */
  supDerivative: number;
  /** Where f' -> 0: |f'(-1e4)| and |f'(1e4)| below 1e-6 (the table's value at default parameters). */
  saturates: Saturation;
  /** |E f(z)| <= 0.05 sqrt(E f(z)^2) for z ~ N(0, 1) (the table's value at default parameters). */
  zeroCentred: boolean;
  /** Recommended initialisation gain (see `gainSource`). */
  gain: number;
  /** `pytorch`: torch.nn.init.calculate_gain; `he2015`: leaky-ReLU formula at PReLU/RReLU's slope; `second_moment`: 1/sqrt(E f(z)^2). */
  gainSource: 'pytorch' | 'he2015' | 'second_moment';
  /** E f(z) and E f(z)^2 for z ~ N(0, 1) (inference mode). */
  mean: number;
  secondMoment: number;
}

const cache = new Map<string, ActivationInfo>();

/**
 * Metadata of an activation at its (default or given) parameters. Exact closed forms where they
 * exist; sup |f'| of gelu, gelu_tanh, silu and mish is maximised numerically from the float64
 * derivative, and moments are integrated numerically (Simpson, 24k steps on [-12, 12]).
 *
 * @example
 * ```ts
 * activationInfo('sigmoid').supDerivative; // 0.25
 * activationInfo({ name: 'leaky_relu', slope: 0.2 }).gain; // sqrt(2 / 1.04)
 * const { saturates, zeroCentred, gainSource } = activationInfo('tanh'); // 'both', true, 'pytorch'
 * if (saturates !== 'both' || !zeroCentred || gainSource !== 'pytorch') throw new Error('unexpected');
 * ```
 */
export function activationInfo(like: ActivationLike): ActivationInfo {
  const key = describeActivation(like);
  const hit = cache.get(key);
  if (hit) return hit;
  const { name, spec, params } = resolveActivation(like);
  const f = (x: number) => spec.f64(x, params);
  const df = (x: number) => spec.df64(x, params);
  const sup =
    spec.supDerivative === 'numeric'
      ? maxAbs(df)
      : typeof spec.supDerivative === 'function'
        ? spec.supDerivative(params)
        : spec.supDerivative;
  const mean = gaussianExpectation(f);
  const secondMoment = gaussianExpectation((z) => f(z) ** 2);
  const gain = spec.gain.source === 'second_moment' ? 1 / Math.sqrt(secondMoment) : spec.gain.value(params);
  // at non-default parameters these can differ from the table (leaky_relu with slope 0 saturates,
  // hard_tanh on [-2, 0.5] is not centred), so they are derived from f itself
  const left = Math.abs(df(-1e4)) < 1e-6;
  const right = Math.abs(df(1e4)) < 1e-6;
  const saturates: Saturation = left && right ? 'both' : left || right ? 'one' : 'none';
  const zeroCentred = Math.abs(mean) <= 0.05 * Math.sqrt(secondMoment);
  const info: ActivationInfo = {
    name,
    params,
    formula: spec.formula,
    derivative: spec.derivative,
    supDerivative: sup,
    saturates,
    zeroCentred,
    gain,
    gainSource: spec.gain.source,
    mean,
    secondMoment,
  };
  cache.set(key, info);
  return info;
}

/**
 * sup over x of |f'(x)|, the most one layer of this activation can amplify a gradient; see
 * {@link activationInfo}.
 *
 * @example
 * ```ts
 * supDerivative('sigmoid'); // 0.25: 10 sigmoid layers scale a gradient by at most 0.25^10 ≈ 1e-6
 * supDerivative('tanh'); // 1
 * if (supDerivative('sigmoid') !== 0.25 || supDerivative({ name: 'elu', alpha: 2 }) !== 2) {
 *   throw new Error('unexpected');
 * }
 * ```
 */
export function supDerivative(like: ActivationLike): number {
  return activationInfo(like).supDerivative;
}

/**
 * Recommended initialisation gain (to multiply a fan-scaled init's std by); see
 * {@link activationInfo} and `GainRule`.
 *
 * @example
 * ```ts
 * activationGain('relu'); // √2 ≈ 1.4142
 * activationGain('tanh'); // 5/3
 * activationGain({ name: 'leaky_relu', slope: 0.2 }); // sqrt(2 / 1.04) ≈ 1.3868
 * if (Math.abs(activationGain('relu') - Math.SQRT2) > 1e-12) throw new Error('unexpected');
 * ```
 */
export function activationGain(like: ActivationLike): number {
  return activationInfo(like).gain;
}

function fmt(x: number): string {
  const known: [number, string][] = [
    [Math.SQRT2, '√2'],
    [5 / 3, '5/3'],
    [1 / 6, '1/6'],
    [1 / 4, '1/4'],
    [3 / 4, '3/4'],
    [3 / 2, '3/2'],
  ];
  for (const [v, s] of known) if (Math.abs(x - v) < 1e-12) return s;
  return String(Number(x.toPrecision(5)));
}

/**
 * The metadata of every activation at default parameters, as a markdown table (the README's
 * table is this function's output).
 *
 * @example
 * ```ts
 * const table = activationTable();
 * // | name | f(x) | f'(x) | sup \|f'\| | saturates | zero-centred | gain (source) | params (defaults) |
 * // |---|---|---|---|---|---|---|---|
 * // | `sigmoid` | σ(x) = 1 / (1 + e^(−x)) | σ(x) (1 − σ(x)) | 1/4 | both | no | 1 (pytorch) | – |
 * // ...
 * if (table.split('\n').length !== listActivations().length + 2) throw new Error('one row per activation');
 * ```
 */
export function activationTable(): string {
  const lines = [
    "| name | f(x) | f'(x) | sup \\|f'\\| | saturates | zero-centred | gain (source) | params (defaults) |",
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const name of Object.keys(ACTIVATIONS) as CanonicalActivationName[]) {
    const spec = ACTIVATIONS[name];
    const info = activationInfo(name);
    const aliases = 'aliases' in spec ? ` (${spec.aliases.join(', ')})` : '';
    const params = Object.entries(spec.params)
      .map(([k, p]) => `${k}=${typeof p.default === 'number' ? fmt(p.default) : String(p.default)}`)
      .join(', ');
    const cell = (s: string) => s.replace(/\|/g, '\\|');
    lines.push(
      `| \`${name}\`${aliases} | ${cell(spec.formula)} | ${cell(spec.derivative)} | ${fmt(info.supDerivative)} | ${info.saturates} | ${info.zeroCentred ? 'yes' : 'no'} | ${fmt(info.gain)} (${info.gainSource}) | ${params || '–'} |`,
    );
  }
  return lines.join('\n');
}
