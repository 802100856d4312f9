import { describe, expect, it } from 'vitest';
import { ShapeError, InvalidArgumentError } from './errors.js';
import { computeFans, normalizeAxis, sizeOf } from './shape.js';
import { checkFinite, checkInteger, checkLayerName, checkOneOf, checkRate } from './validate.js';

describe('computeFans', () => {
  it('matches PyTorch for dense and conv kernels in tfjs layout', () => {
    // torch.nn.Linear(64, 10).weight is [10, 64]: fan_in 64, fan_out 10.
    expect(computeFans([64, 10])).toEqual({ fanIn: 64, fanOut: 10, receptiveField: 1 });
    // torch.nn.Conv2d(16, 32, 3).weight is [32, 16, 3, 3]: fan_in 144, fan_out 288.
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288, receptiveField: 9 });
    // Conv1d(4, 8, 5) and Conv3d(2, 3, (1, 2, 3)).
    expect(computeFans([5, 4, 8])).toMatchObject({ fanIn: 20, fanOut: 40 });
    expect(computeFans([1, 2, 3, 2, 3])).toMatchObject({ fanIn: 12, fanOut: 18 });
  });

  it('rejects rank < 2 and non-positive dimensions with typed errors', () => {
    expect(() => computeFans([10])).toThrow(ShapeError);
    expect(() => computeFans([10])).toThrow('fans are undefined for rank 0 and 1');
    expect(() => computeFans([3, 0])).toThrow(
      'weight has shape [3, 0], expected dimensions that are positive integers',
    );
    expect(() => computeFans([3, -2])).toThrow(ShapeError);
  });
});

describe('helpers', () => {
  it('size, axis and argument checks', () => {
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(normalizeAxis(-1, 4)).toBe(3);
    expect(() => normalizeAxis(4, 4)).toThrow('expected an integer in [-4, 3] for rank 4');
    expect(checkInteger('groups', 4)).toBe(4);
    expect(() => checkInteger('groups', 0)).toThrow(InvalidArgumentError);
    expect(() => checkFinite('gain', Infinity)).toThrow(
      'invalid gain: got Infinity, expected a finite number',
    );
    expect(() => checkFinite('std', 0, { min: 0, minExclusive: true })).toThrow(
      'expected a finite number > 0',
    );
    expect(checkOneOf('mode', 'fan_in', ['fan_in', 'fan_out'] as const)).toBe('fan_in');
    expect(() => checkOneOf('mode', 'fan', ['fan_in', 'fan_out'])).toThrow(
      'expected one of "fan_in", "fan_out"',
    );
  });

  it('checkRate accepts [0, 1) and names the argument otherwise', () => {
    expect(checkRate('dropout', 0)).toBe(0);
    expect(checkRate('dropout', 0.5)).toBe(0.5);
    for (const bad of [1, -0.1, Number.NaN, '0.2'])
      expect(() => checkRate('dropout', bad)).toThrow('invalid dropout');
    expect(() => checkRate('dropPath', 1)).toThrow('expected a finite number in [0, 1)');
  });

  it('checkLayerName keeps a valid prefix, makes fresh ones, and rejects bad ones', () => {
    expect(checkLayerName('stage2_block1', 'block')).toBe('stage2_block1');
    const a = checkLayerName(undefined, 'se');
    const b = checkLayerName(undefined, 'se');
    expect(a).toMatch(/^se\d+$/);
    expect(b).not.toBe(a);
    for (const bad of ['', 'has space', 3, null])
      expect(() => checkLayerName(bad, 'block')).toThrow('invalid name');
  });
});
