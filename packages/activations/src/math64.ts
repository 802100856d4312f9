/*
 * Float64 scalar helpers for the reference formulas (`f64`, `df64`) that feed the metadata
 * (gains, sup |f'|, moments). Accurate to ~1e-14, far beyond what the metadata needs.
 */

export function sigmoid64(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + exp(x)) without overflow. */
export function softplus64(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** erfc by its Taylor series of erf (|x| < 3) or Lentz's continued fraction (|x| >= 3). */
export function erfc64(x: number): number {
  if (x < 0) return 2 - erfc64(-x);
  if (x < 3) {
    // erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Standard normal CDF. */
export function normalCdf64(x: number): number {
  return 0.5 * erfc64(-x * Math.SQRT1_2);
}

/** Standard normal density. */
export function normalPdf64(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** E[g(z)] for z ~ N(0, 1), composite Simpson on [-12, 12] (the mass outside is < 1e-32). */
export function gaussianExpectation(g: (z: number) => number, steps = 24_000): number {
  const a = -12;
  const h = 24 / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const z = a + i * h;
    const w = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2;
    sum += w * g(z) * normalPdf64(z);
  }
  return (sum * h) / 3;
}

/**
 * max |g(x)| over x in [-lo, hi]: a grid scan, then golden-section refinement around the best
 * grid point (g is smooth near its extremum for every activation that needs this).
 */
export function maxAbs(g: (x: number) => number, lo = -20, hi = 20, steps = 40_000): number {
  const h = (hi - lo) / steps;
  let best = lo;
  let bestValue = -1;
  for (let i = 0; i <= steps; i++) {
    const x = lo + i * h;
    const v = Math.abs(g(x));
    if (v > bestValue) {
      bestValue = v;
      best = x;
    }
  }
  let a = best - h;
  let b = best + h;
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 100; i++) {
    const c = b - ratio * (b - a);
    const d = a + ratio * (b - a);
    if (Math.abs(g(c)) > Math.abs(g(d))) b = d;
    else a = c;
  }
  return Math.max(bestValue, Math.abs(g((a + b) / 2)));
}
