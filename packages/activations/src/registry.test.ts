import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnknownNameError } from '@gradflow/core';
import {
  ACTIVATIONS,
  canonicalActivationName,
  describeActivation,
  getActivation,
  listActivations,
  resolveActivation,
} from './index.js';

describe('activation registry', () => {
  it('lists every activation once and resolves aliases to the same spec', () => {
    expect(listActivations()).toEqual(Object.keys(ACTIVATIONS));
    expect(listActivations()).toHaveLength(21);
    expect(getActivation('swish')).toBe(ACTIVATIONS.silu);
    expect(getActivation('linear')).toBe(ACTIVATIONS.identity);
    expect(canonicalActivationName('swish')).toBe('silu');
    expect(listActivations({ aliases: true })).toContain('linear');
  });

  it('suggests the closest name for an unknown one', () => {
    let error: unknown;
    try {
      getActivation('rleu');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownNameError);
    expect((error as UnknownNameError).message).toMatch(/unknown activation 'rleu'; did you mean 'relu'/);
    expect(() => getActivation('hardSigmoid')).toThrow(/did you mean 'hard_sigmoid'/);
    expect(() => resolveActivation({ name: 'gleu' as 'gelu' })).toThrow(/did you mean 'elu' or 'gelu'\?/);
  });

  it('fills defaults and validates parameters with typed errors naming value and range', () => {
    expect(resolveActivation('leaky_relu').params).toEqual({ slope: 0.01 });
    expect(resolveActivation({ name: 'softplus', beta: 2 }).params).toEqual({ beta: 2, threshold: 20 });
    const cases: [Parameters<typeof resolveActivation>[0], RegExp][] = [
      [{ name: 'softplus', beta: -1 }, /invalid softplus beta: got -1, expected a finite number > 0/],
      [{ name: 'softplus', threshold: 0 }, /invalid softplus threshold: got 0, expected a finite number > 0/],
      [
        { name: 'leaky_relu', slope: Number.NaN },
        /invalid leaky_relu slope: got NaN, expected a finite number/,
      ],
      [{ name: 'leaky_relu', slope: Infinity }, /invalid leaky_relu slope: got Infinity/],
      [
        { name: 'hard_tanh', min_val: 1, max_val: 1 },
        /invalid hard_tanh min_val\/max_val: got \[1, 1\], expected min_val < max_val/,
      ],
      [{ name: 'rrelu', lower: 0.5, upper: 0.1 }, /expected lower <= upper/],
      [{ name: 'celu', alpha: 0 }, /invalid celu alpha: got 0, expected a finite number > 0/],
      [{ name: 'prelu', per_channel: 'yes' }, /invalid prelu per_channel: got 'yes', expected true or false/],
      [
        { name: 'relu', slope: 0.1 },
        /invalid relu parameter: got 'slope', expected none \(relu takes no parameters\)/,
      ],
      [{ name: 'elu', alhpa: 2 }, /invalid elu parameter: got 'alhpa', expected one of alpha/],
    ];
    for (const [like, message] of cases) {
      expect(() => resolveActivation(like)).toThrow(InvalidArgumentError);
      expect(() => resolveActivation(like)).toThrow(message);
    }
    expect(() => resolveActivation(42 as never)).toThrow(InvalidArgumentError);
  });

  it('describes activations compactly', () => {
    expect(describeActivation('relu')).toBe('relu');
    expect(describeActivation({ name: 'leaky_relu', slope: 0.2 })).toBe('leaky_relu(slope=0.2)');
  });
});
