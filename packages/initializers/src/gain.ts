import { activationGain, getActivation, listActivations, type ActivationLike } from '@gradflow/activations';
import { InvalidArgumentError, UnknownNameError, suggestNames } from '@gradflow/core';

/**
 * PyTorch's `torch.nn.init.calculate_gain` table, verbatim: the factor by which a
 * nonlinearity's input standard deviation should exceed its output's so that signals keep
 * their scale through depth (He et al. 2015 for ReLU, Klambauer et al. 2017 for SELU's 3/4).
 *
 * @example
 * ```ts
 * Object.keys(PYTORCH_GAINS); // ['linear', 'conv1d', ..., 'tanh', 'relu', 'leaky_relu', 'selu']
 * PYTORCH_GAINS.leaky_relu(0.2); // sqrt(2 / 1.04) ≈ 1.3868
 * if (PYTORCH_GAINS.tanh() !== 5 / 3 || PYTORCH_GAINS.leaky_relu() !== Math.sqrt(2 / 1.0001)) {
 *   throw new Error('unexpected');
 * }
 * ```
 */
export const PYTORCH_GAINS = {
  linear: () => 1,
  conv1d: () => 1,
  conv2d: () => 1,
  conv3d: () => 1,
  conv_transpose1d: () => 1,
  conv_transpose2d: () => 1,
  conv_transpose3d: () => 1,
  sigmoid: () => 1,
  tanh: () => 5 / 3,
  relu: () => Math.SQRT2,
  leaky_relu: (negativeSlope = 0.01) => Math.sqrt(2 / (1 + negativeSlope ** 2)),
  selu: () => 3 / 4,
} as const satisfies Record<string, (param?: number) => number>;

/** The nonlinearity names of PyTorch's `calculate_gain` table (`'linear'`, `'tanh'`, `'relu'`, ...). */
export type PytorchGainName = keyof typeof PYTORCH_GAINS;

function isPytorchName(name: string): name is PytorchGainName {
  return Object.prototype.hasOwnProperty.call(PYTORCH_GAINS, name);
}

/**
 * The recommended gain for a nonlinearity, exactly PyTorch's `calculate_gain` for the names in
 * its table: 1 for linear, conv and sigmoid, 5/3 for tanh, sqrt(2) for relu,
 * sqrt(2 / (1 + slope^2)) for leaky_relu (slope `param`, default 0.01), 3/4 for selu.
 *
 * Any other activation of `@gradflow/activations` (by name, alias, or `{ name, ...params }`)
 * gets the gain of its metadata (`activationGain`): He et al.'s formula for prelu/rrelu, and
 * 1/sqrt(E f(z)^2), z ~ N(0, 1), for the rest (gelu, silu, elu, ...). For those, `param` sets the
 * activation's single numeric parameter (elu's alpha, ...). `param` must be finite and >= 0.
 *
 * @example
 * ```ts
 * calculateGain('tanh'); // 1.6666666666666667
 * calculateGain('leaky_relu', 0.2); // 1.3867504905630728
 * calculateGain('gelu'); // from the activation metadata
 * calculateGain({ name: 'elu', alpha: 0.5 }); // any activation, with its parameters
 * if (calculateGain('relu') !== Math.SQRT2) throw new Error('unexpected');
 * ```
 */
export function calculateGain(
  nonlinearity: string | Exclude<ActivationLike, string>,
  param?: number,
): number {
  const label =
    typeof nonlinearity === 'object' && nonlinearity !== null
      ? String(nonlinearity.name)
      : String(nonlinearity);
  if (param !== undefined && (typeof param !== 'number' || !Number.isFinite(param) || param < 0)) {
    throw new InvalidArgumentError(`param of calculateGain('${label}')`, param, 'a finite number >= 0');
  }
  if (typeof nonlinearity === 'string' && isPytorchName(nonlinearity)) {
    return PYTORCH_GAINS[nonlinearity](param);
  }
  if (typeof nonlinearity === 'object' && nonlinearity !== null) {
    if (param !== undefined) {
      throw new InvalidArgumentError(
        `param of calculateGain({ name: '${label}', ... })`,
        param,
        'undefined',
        'give the parameters in the object',
      );
    }
    return activationGain(nonlinearity);
  }
  const activations: readonly string[] = listActivations({ aliases: true });
  if (typeof nonlinearity !== 'string' || !activations.includes(nonlinearity)) {
    const known = [...Object.keys(PYTORCH_GAINS), ...activations.filter((n) => !isPytorchName(n))];
    const suggestions = typeof nonlinearity === 'string' ? suggestNames(nonlinearity, known) : [];
    throw new UnknownNameError(
      'nonlinearity',
      nonlinearity,
      known,
      suggestions,
      'see PYTORCH_GAINS and listActivations()',
    );
  }
  if (param === undefined) return activationGain(nonlinearity as ActivationLike);
  const numeric = Object.entries(getActivation(nonlinearity).params).filter(
    ([, spec]) => spec.type === 'number',
  );
  if (numeric.length !== 1) {
    throw new InvalidArgumentError(
      `param of calculateGain('${nonlinearity}')`,
      param,
      'undefined',
      `'${nonlinearity}' has ${numeric.length} numeric parameters; pass { name: '${nonlinearity}', ...params } instead`,
    );
  }
  return activationGain({ name: nonlinearity, [numeric[0]![0]]: param } as ActivationLike);
}
