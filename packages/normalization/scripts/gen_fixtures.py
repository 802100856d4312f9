#!/usr/bin/python3
"""Golden fixtures for @gradflow/normalization, from PyTorch 1.13 (Debian python3-torch).

Run from the package directory:  /usr/bin/python3 scripts/gen_fixtures.py

Inputs are float32 numbers (so the TypeScript side sees exactly the same values); every
reference is computed in float64, so the only error left in the comparison is the float32
arithmetic of the layer under test. Tensors are stored channels-last (NHWC) as tfjs uses them;
PyTorch runs on the NCHW transpose. For each case: output y, and the gradients of
loss = sum(y * dy) with respect to the input and to gamma/beta (or kernel/bias).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(20261123)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'norms.json')


def f32(shape, scale=1.0, offset=0.0):
    """Random float32 values (as float64 arrays holding exactly those float32 numbers)."""
    return (rng.standard_normal(shape) * scale + offset).astype(np.float32).astype(np.float64)


def enc(a):
    a = np.asarray(a, dtype=np.float64)
    return {'shape': list(a.shape), 'data': [float('%.10g' % v) for v in a.reshape(-1)]}


def nchw(x):
    return torch.tensor(np.ascontiguousarray(np.moveaxis(x, -1, 1)), requires_grad=True)


def nhwc(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


N, H, W, C = 4, 5, 5, 6
fixtures = {'meta': {'torch': torch.__version__, 'N': N, 'H': H, 'W': W, 'C': C}}

# Shared inputs: an offset, scaled input (so centring matters) and an upstream gradient.
xs = [f32((N, H, W, C), 2.0, 0.5) for _ in range(3)]
x_eval = f32((N, H, W, C), 1.5, 0.25)
dy = f32((N, H, W, C))
gamma = f32((C,), 0.5, 1.0)
beta = f32((C,), 0.5, 0.0)
fixtures['inputs'] = {'x': [enc(x) for x in xs], 'x_eval': enc(x_eval), 'dy': enc(dy), 'gamma': enc(gamma), 'beta': enc(beta)}


def affine_grads(module, x, extra=None):
    """Output, dx, dgamma, dbeta of `module` on NHWC x (the module runs on NCHW)."""
    t = nchw(x)
    y = module(t)
    (y * nchw(dy).detach()).sum().backward()
    out = {'y': enc(nhwc(y)), 'dx': enc(nhwc(t.grad))}
    if getattr(module, 'weight', None) is not None:
        out['dgamma'] = enc(module.weight.grad.numpy())
        out['dbeta'] = enc(module.bias.grad.numpy())
    return out


def set_affine(module):
    with torch.no_grad():
        module.weight.copy_(torch.tensor(gamma))
        module.bias.copy_(torch.tensor(beta))


# --- BatchNorm2d: training call on xs[0], then 3 training steps, then eval -----------------------
for key, momentum in (('batch_norm', 0.1), ('batch_norm_cumulative', None)):
    bn = torch.nn.BatchNorm2d(C, eps=1e-5, momentum=momentum)
    set_affine(bn)
    bn.train()
    case = {'momentum': momentum, 'train': affine_grads(bn, xs[0])}
    # Start the running statistics again and track them over three training calls.
    bn.reset_running_stats()
    steps = []
    with torch.no_grad():
        for x in xs:
            bn(nchw(x))
            steps.append({'running_mean': enc(bn.running_mean.numpy()), 'running_var': enc(bn.running_var.numpy()), 'num_batches_tracked': int(bn.num_batches_tracked)})
    case['steps'] = steps
    bn.eval()
    bn.zero_grad()
    case['eval'] = affine_grads(bn, x_eval)
    fixtures[key] = case

# --- BatchNorm1d on [N*H, C] (rank 2) ---------------------------------------------------------
x2 = xs[1].reshape(N * H * W, C)[:8]
bn1 = torch.nn.BatchNorm1d(C, eps=1e-5, momentum=0.1)
set_affine(bn1)
t2 = torch.tensor(x2, requires_grad=True)
y2 = bn1(t2)
dy2 = dy.reshape(N * H * W, C)[:8]
(y2 * torch.tensor(dy2)).sum().backward()
fixtures['batch_norm_rank2'] = {
    'x': enc(x2), 'dy': enc(dy2), 'y': enc(y2.detach().numpy()), 'dx': enc(t2.grad.numpy()),
    'dgamma': enc(bn1.weight.grad.numpy()), 'dbeta': enc(bn1.bias.grad.numpy()),
    'running_mean': enc(bn1.running_mean.numpy()), 'running_var': enc(bn1.running_var.numpy()),
}

# --- GroupNorm(3 groups, 6 channels) ------------------------------------------------------------
gn = torch.nn.GroupNorm(3, C, eps=1e-5)
set_affine(gn)
fixtures['group_norm'] = {'groups': 3, 'train': affine_grads(gn, xs[0])}

# --- InstanceNorm2d(affine, track_running_stats) ---------------------------------------------
inn = torch.nn.InstanceNorm2d(C, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)
set_affine(inn)
inn.train()
case = {'train': affine_grads(inn, xs[0])}
inn.reset_running_stats()
steps = []
with torch.no_grad():
    for x in xs:
        inn(nchw(x))
        steps.append({'running_mean': enc(inn.running_mean.numpy()), 'running_var': enc(inn.running_var.numpy())})
case['steps'] = steps
inn.eval()
inn.zero_grad()
case['eval'] = affine_grads(inn, x_eval)
fixtures['instance_norm'] = case
# Plain InstanceNorm2d (no affine, no running stats): the same in training and inference.
plain = torch.nn.InstanceNorm2d(C, eps=1e-5)
fixtures['instance_norm_plain'] = {'train': affine_grads(plain, xs[0])}

# --- LayerNorm: over the channels of NHWC, and over [H, W, C] ----------------------------------
def layer_norm_case(shape_axes):
    ln = torch.nn.LayerNorm(shape_axes, eps=1e-5)
    g = f32(shape_axes, 0.5, 1.0)
    b = f32(shape_axes, 0.5, 0.0)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(g))
        ln.bias.copy_(torch.tensor(b))
    t = torch.tensor(xs[0], requires_grad=True)  # LayerNorm normalizes trailing axes: NHWC as is
    y = ln(t)
    (y * torch.tensor(dy)).sum().backward()
    return {'gamma': enc(g), 'beta': enc(b), 'y': enc(y.detach().numpy()), 'dx': enc(t.grad.numpy()),
            'dgamma': enc(ln.weight.grad.numpy()), 'dbeta': enc(ln.bias.grad.numpy())}


fixtures['layer_norm'] = layer_norm_case([C])
fixtures['layer_norm_hwc'] = layer_norm_case([H, W, C])

# --- RMSNorm by the paper's formula (torch 1.13 has no nn.RMSNorm) -----------------------------
eps_rms = 1e-6
g = torch.tensor(gamma, requires_grad=True)
t = torch.tensor(xs[0], requires_grad=True)
y = t / torch.sqrt(torch.mean(t * t, dim=-1, keepdim=True) + eps_rms) * g
(y * torch.tensor(dy)).sum().backward()
fixtures['rms_norm'] = {'epsilon': eps_rms, 'y': enc(y.detach().numpy()), 'dx': enc(t.grad.numpy()), 'dgamma': enc(g.grad.numpy())}

# --- Weight-standardized conv by formula (BiT / timm StdConv2d) --------------------------------
eps_ws = 1e-6
xw = f32((2, 6, 6, 3))
kernel_tf = f32((3, 3, 3, 4), 0.3, 0.05)  # tfjs layout [kh, kw, in, out]
bias = f32((4,), 0.1)
ws = {'epsilon': eps_ws, 'x': enc(xw), 'kernel': enc(kernel_tf), 'bias': enc(bias)}
for padding in ('same', 'valid'):
    k = torch.tensor(np.ascontiguousarray(kernel_tf.transpose(3, 2, 0, 1)), requires_grad=True)  # [out, in, kh, kw]
    b = torch.tensor(bias, requires_grad=True)
    mean = k.mean(dim=(1, 2, 3), keepdim=True)
    var = k.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
    k_hat = (k - mean) / torch.sqrt(var + eps_ws)
    t = nchw(xw)
    y = F.conv2d(t, k_hat, b, stride=1, padding=1 if padding == 'same' else 0)
    dyw = f32(tuple(nhwc(y).shape))
    (y * nchw(dyw).detach()).sum().backward()
    ws[padding] = {'dy': enc(dyw), 'y': enc(nhwc(y)), 'dx': enc(nhwc(t.grad)),
                   'dkernel': enc(k.grad.numpy().transpose(2, 3, 1, 0)), 'dbias': enc(b.grad.numpy())}
fixtures['ws_conv'] = ws

with open(OUT, 'w') as f:
    json.dump(fixtures, f, separators=(',', ':'))
print(f'wrote {OUT}: {os.path.getsize(OUT)} bytes')
