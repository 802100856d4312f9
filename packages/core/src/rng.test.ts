import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Rng(7).fill(5, (r) => r.uniform());
    const b = new Rng(7).fill(5, (r) => r.uniform());
    const c = new Rng(8).fill(5, (r) => r.uniform());
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
  });

  it('draws uniforms and normals with the right moments', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let su = 0,
      su2 = 0,
      sn = 0,
      sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      const z = rng.normal();
      su += u;
      su2 += u * u;
      sn += z;
      sn2 += z * z;
    }
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(su2 / n - (su / n) ** 2).toBeCloseTo(1 / 12, 3);
    expect(sn / n).toBeCloseTo(0, 2);
    expect(Math.sqrt(sn2 / n)).toBeCloseTo(1, 2);
  });

  it('makes permutations and rejects bad arguments', () => {
    const p = new Rng(3).permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(() => new Rng(Number.NaN)).toThrow('invalid seed: got NaN, expected a finite number');
    expect(() => new Rng(1).int(0)).toThrow('expected a positive integer');
  });
});
