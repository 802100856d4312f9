import * as tf from '@tensorflow/tfjs';
import { activationGain } from '@gradflow/activations';
import { InvalidArgumentError, ShapeError } from '@gradflow/core';
import { loadFixture } from '@gradflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GradflowInitializer } from './base.js';
import { resolveInitializer, type InitializerLike } from './registry.js';
import { TRUNCATION_STD_CORRECTION } from './sampling.js';

interface Formula {
  kind: 'kaiming' | 'xavier';
  layer: string;
  tfShape: number[];
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: string;
  gain?: number;
  std: number;
  bound: number;
}
const fixture = loadFixture<{ formulas: Formula[] }>(import.meta.url, '../fixtures/pytorch_init.json');

const DRAWS = 100_000;

/** At least `DRAWS` values from repeated calls (a seeded instance advances its stream). */
function draw(spec: InitializerLike, shape: number[]): Float32Array {
  const init = resolveInitializer(spec);
  const size = shape.reduce((a, b) => a * b, 1);
  const calls = Math.ceil(DRAWS / size);
  const out = new Float32Array(calls * size);
  for (let c = 0; c < calls; c++) {
    const t = init.apply(shape, 'float32');
    out.set(t.dataSync(), c * size);
    t.dispose();
  }
  return out;
}

function moments(x: Float32Array): { mean: number; std: number; maxAbs: number } {
  let s = 0,
    s2 = 0,
    maxAbs = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(s2 / x.length - mean * mean), maxAbs };
}

