"""Golden fixtures for @gradflow/dense from torchvision (run with Debian's /usr/bin/python3).

    /usr/bin/python3 packages/dense/scripts/gen_fixtures.py

Writes fixtures/torchvision.json:
  - params: trainable parameters and running statistics of torchvision's DenseNet pieces;
  - block: a small _DenseBlock followed by a _Transition in eval mode with random weights and
    BN statistics, weights in tfjs layout (conv kernel [kh, kw, in, out]), NHWC input and output.
"""
import json
import os

import torch
import torch.nn as nn
from torchvision.models import densenet121, densenet169
from torchvision.models.densenet import _DenseBlock, _DenseLayer, _Transition

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))


def counts(module):
    params = sum(p.numel() for p in module.parameters())
    stats = sum(b.numel() for n, b in module.named_buffers() if not n.endswith('num_batches_tracked'))
    return {'trainable': params, 'running_stats': stats}


def t(x):
    return {'shape': list(x.shape), 'data': [float(v) for v in x.detach().reshape(-1).tolist()]}


def main():
    params = {
        'dense_layer_64_k32': counts(_DenseLayer(64, growth_rate=32, bn_size=4, drop_rate=0)),
        'dense_block_6_64_k32': counts(_DenseBlock(6, 64, bn_size=4, growth_rate=32, drop_rate=0)),
        'transition_256_128': counts(_Transition(256, 128)),
        'densenet121_features': counts(densenet121().features),
        'densenet169_features': counts(densenet169().features),
    }

    block = _DenseBlock(3, 4, bn_size=2, growth_rate=3, drop_rate=0)
    trans = _Transition(4 + 3 * 3, int((4 + 3 * 3) * 0.5))
    net = nn.Sequential(block, trans)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    net.eval()
    weights = {}
    for path, m in net.named_modules():
        if isinstance(m, (nn.Conv2d, nn.BatchNorm2d)):
            # 0.denselayer2.norm1 -> blk_layer2_norm1 ; 1.conv -> trans_conv
            if path.startswith('0.'):
                layer, part = path[2:].split('.')
                name = f"blk_layer{layer[len('denselayer'):]}_{part}"
            else:
                name = f"trans_{path[2:]}"
            if isinstance(m, nn.Conv2d):
                weights[name] = {'kernel': t(m.weight.permute(2, 3, 1, 0))}
            else:
                weights[name] = {'gamma': t(m.weight), 'beta': t(m.bias), 'mean': t(m.running_mean), 'variance': t(m.running_var)}
    x = torch.randn(2, 4, 6, 6)
    y = net(x)
    fixture = {'params': params, 'block': {'weights': weights, 'input': t(x.permute(0, 2, 3, 1)), 'output': t(y.permute(0, 2, 3, 1))}}
    out = os.path.join(HERE, '..', 'fixtures', 'torchvision.json')
    with open(out, 'w') as f:
        json.dump(fixture, f)
    print(out, params)


if __name__ == '__main__':
    main()
