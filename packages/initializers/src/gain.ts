import { InvalidArgumentError, UnknownNameError, suggestNames } from '@gradflow/core';

/**
 * PyTorch's `torch.nn.init.calculate_gain` table, verbatim: the factor by which a
 * nonlinearity's input standard deviation should exceed its output's so that signals keep
 * their scale through depth (He et al. 2015 for ReLU, Klambauer et al. 2017 for SELU's 3/4).
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

export type PytorchGainName = keyof typeof PYTORCH_GAINS;

function isPytorchName(name: string): name is PytorchGainName {
  return Object.prototype.hasOwnProperty.call(PYTORCH_GAINS, name);
}

/**
 * The recommended gain for a nonlinearity, exactly PyTorch's `calculate_gain`: 1 for linear,
 * conv and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu
 * (slope `param`, default 0.01), 3/4 for selu. `param` must be finite and non-negative.
 *
 * @example
 * ```ts
 * calculateGain('tanh');             // 1.6666666666666667
 * calculateGain('leaky_relu', 0.2);  // 1.3867504905630728
 * ```
 */
export function calculateGain(nonlinearity: string, param?: number): number {
  if (param !== undefined && (typeof param !== 'number' || !Number.isFinite(param) || param < 0)) {
    throw new InvalidArgumentError(
      `param of calculateGain('${String(nonlinearity)}')`,
      param,
      'a finite number >= 0',
    );
  }
  if (typeof nonlinearity === 'string' && isPytorchName(nonlinearity)) {
    return PYTORCH_GAINS[nonlinearity](param);
  }
  const known = Object.keys(PYTORCH_GAINS);
  const suggestions = typeof nonlinearity === 'string' ? suggestNames(nonlinearity, known) : [];
  throw new UnknownNameError('nonlinearity', nonlinearity, known, suggestions);
}
