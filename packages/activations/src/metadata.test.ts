import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadFixture } from '@gradflow/testing';
import {
  ACTIVATIONS,
  SELU_ALPHA,
  SELU_SCALE,
  activationGain,
  activationInfo,
  activationTable,
  getActivation,
  listActivations,
  resolveActivation,
  supDerivative,
  type ActivationLike,
} from './index.js';

interface Case {
  name: string;
  params: Record<string, number>;
  x: number[];
  g: number[];
  value64: number[];
  grad64: number[];
  supDerivative: number;
  mean: number;
  secondMoment: number;
}
const fixture = loadFixture<{ cases: Case[]; calculateGain: Record<string, number> }>(
  import.meta.url,
  '../fixtures/activations.json',
);
const like = (c: Case) => ({ name: c.name, ...c.params }) as ActivationLike;

describe('activation metadata', () => {
  it('has the exact closed forms', () => {
    expect(supDerivative('sigmoid')).toBe(1 / 4);
    expect(supDerivative('tanh')).toBe(1);
    expect(supDerivative('relu')).toBe(1);
    expect(supDerivative('selu')).toBe(SELU_SCALE * SELU_ALPHA);
    expect(supDerivative('hard_sigmoid')).toBe(1 / 6);
    expect(supDerivative('hard_swish')).toBe(3 / 2);
    expect(supDerivative({ name: 'elu', alpha: 2 })).toBe(2);
    expect(supDerivative({ name: 'leaky_relu', slope: -3 })).toBe(3);
    // silu's maximum slope, 1.0998 at x = 2.3994 (a root of 1 + x tanh(x/2) ... solved numerically)
    expect(supDerivative('silu')).toBeCloseTo(1.0998, 4);
  });

  it('agrees with PyTorch: float64 reference formulas, sup |f′|, moments', () => {
    for (const c of fixture.cases) {
      const { spec, params } = resolveActivation(like(c));
      c.x.forEach((x, i) => {
        const v = spec.f64(x, params);
        // PyTorch's float64 formulas cancel too (sigmoid' = y (1 - y), elu = exp(x) - 1: absolute errors ~1e-16; hardsigmoid's 1/6 is a float32 constant)
        const d = spec.df64(x, params) * c.g[i]!;
        expect(Math.abs(v - c.value64[i]!), `${c.name} f64(${x})`).toBeLessThanOrEqual(
          1e-7 * Math.abs(c.value64[i]!) + 1e-15,
        );
        expect(Math.abs(d - c.grad64[i]!), `${c.name} df64(${x})`).toBeLessThanOrEqual(
          1e-7 * Math.abs(c.grad64[i]!) + 1e-15,
        );
      });
      const info = activationInfo(like(c));
      // PyTorch's sup is a max over a grid of step 1e-4 on [-20, 20]: never above the true sup,
      // and below it by at most step * max |f''| (hard_swish's sup 3/2 is only approached as x -> 3-)
      expect(c.supDerivative, `${c.name} sup`).toBeLessThanOrEqual(info.supDerivative * (1 + 1e-7));
      expect(c.supDerivative, `${c.name} sup`).toBeGreaterThanOrEqual(info.supDerivative - 1e-4);
      expect(info.mean, `${c.name} mean`).toBeCloseTo(c.mean, 8);
      expect(info.secondMoment, `${c.name} E f^2`).toBeCloseTo(c.secondMoment, 8);
    }
    for (const name of ['gelu', 'gelu_tanh', 'silu', 'mish']) {
      const c = fixture.cases.find((k) => k.name === name)!;
      expect(Math.abs(supDerivative(like(c)) / c.supDerivative - 1), name).toBeLessThan(1e-8);
    }
  });

  it("uses PyTorch's calculate_gain where it has one, and says where it does not", () => {
    const torch = fixture.calculateGain;
    expect(activationGain('identity')).toBeCloseTo(torch.linear!, 12);
    expect(activationGain('linear')).toBeCloseTo(torch.linear!, 12);
    expect(activationGain('sigmoid')).toBeCloseTo(torch.sigmoid!, 12);
    expect(activationGain('tanh')).toBeCloseTo(torch.tanh!, 12);
    expect(activationGain('relu')).toBeCloseTo(torch.relu!, 12);
    expect(activationGain('selu')).toBeCloseTo(torch.selu!, 12);
    expect(activationGain('leaky_relu')).toBeCloseTo(torch.leaky_relu!, 12);
    expect(activationGain({ name: 'leaky_relu', slope: 0.2 })).toBeCloseTo(torch['leaky_relu:0.2']!, 12);
    expect(activationGain('prelu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.25 ** 2)), 12);
    expect(activationInfo('prelu').gainSource).toBe('he2015');
    for (const c of fixture.cases) {
      const info = activationInfo(like(c));
      if (info.gainSource === 'second_moment')
        expect(info.gain).toBeCloseTo(1 / Math.sqrt(c.secondMoment), 8);
    }
    // the second-moment rule reproduces PyTorch's ReLU gain, so the two families agree in kind
    const relu = fixture.cases.find((c) => c.name === 'relu')!;
    expect(1 / Math.sqrt(relu.secondMoment)).toBeCloseTo(Math.SQRT2, 8);
  });

  it('derives saturation and zero-centring consistently with the functions', () => {
    for (const name of listActivations()) {
      const spec = getActivation(name);
      const info = activationInfo(name);
      // the table's flags are what f' at +-1e4 and the Gaussian moments say
      expect(spec.saturates, name).toBe(info.saturates);
      expect(spec.zeroCentred, name).toBe(info.zeroCentred);
    }
    expect(activationInfo({ name: 'leaky_relu', slope: 0 }).saturates).toBe('one');
    expect(activationInfo({ name: 'hard_tanh', min_val: -2, max_val: 0.5 }).zeroCentred).toBe(false);
    expect(activationInfo('selu').mean).toBeCloseTo(0, 6);
    expect(activationInfo('selu').secondMoment).toBeCloseTo(1, 6);
  });

  it('renders the table into the README', () => {
    const table = activationTable();
    expect(table.split('\n')).toHaveLength(2 + Object.keys(ACTIVATIONS).length);
    expect(table).toContain('| `silu` (swish) |');
    expect(getActivation('swish').formula).toBe('x σ(x)');
    // compared cell by cell: prettier pads markdown tables
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const between =
      readme.split('<!-- activation-table:start -->')[1]?.split('<!-- activation-table:end -->')[0] ?? '';
    const cells = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.trim().startsWith('|'))
        .map((line) =>
          line.split(/(?<!\\)\|/).map((c) =>
            c
              .trim()
              .replace(/\s+/g, ' ')
              .replace(/^:?-+:?$/, '---'),
          ),
        );
    expect(
      cells(between),
      'README table is stale: run `npx tsx --conditions=source scripts/readme-table.ts`',
    ).toEqual(cells(table));
  });
});
