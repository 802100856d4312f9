import { GradflowError, InvalidArgumentError, UnknownNameError, computeFans } from '@gradflow/core';
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

describe('truncation correction', () => {
  it("is Keras's constant, the std of a standard normal truncated to [-2, 2]", () => {
    expect(TRUNCATION_STD_CORRECTION).toBeCloseTo(fixture.kerasTruncationCorrection, 15);
  });
});