const fanAvg = (shape: number[]) => {
  const rf = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return ((shape.at(-2)! + shape.at(-1)!) * rf) / 2;
};
const fanIn = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);
const fanOut = (shape: number[]) => shape.slice(0, -2).reduce((a, b) => a * b, 1) * shape.at(-1)!;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('variance scaling family: sample std within 2% of the formula on 1e5 draws', () => {
  const dense = [250, 400];
  const conv = [3, 3, 64, 48];
  const cases: { spec: InitializerLike; shape: number[]; std: number; distribution: string }[] = [];
  for (const shape of [dense, conv]) {
    for (const [mode, fan] of [
      ['fan_in', fanIn(shape)],
      ['fan_out', fanOut(shape)],
      ['fan_avg', fanAvg(shape)],
    ] as const) {
      for (const distribution of ['normal', 'truncated_normal', 'uniform']) {
        cases.push({
          spec: { name: 'variance_scaling', scale: 2.5, mode, distribution, seed: 3 },
          shape,
          std: Math.sqrt(2.5 / fan),
          distribution,
        });
      }
    }
    for (const [suffix, distribution] of [
      ['normal', 'normal'],
      ['truncated_normal', 'truncated_normal'],
      ['uniform', 'uniform'],
    ]) {
      cases.push({
        spec: { name: `glorot_${suffix}` as 'glorot_normal', seed: 1 },
        shape,
        std: Math.sqrt(2 / (2 * fanAvg(shape))),
        distribution: distribution!,
      });
      cases.push({
        spec: { name: `glorot_${suffix}` as 'glorot_normal', gain: 5 / 3, seed: 1 },
        shape,
        std: (5 / 3) * Math.sqrt(1 / fanAvg(shape)),
        distribution: distribution!,
      });
      cases.push({
        spec: { name: `he_${suffix}` as 'he_normal', seed: 2 },
        shape,
        std: Math.sqrt(2 / fanIn(shape)),
        distribution: distribution!,
      });
      cases.push({
        spec: { name: `he_${suffix}` as 'he_normal', a: 0.2, mode: 'fan_out', seed: 2 },
        shape,
        std: Math.sqrt(2 / (1 + 0.04)) / Math.sqrt(fanOut(shape)),
        distribution: distribution!,
      });
      cases.push({
        spec: { name: `lecun_${suffix}` as 'lecun_normal', seed: 4 },
        shape,
        std: Math.sqrt(1 / fanIn(shape)),
        distribution: distribution!,
      });
    }
  }
  cases.push({
    spec: { name: 'kaiming_normal', nonlinearity: 'tanh', seed: 5 },
    shape: dense,
    std: 5 / 3 / Math.sqrt(250),
    distribution: 'normal',
  });
  cases.push({
    spec: { name: 'kaiming_uniform', nonlinearity: 'selu', seed: 5 },
    shape: dense,
    std: 0.75 / Math.sqrt(250),
    distribution: 'uniform',
  });
  // Beyond PyTorch's table the gain comes from the activation metadata; `a` only matters for leaky_relu.
  cases.push({
    spec: { name: 'kaiming_normal', nonlinearity: 'gelu', a: 0.3, seed: 5 },
    shape: dense,
    std: activationGain('gelu') / Math.sqrt(250),
    distribution: 'normal',
  });
  cases.push({
    spec: { name: 'he_uniform', nonlinearity: 'relu', a: 0.3, seed: 5 },
    shape: dense,
    std: Math.SQRT2 / Math.sqrt(250),
    distribution: 'uniform',
  });
  cases.push({
    spec: { name: 'xavier_normal', seed: 6 },
    shape: conv,
    std: Math.sqrt(1 / fanAvg(conv)),
    distribution: 'normal',
  });
  cases.push({
    spec: { name: 'xavier_uniform', seed: 6 },
    shape: conv,
    std: Math.sqrt(1 / fanAvg(conv)),
    distribution: 'uniform',
  });

  it.each(cases.map((c) => [JSON.stringify(c.spec) + ' ' + JSON.stringify(c.shape), c] as const))(
    '%s',
    (_label, c) => {
      const before = tf.memory().numTensors;
      const x = draw(c.spec, c.shape);
      expect(tf.memory().numTensors).toBe(before);
      const { mean, std, maxAbs } = moments(x);
      expect(Math.abs(std / c.std - 1)).toBeLessThan(0.02);
      expect(Math.abs(mean)).toBeLessThan(0.02 * c.std);
      if (c.distribution === 'uniform') {
        expect(maxAbs).toBeLessThanOrEqual(Math.fround(c.std * Math.sqrt(3)) * (1 + 1e-6));
        expect(maxAbs).toBeGreaterThan(c.std * Math.sqrt(3) * 0.999);
      } else if (c.distribution === 'truncated_normal') {
        // Cut at ±2 std of the underlying normal, whose std is target / 0.8796...
        const bound = (2 * c.std) / TRUNCATION_STD_CORRECTION;
        expect(maxAbs).toBeLessThanOrEqual(bound * (1 + 1e-6));
        expect(maxAbs).toBeGreaterThan(bound * 0.99);
      } else {
        expect(maxAbs).toBeGreaterThan(3.5 * c.std);
      }
    },
  );
});

describe('kaiming / xavier match the std and bound formulas of torch.nn.init', () => {
  it('for every layer shape and option set in the fixture (1e5 draws each)', () => {
    expect(fixture.formulas.length).toBeGreaterThan(50);
    for (const f of fixture.formulas) {
      const options =
        f.kind === 'kaiming' ? { a: f.a, mode: f.mode, nonlinearity: f.nonlinearity } : { gain: f.gain };
      const prefix = f.kind;
      // The formula itself, exactly.
      const normal = resolveInitializer({
        name: `${prefix}_normal` as 'kaiming_normal',
        ...options,
        seed: 7,
      }) as unknown as GradflowInitializer & { std(shape: number[]): number };
      expect(normal.std(f.tfShape), `${f.layer} ${JSON.stringify(options)}`).toBeCloseTo(f.std, 12);
    }
    // And the samples, on a subset (all of it would be slow and adds nothing).
    for (const f of fixture.formulas.filter((_, i) => i % 7 === 0)) {
      const options =
        f.kind === 'kaiming' ? { a: f.a, mode: f.mode, nonlinearity: f.nonlinearity } : { gain: f.gain };
      const n = moments(
        draw({ name: `${f.kind}_normal` as 'kaiming_normal', ...options, seed: 8 }, f.tfShape),
      );
      expect(Math.abs(n.std / f.std - 1), `${f.layer} normal`).toBeLessThan(0.02);
      const u = moments(
        draw({ name: `${f.kind}_uniform` as 'kaiming_uniform', ...options, seed: 8 }, f.tfShape),
      );
      expect(Math.abs(u.std / f.std - 1), `${f.layer} uniform`).toBeLessThan(0.02);
      expect(u.maxAbs).toBeLessThanOrEqual(Math.fround(f.bound) * (1 + 1e-6));
    }
  });
});

