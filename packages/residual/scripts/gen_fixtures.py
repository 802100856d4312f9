"""Golden fixtures for @gradflow/residual from torchvision (run with Debian's /usr/bin/python3).

    /usr/bin/python3 packages/residual/scripts/gen_fixtures.py

Writes fixtures/torchvision.json:
  - params: trainable parameter and running-statistics counts of torchvision blocks;
  - blocks: small BasicBlock / Bottleneck in eval mode with random weights and BN statistics,
    weights in tfjs layout (conv kernel [kh, kw, in, out]), an NHWC input and the NHWC output.
"""
import json
import os

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))


def downsample(inp, out, stride):
    return nn.Sequential(nn.Conv2d(inp, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))


def counts(module):
    params = sum(p.numel() for p in module.parameters())
    stats = sum(b.numel() for n, b in module.named_buffers() if not n.endswith('num_batches_tracked'))
    return {'trainable': params, 'running_stats': stats}


PARAM_CASES = {
    'basic_64_64': lambda: BasicBlock(64, 64),
    'basic_64_128_s2': lambda: BasicBlock(64, 128, stride=2, downsample=downsample(64, 128, 2)),
    'bottleneck_256_64': lambda: Bottleneck(256, 64),
    'bottleneck_64_64_proj': lambda: Bottleneck(64, 64, downsample=downsample(64, 256, 1)),
    'bottleneck_256_128_s2': lambda: Bottleneck(256, 128, stride=2, downsample=downsample(256, 512, 2)),
}


def t(x):
    return {'shape': list(x.shape), 'data': [float(v) for v in x.detach().reshape(-1).tolist()]}


def randomize(block):
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    block.eval()


def export(block, names):
    """names: torch module path -> tfjs layer name."""
    weights = {}
    mods = dict(block.named_modules())
    for path, layer in names.items():
        m = mods[path]
        if isinstance(m, nn.Conv2d):
            weights[layer] = {'kernel': t(m.weight.permute(2, 3, 1, 0))}
        else:
            weights[layer] = {'gamma': t(m.weight), 'beta': t(m.bias), 'mean': t(m.running_mean), 'variance': t(m.running_var)}
    return weights


def block_case(block, names, shape):
    randomize(block)
    x = torch.randn(*shape)
    y = block(x)
    return {'weights': export(block, names), 'input': t(x.permute(0, 2, 3, 1)), 'output': t(y.permute(0, 2, 3, 1))}


def main():
    basic_names = {'conv1': 'b_conv1', 'bn1': 'b_norm1', 'conv2': 'b_conv2', 'bn2': 'b_norm2',
                   'downsample.0': 'b_shortcut_conv', 'downsample.1': 'b_shortcut_norm'}
    bottleneck_names = {**basic_names, 'conv3': 'b_conv3', 'bn3': 'b_norm3'}
    fixture = {
        'params': {k: counts(f()) for k, f in PARAM_CASES.items()},
        'blocks': {
            # stride 2 on an even size: the case where tfjs's 'same' padding would shift the grid.
            'basic_4_8_s2': block_case(BasicBlock(4, 8, stride=2, downsample=downsample(4, 8, 2)), basic_names, (2, 4, 8, 8)),
            # torchvision's Bottleneck is v1.5: the stride sits on the 3x3 conv.
            'bottleneck_8_4_s2': block_case(Bottleneck(8, 4, stride=2, downsample=downsample(8, 16, 2)), bottleneck_names, (2, 8, 6, 6)),
        },
    }
    out = os.path.join(HERE, '..', 'fixtures', 'torchvision.json')
    with open(out, 'w') as f:
        json.dump(fixture, f)
    print(out, {k: v for k, v in fixture['params'].items()})


if __name__ == '__main__':
    main()
