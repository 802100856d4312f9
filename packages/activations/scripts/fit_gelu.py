#!/usr/bin/python3
"""Coefficients of gelu's normal tail (MILLS_S in src/ops.ts).

Run with the system Python:  /usr/bin/python3 scripts/fit_gelu.py   (numpy + mpmath; ~20 s)

The upper tail of the standard normal is Q(a) = phi(a) R(a), R the Mills ratio. With
t = 1 / (1 + p a) (p = 0.35), R(a) / t is smooth on t in (0, 1] and is fitted by a degree-8
polynomial S(t) for minimal relative error on a in [0, 14] (phi(14) ~ 1e-43 underflows float32,
so nothing beyond matters) by iteratively reweighted least squares towards the minimax fit.
Prints the coefficients (t^0 first), the fit's maximum relative error and that of its float32
evaluation as in src/ops.ts (powers by repeated products, summed in float32).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 30
P, DEG, AMAX = 0.35, 8, 14.0


def s_exact(t):
    t = mp.mpf(t)
    a = (1 / t - 1) / P
    mills = mp.sqrt(mp.pi / 2) * mp.erfc(a / mp.sqrt(2)) * mp.exp(a * a / 2)
    return mills / t


def fit(n=1500):
    tmin = 1 / (1 + P * AMAX)
    k = np.arange(n)
    t = np.concatenate([tmin + (1 - tmin) * (0.5 - 0.5 * np.cos(np.pi * (k + 0.5) / n)), [tmin, 1.0]])
    f = np.array([float(s_exact(v)) for v in t])
    v = np.vander(t, DEG + 1, increasing=True)
    w = 1 / np.abs(f)
    best = None
    for _ in range(200):
        c, *_ = np.linalg.lstsq(v * w[:, None], f * w, rcond=None)
        r = np.abs(v @ c - f) / np.abs(f)
        if best is None or r.max() < best[1]:
            best = (c, r.max())
        w = w * (r / r.max() + 1e-3) ** 0.5
        w /= w.max()
    return best


def float32_error(c):
    a = np.linspace(0, AMAX, 20001).astype(np.float32)
    k = np.float32(1 / P)
    t = (k / (a + k)).astype(np.float32)
    powers = [np.ones_like(t), t]
    for i in range(2, DEG + 1):
        half = powers[i // 2]
        powers.append((half * half if i % 2 == 0 else powers[i - 1] * t).astype(np.float32))
    acc = np.zeros_like(t)
    for ci, pw in zip(c.astype(np.float32), powers):
        acc = (acc + (ci * pw).astype(np.float32)).astype(np.float32)
    exact = np.array([float(s_exact(float(v))) for v in t.astype(np.float64)])
    return float((np.abs(acc.astype(np.float64) - exact) / exact).max())


def main():
    c, err = fit()
    print(f'p = {P}, degree {DEG}, a in [0, {AMAX}]')
    print(f'fit relative error {err:.2e}, float32 evaluation {float32_error(c):.2e}')
    print('MILLS_S = [' + ', '.join(repr(float(v)) for v in c) + ']')


if __name__ == '__main__':
    main()