describe("tfjs's truncated normal is too narrow (tfjs#8594); ours is not", () => {
  it('tfjs heNormal has ~0.88x the target std, he_truncated_normal has the target', () => {
    const shape = [400, 250];
    const target = Math.sqrt(2 / 400);
    const t = tf.initializers.heNormal({ seed: 1 }).apply(shape);
    const theirs = moments(t.dataSync() as Float32Array).std / target;
    t.dispose();
    const ours = moments(draw({ name: 'he_truncated_normal', seed: 1 }, shape)).std / target;
    expect(theirs).toBeGreaterThan(0.86);
    expect(theirs).toBeLessThan(0.9);
    expect(Math.abs(ours - 1)).toBeLessThan(0.02);
  });
});

describe('bad input', () => {
  it('rank-1 shapes, zero or negative fans are shape errors naming the shape', () => {
    const init = resolveInitializer('he_normal');
    expect(() => init.apply([10])).toThrow(ShapeError);
    expect(() => init.apply([10])).toThrow('weight has shape [10], expected rank >= 2');
    expect(() => init.apply([3, 0])).toThrow(
      'has shape [3, 0], expected dimensions that are positive integers',
    );
    expect(() => init.apply([3, -4])).toThrow(ShapeError);
    expect(() => resolveInitializer('glorot_uniform').apply([])).toThrow(ShapeError);
  });

  it('non-finite or non-positive scale and gain, typos in mode and distribution are argument errors', () => {
    const bad: [InitializerLike, string][] = [
      [
        { name: 'variance_scaling', scale: Number.NaN },
        'invalid scale: got NaN, expected a finite number > 0',
      ],
      [{ name: 'variance_scaling', scale: 0 }, 'invalid scale: got 0'],
      [{ name: 'variance_scaling', scale: -1 }, 'invalid scale'],
      [{ name: 'glorot_normal', gain: Infinity }, 'invalid gain: got Infinity'],
      [{ name: 'xavier_uniform', gain: -1 }, 'invalid gain: got -1'],
      [
        { name: 'variance_scaling', mode: 'fan_inn' },
        'invalid mode: got \'fan_inn\', expected one of "fan_in", "fan_out", "fan_avg"',
      ],
      [
        { name: 'variance_scaling', distribution: 'gaussian' },
        'invalid distribution: got \'gaussian\', expected one of "normal", "truncated_normal", "uniform"',
      ],
      [
        { name: 'kaiming_normal', mode: 'fan_avg' },
        'invalid mode: got \'fan_avg\', expected one of "fan_in", "fan_out"',
      ],
      [{ name: 'kaiming_normal', a: Number.NaN }, 'invalid a: got NaN'],
      [{ name: 'kaiming_normal', nonlinearity: 'rleu' }, "unknown nonlinearity 'rleu'; did you mean 'relu'"],
      [
        { name: 'he_normal', mdoe: 'fan_out' },
        "invalid kaiming option: got 'mdoe', expected one of 'a', 'mode', 'nonlinearity', 'seed'",
      ],
      [{ name: 'lecun_normal', seed: Number.NaN }, 'invalid seed: got NaN'],
    ];
    for (const [spec, message] of bad) {
      expect(() => resolveInitializer(spec), JSON.stringify(spec)).toThrow(message);
    }
    expect(() => resolveInitializer({ name: 'variance_scaling', scale: Number.NaN })).toThrow(
      InvalidArgumentError,
    );
  });
});
