"""Golden fixtures for @gradflow/recurrent, from torch 1.13 (Debian python3-torch).

Run:  /usr/bin/python3 packages/recurrent/scripts/gen_fixtures.py

Each case fixes weights, input, initial state and loss projections, runs torch.nn.RNN / GRU /
LSTM (or, for the Cho et al. GRU, a hand-written reference in torch ops) in float64 on
float32-representable values, and records outputs, final states and the gradients of

    loss = sum(output * P) + sum(h_n * Q) [+ sum(c_n * R)]

w.r.t. the input, the initial states and every weight (PyTorch names and layout). Computing
the reference in float64 means the tests measure only gradflow's float32 error.
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures')
B, I, H = 3, 4, 5


def f32(t):
    """Round to float32, return float64 (exactly float32-representable)."""
    return t.to(torch.float32).to(torch.float64)


def enc(t):
    t = t.detach().to(torch.float64)
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def torch_case(name, mode, T, num_layers=1, bidirectional=False, nonlinearity='tanh', lengths=None, seed=0, scale=None):
    g = torch.Generator().manual_seed(seed)
    D = 2 if bidirectional else 1
    kw = dict(input_size=I, hidden_size=H, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    if mode == 'RNN':
        mod = torch.nn.RNN(nonlinearity=nonlinearity, **kw)
    elif mode == 'GRU':
        mod = torch.nn.GRU(**kw)
    else:
        mod = torch.nn.LSTM(**kw)
    mod = mod.double()
    bound = scale if scale is not None else 1.0 / H ** 0.5
    with torch.no_grad():
        for p in mod.parameters():
            p.copy_(f32((torch.rand(p.shape, generator=g, dtype=torch.float64) * 2 - 1) * bound))
    x = f32(torch.rand(B, T, I, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    h0 = f32((torch.rand(num_layers * D, B, H, generator=g, dtype=torch.float64) * 2 - 1) * 0.5).requires_grad_(True)
    c0 = f32((torch.rand(num_layers * D, B, H, generator=g, dtype=torch.float64) * 2 - 1) * 0.5).requires_grad_(True)
    P = f32(torch.rand(B, T, D * H, generator=g, dtype=torch.float64) * 2 - 1)
    Q = f32(torch.rand(num_layers * D, B, H, generator=g, dtype=torch.float64) * 2 - 1)
    R = f32(torch.rand(num_layers * D, B, H, generator=g, dtype=torch.float64) * 2 - 1)
    state = (h0, c0) if mode == 'LSTM' else h0
    if lengths is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        y, st = mod(packed, state)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=T)
    else:
        y, st = mod(x, state)
    hn, cn = st if mode == 'LSTM' else (st, None)
    loss = (y * P).sum() + (hn * Q).sum() + ((cn * R).sum() if cn is not None else 0)
    inputs = [x, h0] + ([c0] if mode == 'LSTM' else [])
    params = dict(mod.named_parameters())
    grads = torch.autograd.grad(loss, inputs + list(params.values()))
    ng = len(inputs)
    case = {
        'name': name,
        'mode': mode if mode != 'RNN' else 'RNN_' + nonlinearity.upper(),
        'T': T,
        'numLayers': num_layers,
        'bidirectional': bidirectional,
        'lengths': lengths,
        'x': enc(x),
        'h0': enc(h0),
        'P': enc(P),
        'Q': enc(Q),
        'weights': {k: enc(v) for k, v in params.items()},
        'output': enc(y),
        'h_n': enc(hn),
        'grad_x': enc(grads[0]),
        'grad_h0': enc(grads[1]),
        'grad_weights': {k: enc(v) for k, v in zip(params.keys(), grads[ng:])},
    }
    if mode == 'LSTM':
        case.update({'c0': enc(c0), 'R': enc(R), 'c_n': enc(cn), 'grad_c0': enc(grads[2])})
    return case


def cho_case(name, T, seed=0):
    """GRU of Cho et al. 2014 / Keras reset_after=False, written out in torch ops.

    Keras layout: kernel [I, 3H], recurrent_kernel [H, 3H], bias [3H], gates z, r, h:
        z = sigmoid(x W_z + h U_z + b_z),  r = sigmoid(x W_r + h U_r + b_r)
        hh = tanh(x W_h + (r * h) U_h + b_h)
        h' = z * h + (1 - z) * hh
    """
    g = torch.Generator().manual_seed(seed)
    bound = 1.0 / H ** 0.5
    u = lambda *s: f32((torch.rand(*s, generator=g, dtype=torch.float64) * 2 - 1) * bound)
    W = u(I, 3 * H).requires_grad_(True)
    U = u(H, 3 * H).requires_grad_(True)
    b = u(3 * H).requires_grad_(True)
    x = f32(torch.rand(B, T, I, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    h0 = f32((torch.rand(B, H, generator=g, dtype=torch.float64) * 2 - 1) * 0.5).requires_grad_(True)
    P = f32(torch.rand(B, T, H, generator=g, dtype=torch.float64) * 2 - 1)
    Q = f32(torch.rand(B, H, generator=g, dtype=torch.float64) * 2 - 1)
    h = h0
    ys = []
    for t in range(T):
        xp = x[:, t] @ W + b
        z = torch.sigmoid(xp[:, :H] + h @ U[:, :H])
        r = torch.sigmoid(xp[:, H:2 * H] + h @ U[:, H:2 * H])
        hh = torch.tanh(xp[:, 2 * H:] + (r * h) @ U[:, 2 * H:])
        h = z * h + (1 - z) * hh
        ys.append(h)
    y = torch.stack(ys, 1)
    loss = (y * P).sum() + (h * Q).sum()
    gx, gh0, gW, gU, gb = torch.autograd.grad(loss, [x, h0, W, U, b])
    return {
        'name': name,
        'mode': 'GRU_CHO',
        'T': T,
        'numLayers': 1,
        'bidirectional': False,
        'lengths': None,
        'x': enc(x),
        'h0': enc(h0.unsqueeze(0)),
        'P': enc(P),
        'Q': enc(Q.unsqueeze(0)),
        'keras_weights': [enc(W), enc(U), enc(b)],
        'output': enc(y),
        'h_n': enc(h.unsqueeze(0)),
        'grad_x': enc(gx),
        'grad_h0': enc(gh0.unsqueeze(0)),
        'keras_grads': [enc(gW), enc(gU), enc(gb)],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = [
        torch_case('rnn_tanh_T100', 'RNN', 100, seed=1),
        torch_case('rnn_relu_T30', 'RNN', 30, nonlinearity='relu', seed=2, scale=0.3),
        torch_case('gru_T100', 'GRU', 100, seed=3),
        torch_case('lstm_T100', 'LSTM', 100, seed=4),
        torch_case('gru_bi_2layer_T20', 'GRU', 20, num_layers=2, bidirectional=True, seed=5),
        torch_case('lstm_bi_2layer_T20', 'LSTM', 20, num_layers=2, bidirectional=True, seed=6),
        torch_case('rnn_tanh_bi_2layer_T12', 'RNN', 12, num_layers=2, bidirectional=True, seed=7),
        torch_case('gru_bi_packed_T9', 'GRU', 9, bidirectional=True, lengths=[9, 4, 6], seed=8),
        torch_case('lstm_packed_2layer_T8', 'LSTM', 8, num_layers=2, lengths=[3, 8, 5], seed=9),
        cho_case('gru_cho_T60', 60, seed=10),
    ]
    for c in cases:
        with open(os.path.join(OUT, c['name'] + '.json'), 'w') as f:
            json.dump(c, f, separators=(',', ':'))
    total = sum(os.path.getsize(os.path.join(OUT, c['name'] + '.json')) for c in cases)
    print(f'wrote {len(cases)} fixtures, {total / 1024:.0f} KiB, torch {torch.__version__}')


if __name__ == '__main__':
    main()
