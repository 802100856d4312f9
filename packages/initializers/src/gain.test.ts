import { GradflowError, InvalidArgumentError, UnknownNameError, computeFans } from '@gradflow/core';
import { activationGain, listActivations } from '@gradflow/activations';
import { loadFixture } from '@gradflow/testing';
import { describe, expect, it } from 'vitest';
import { PYTORCH_GAINS, calculateGain } from './gain.js';
import { TRUNCATION_STD_CORRECTION } from './sampling.js';

interface Fixture {
  fans: { layer: string; torchShape: number[]; tfShape: number[]; fanIn: number; fanOut: number }[];
  gains: { nonlinearity: string; param: number | null; gain: number }[];
  kerasTruncationCorrection: number;
}
const fixture = loadFixture<Fixture>(import.meta.url, '../fixtures/pytorch_init.json');

describe('fans', () => {
  it("equal torch.nn.init._calculate_fan_in_and_fan_out for the same layers' weights", () => {
    expect(fixture.fans.length).toBeGreaterThan(5);
    for (const f of fixture.fans) {
      const fans = computeFans(f.tfShape);
      expect({ layer: f.layer, fanIn: fans.fanIn, fanOut: fans.fanOut }).toEqual({
        layer: f.layer,
        fanIn: f.fanIn,
        fanOut: f.fanOut,
      });
    }
  });
});

describe('calculateGain', () => {
  it("equals torch.nn.init.calculate_gain on PyTorch's whole table", () => {
    for (const { nonlinearity, param, gain } of fixture.gains) {
      const ours = calculateGain(nonlinearity, param ?? undefined);
      expect(ours, `${nonlinearity}(${param})`).toBeCloseTo(gain, 14);
    }
    const covered = new Set(fixture.gains.map((g) => g.nonlinearity));
    expect([...covered].sort()).toEqual(Object.keys(PYTORCH_GAINS).sort());
  });

  it('rejects non-finite or negative params and unknown names with typed errors', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity, -0.1]) {
      expect(() => calculateGain('leaky_relu', bad)).toThrow(InvalidArgumentError);
    }
    expect(() => calculateGain('leaky_relu', -1)).toThrow(
      "invalid param of calculateGain('leaky_relu'): got -1, expected a finite number >= 0",
    );
    let error: unknown;
    try {
      calculateGain('leaky_reul');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownNameError);
    expect((error as UnknownNameError).suggestions).toContain('leaky_relu');
    expect(() => calculateGain('no_such_thing_at_all')).toThrow(GradflowError);
  });
});

describe('calculateGain beyond PyTorch falls back to the activation metadata', () => {
  it('gives every activation (and alias) a finite positive gain, equal to activationGain', () => {
    for (const name of listActivations({ aliases: true })) {
      const gain = calculateGain(name);
      expect(Number.isFinite(gain) && gain > 0, name).toBe(true);
      // Names in both tables: PyTorch's value, which the activation metadata agrees with.
      expect(gain, name).toBeCloseTo(activationGain(name), 6);
    }
    expect(calculateGain('gelu')).toBe(activationGain('gelu'));
    expect(calculateGain('swish')).toBe(activationGain('silu'));
    expect(calculateGain('identity')).toBe(1);
  });

  it("passes param as the activation's single numeric parameter, objects as they are", () => {
    expect(calculateGain('elu', 0.5)).toBe(activationGain({ name: 'elu', alpha: 0.5 }));
    expect(calculateGain({ name: 'leaky_relu', slope: 0.2 })).toBeCloseTo(
      calculateGain('leaky_relu', 0.2),
      12,
    );
    expect(() => calculateGain('gelu', 0.5)).toThrow(
      "'gelu' has 0 numeric parameters; pass { name: 'gelu', ...params } instead",
    );
    expect(() => calculateGain({ name: 'elu', alpha: 2 }, 1)).toThrow(InvalidArgumentError);
  });
});

describe('truncation correction', () => {
  it("is Keras's constant, the std of a standard normal truncated to [-2, 2]", () => {
    expect(TRUNCATION_STD_CORRECTION).toBeCloseTo(fixture.kerasTruncationCorrection, 15);
  });
});
