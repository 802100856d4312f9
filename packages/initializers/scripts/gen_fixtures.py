#!/usr/bin/python3
"""Writes fixtures/pytorch_init.json from PyTorch (Debian's torch 1.13 at /usr/bin/python3).

Fans (torch.nn.init._calculate_fan_in_and_fan_out) of real layers' weights, calculate_gain for
every nonlinearity in its table, the std/bound formulas of kaiming_* and xavier_*, and the exact
moments of trunc_normal_ plus torch's own sample moments. Run from the package directory:

    /usr/bin/python3 scripts/gen_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn as nn
from torch.nn import init

torch.manual_seed(0)


def tf_layout(torch_shape, transposed=False):
    """The same weight in tfjs layout: dense [in, out], conv [...k, in, out]; a transposed conv's
    tfjs kernel is [...k, filters(out), in], which is torch's [in, out, ...k] reversed likewise."""
    if len(torch_shape) == 2:
        out_f, in_f = torch_shape
        return [in_f, out_f]
    a, b, *k = torch_shape
    # torch conv: [out, in, *k] -> tfjs [*k, in, out]; torch conv-transpose: [in, out, *k] -> tfjs [*k, out, in]
    return [*k, b, a]


layers = {
    'linear_64_10': nn.Linear(64, 10),
    'linear_3_1000': nn.Linear(3, 1000),
    'conv1d_4_8_k5': nn.Conv1d(4, 8, 5),
    'conv2d_16_32_k3': nn.Conv2d(16, 32, 3),
    'conv2d_3_64_k7': nn.Conv2d(3, 64, 7),
    'conv2d_256_64_k1': nn.Conv2d(256, 64, 1),
    'conv2d_8_8_k3x5': nn.Conv2d(8, 8, (3, 5)),
    'conv3d_2_3_k1x2x3': nn.Conv3d(2, 3, (1, 2, 3)),
    'conv_transpose2d_16_8_k4': nn.ConvTranspose2d(16, 8, 4),
}

fans = []
for name, layer in layers.items():
    w = layer.weight
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(w)
    fans.append({
        'layer': name,
        'torchShape': list(w.shape),
        'tfShape': tf_layout(list(w.shape)),
        'fanIn': fan_in,
        'fanOut': fan_out,
    })

gain_cases = [
    ('linear', None), ('conv1d', None), ('conv2d', None), ('conv3d', None),
    ('conv_transpose1d', None), ('conv_transpose2d', None), ('conv_transpose3d', None),
    ('sigmoid', None), ('tanh', None), ('relu', None), ('selu', None),
    ('leaky_relu', None), ('leaky_relu', 0.0), ('leaky_relu', 0.01), ('leaky_relu', 0.2),
    ('leaky_relu', 1.0), ('leaky_relu', 5.0),
]
gains = [{'nonlinearity': n, 'param': p, 'gain': init.calculate_gain(n, p)} for n, p in gain_cases]

kaiming_cases = [
    {'a': 0.0, 'mode': 'fan_in', 'nonlinearity': 'leaky_relu'},
    {'a': 0.0, 'mode': 'fan_out', 'nonlinearity': 'relu'},
    {'a': 0.2, 'mode': 'fan_in', 'nonlinearity': 'leaky_relu'},
    {'a': math.sqrt(5), 'mode': 'fan_in', 'nonlinearity': 'leaky_relu'},  # torch's Linear/Conv default
    {'a': 0.0, 'mode': 'fan_in', 'nonlinearity': 'tanh'},
    {'a': 0.0, 'mode': 'fan_out', 'nonlinearity': 'selu'},
    {'a': 0.0, 'mode': 'fan_in', 'nonlinearity': 'linear'},
]
formulas = []
for f in fans:
    w = torch.empty(f['torchShape'])
    for c in kaiming_cases:
        fan = init._calculate_correct_fan(w, c['mode'])
        gain = init.calculate_gain(c['nonlinearity'], c['a'])
        std = gain / math.sqrt(fan)
        formulas.append({'kind': 'kaiming', 'layer': f['layer'], 'tfShape': f['tfShape'], **c,
                         'std': std, 'bound': math.sqrt(3.0) * std})
    for gain in (1.0, init.calculate_gain('tanh'), init.calculate_gain('relu')):
        fan_in, fan_out = init._calculate_fan_in_and_fan_out(w)
        std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
        formulas.append({'kind': 'xavier', 'layer': f['layer'], 'tfShape': f['tfShape'], 'gain': gain,
                         'std': std, 'bound': math.sqrt(3.0) * std})


def phi(x):
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) if math.isfinite(x) else 0.0


def Phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def trunc_moments(mean, std, a, b):
    al, be = (a - mean) / std, (b - mean) / std
    z = Phi(be) - Phi(al)
    d = (phi(al) - phi(be)) / z
    var = std * std * (1 + (al * phi(al) - be * phi(be)) / z - d * d)
    return mean + std * d, math.sqrt(var)


trunc = []
for mean, std, a, b in [(0, 1, -2, 2), (0, 0.02, -2, 2), (0, 1, -1, 3), (1, 2, 0, 1.5), (0, 1, 2.5, 4), (0, 1, -0.1, 0.1)]:
    m, s = trunc_moments(mean, std, a, b)
    x = torch.empty(200000, dtype=torch.float64)
    init.trunc_normal_(x, mean=mean, std=std, a=a, b=b)
    trunc.append({'mean': mean, 'std': std, 'a': a, 'b': b, 'exactMean': m, 'exactStd': s,
                  'torchSampleMean': x.mean().item(), 'torchSampleStd': x.std().item(),
                  'torchMin': x.min().item(), 'torchMax': x.max().item()})

# Keras's constant: std of the standard normal truncated to [-2, 2].
keras_correction = trunc_moments(0, 1, -2, 2)[1]

out = {
    'generator': 'scripts/gen_fixtures.py',
    'torch': torch.__version__,
    'fans': fans,
    'gains': gains,
    'formulas': formulas,
    'truncNormal': trunc,
    'kerasTruncationCorrection': keras_correction,
}
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, '..', 'fixtures', 'pytorch_init.json')
with open(path, 'w') as fh:
    json.dump(out, fh, indent=1)
print('wrote', os.path.normpath(path), os.path.getsize(path), 'bytes')
