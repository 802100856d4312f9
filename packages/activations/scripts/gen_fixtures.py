#!/usr/bin/python3
"""Golden fixtures for @gradflow/activations from PyTorch (Debian's torch 1.13).

Run with the system Python that has torch:  /usr/bin/python3 scripts/gen_fixtures.py

For every activation and parameter variant, on a sweep of float32 inputs that includes large |x|
(±100, ±20, ...), values near 0 and every kink, it records
  value32 / grad32: PyTorch in float32 (what a PyTorch user gets),
  value64 / grad64: PyTorch in float64 on the same float32 inputs (the exact function, rounded),
(for gelu and gelu_tanh via the algebraically identical forms x/2 erfc(-x/sqrt 2) and
x sigmoid(2u), because 1 + erf and 1 + tanh cancel to 0 even in float64 for x < -6),
where grad = d/dx sum(f(x) * g) for a fixed g (so the chain rule's dy is exercised too).
It also records, per variant, sup|f'| on a dense float64 grid and the moments E f(z), E f(z)^2
for z ~ N(0, 1) (Simpson's rule on PyTorch's f), to check the metadata.
Non-finite numbers are written as the strings "NaN", "Infinity", "-Infinity".
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

assert torch.__version__.startswith('1.13'), torch.__version__

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures', 'activations.json')

BASE = [
    -100, -88, -50, -30, -20.5, -20, -19.5, -17, -15, -12, -10, -8, -6, -5, -4, -3.5, -3.0001, -3, -2.9999, -2.5,
    -2, -1.5, -1.19, -1, -0.75, -0.5, -0.25, -0.1, -0.01, -1e-3, -1e-4, -1e-6, -1e-8, 0, 1e-8, 1e-6, 1e-4, 1e-3,
    0.01, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 2.9999, 3, 3.0001, 3.5, 4, 5, 5.9999, 6, 6.0001, 7, 8, 10, 12, 15,
    17, 19.5, 20, 20.5, 30, 50, 88, 100,
]


def variants():
    """(name, params, torch function of (x, params), extra kinks)"""
    v = []
    add = lambda name, params, fn, kinks=(): v.append((name, params, fn, list(kinks)))
    add('sigmoid', {}, lambda x, p: torch.sigmoid(x))
    add('tanh', {}, lambda x, p: torch.tanh(x))
    add('relu', {}, lambda x, p: F.relu(x))
    add('relu6', {}, lambda x, p: F.relu6(x))
    for p in ({}, {'slope': 0.2}, {'slope': -0.5}):
        add('leaky_relu', p, lambda x, p: F.leaky_relu(x, p.get('slope', 0.01)))
    for p in ({}, {'init': 0.1}):
        add('prelu', p, lambda x, p: F.prelu(x, torch.tensor([p.get('init', 0.25)], dtype=x.dtype)))
    for p in ({}, {'lower': 0.1, 'upper': 0.3}):
        add('rrelu', p, lambda x, p: F.rrelu(x, p.get('lower', 1 / 8), p.get('upper', 1 / 3), training=False))
    for p in ({}, {'alpha': 0.5}, {'alpha': 2}):
        add('elu', p, lambda x, p: F.elu(x, p.get('alpha', 1.0)))
    add('selu', {}, lambda x, p: F.selu(x))
    for p in ({}, {'alpha': 0.5}, {'alpha': 2}):
        add('celu', p, lambda x, p: F.celu(x, p.get('alpha', 1.0)))
    add('gelu', {}, lambda x, p: F.gelu(x) if x.dtype == torch.float32 else
        x * 0.5 * torch.special.erfc(-x * math.sqrt(0.5)))
    add('gelu_tanh', {}, lambda x, p: F.gelu(x, approximate='tanh') if x.dtype == torch.float32 else
        x * torch.sigmoid(2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    add('silu', {}, lambda x, p: F.silu(x))
    add('mish', {}, lambda x, p: F.mish(x))
    for p, kinks in (({}, ()), ({'beta': 2}, (9.9999, 10, 10.0001)), ({'beta': 0.5, 'threshold': 10}, (19.999, 20.001)),
                     ({'threshold': 5}, (4.9999, 5, 5.0001))):
        add('softplus', p, lambda x, p: F.softplus(x, p.get('beta', 1), p.get('threshold', 20)), kinks)
    add('softsign', {}, lambda x, p: F.softsign(x))
    add('hard_sigmoid', {}, lambda x, p: F.hardsigmoid(x))
    add('hard_swish', {}, lambda x, p: F.hardswish(x))
    for p, kinks in (({}, ()), ({'min_val': -2, 'max_val': 0.5}, (-2.0001, -2, -1.9999, 0.4999, 0.5, 0.5001))):
        add('hard_tanh', p, lambda x, p: F.hardtanh(x, p.get('min_val', -1.0), p.get('max_val', 1.0)), kinks)
    add('log_sigmoid', {}, lambda x, p: F.logsigmoid(x))
    add('identity', {}, lambda x, p: x.clone())
    return v


def enc(a):
    out = []
    for t in np.asarray(a, dtype=np.float64).tolist():
        if math.isnan(t):
            out.append('NaN')
        elif math.isinf(t):
            out.append('Infinity' if t > 0 else '-Infinity')
        else:
            out.append(t)
    return out


def value_and_grad(fn, x, g, p, dtype):
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    y = fn(xt, p)
    (y * torch.tensor(g, dtype=dtype)).sum().backward()
    return y.detach().numpy(), xt.grad.numpy()


def sup_derivative(fn, p):
    x = torch.linspace(-20, 20, 400_001, dtype=torch.float64, requires_grad=True)
    fn(x, p).sum().backward()
    return float(x.grad.abs().max())


def moments(fn, p):
    z = np.linspace(-12, 12, 48_001)
    w = np.full(z.shape, 2.0)
    w[1::2] = 4.0
    w[0] = w[-1] = 1.0
    h = z[1] - z[0]
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    with torch.no_grad():
        f = fn(torch.tensor(z, dtype=torch.float64), p).numpy()
    return float((w * f * pdf).sum() * h / 3), float((w * f * f * pdf).sum() * h / 3)


def main():
    rng = np.random.default_rng(20240601)
    cases = []
    for name, params, fn, kinks in variants():
        x = np.array(sorted(set(BASE + kinks)), dtype=np.float32)
        g = (rng.uniform(0.5, 1.5, x.shape) * rng.choice([-1.0, 1.0], x.shape)).astype(np.float32)
        v32, g32 = value_and_grad(fn, x, g, params, torch.float32)
        v64, g64 = value_and_grad(fn, x.astype(np.float64), g.astype(np.float64), params, torch.float64)
        mean, second = moments(fn, params)
        cases.append({
            'name': name,
            'params': params,
            'x': enc(x),
            'g': enc(g),
            'value32': enc(v32),
            'grad32': enc(g32),
            'value64': enc(v64),
            'grad64': enc(g64),
            'supDerivative': sup_derivative(fn, params),
            'mean': mean,
            'secondMoment': second,
        })
    gains = {k: torch.nn.init.calculate_gain(*k.split(':')) if ':' not in k else
             torch.nn.init.calculate_gain(k.split(':')[0], float(k.split(':')[1]))
             for k in ['linear', 'sigmoid', 'tanh', 'relu', 'selu', 'leaky_relu']}
    gains['leaky_relu:0.2'] = torch.nn.init.calculate_gain('leaky_relu', 0.2)
    doc = {'torch': torch.__version__, 'note': 'generated by scripts/gen_fixtures.py; do not edit',
           'cases': cases, 'calculateGain': gains}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump(doc, fh, separators=(',', ':'))
    print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
