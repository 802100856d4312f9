"""Golden fixtures for @gradflow/unet from a PyTorch reference U-Net (Debian's /usr/bin/python3).

    /usr/bin/python3 packages/unet/scripts/gen_fixtures.py

The reference is written here in torch with module names equal to the tfjs layer names, so
weights map one to one: Ronneberger et al. 2015 with 'same' padding (the layout of the popular
milesial/Pytorch-UNet), optional BatchNorm, transposed-conv or bilinear (align_corners=False)
+ conv upsampling, optional additive attention gates (Oktay et al. 2018, as in
LeeJunHyun/Image_Segmentation's Attention_block with the gate at the skip's resolution).

Writes fixtures/reference.json:
  - params: parameter / running-statistics counts of the paper's U-Net and of the BN variant;
  - cases: small U-Nets in eval mode with random weights and BN statistics, tfjs-layout
    weights, NHWC input and output.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))


class RefUNet(nn.Module):
    def __init__(self, cin, depth, base, classes, norm, up, attention, down='max_pool'):
        super().__init__()
        self.depth, self.norm, self.up, self.attention, self.down = depth, norm, up, attention, down
        m = nn.ModuleDict()

        def dc(name, c_in, f):
            for k in (1, 2):
                m[f'{name}_conv{k}'] = nn.Conv2d(c_in if k == 1 else f, f, 3, padding=1, bias=not norm)
                if norm:
                    m[f'{name}_norm{k}'] = nn.BatchNorm2d(f)

        c = cin
        for i in range(1, depth + 1):
            f = base * 2 ** (i - 1)
            dc(f'enc{i}', c, f)
            if down == 'strided_conv':
                m[f'enc{i}_down'] = nn.Conv2d(f, f, 3, stride=2, padding=1)
            c = f
        dc('bottleneck', c, base * 2 ** depth)
        c = base * 2 ** depth
        for i in range(depth, 0, -1):
            f = base * 2 ** (i - 1)
            if up == 'transposed':
                m[f'dec{i}_up'] = nn.ConvTranspose2d(c, f, 2, stride=2)
            else:
                m[f'dec{i}_up_conv'] = nn.Conv2d(c, f, 3, padding=1)
            if attention:
                inter = max(1, f // 2)
                for part, ci, co in (('theta', f, inter), ('phi', f, inter), ('psi', inter, 1)):
                    m[f'dec{i}_att_{part}'] = nn.Conv2d(ci, co, 1)
                    if norm:
                        m[f'dec{i}_att_{part}_norm'] = nn.BatchNorm2d(co)
            dc(f'dec{i}', 2 * f, f)
            c = f
        m['head_conv'] = nn.Conv2d(c, classes, 1)
        self.m = m

    def dc(self, name, x):
        for k in (1, 2):
            x = self.m[f'{name}_conv{k}'](x)
            if self.norm:
                x = self.m[f'{name}_norm{k}'](x)
            x = F.relu(x)
        return x

    def proj(self, name, x):
        x = self.m[name](x)
        return self.m[f'{name}_norm'](x) if self.norm else x

    def forward(self, x):
        skips = []
        for i in range(1, self.depth + 1):
            x = self.dc(f'enc{i}', x)
            skips.append(x)
            x = self.m[f'enc{i}_down'](x) if self.down == 'strided_conv' else F.max_pool2d(x, 2)
        x = self.dc('bottleneck', x)
        for i in range(self.depth, 0, -1):
            if self.up == 'transposed':
                u = self.m[f'dec{i}_up'](x)
            else:
                u = F.interpolate(x, scale_factor=2, mode=self.up, **({'align_corners': False} if self.up == 'bilinear' else {}))
                u = self.m[f'dec{i}_up_conv'](u)
            s = skips[i - 1]
            if self.attention:
                a = F.relu(self.proj(f'dec{i}_att_theta', s) + self.proj(f'dec{i}_att_phi', u))
                s = s * torch.sigmoid(self.proj(f'dec{i}_att_psi', a))
            x = self.dc(f'dec{i}', torch.cat([s, u], 1))
        return self.m['head_conv'](x)


def counts(module):
    params = sum(p.numel() for p in module.parameters())
    stats = sum(b.numel() for n, b in module.named_buffers() if not n.endswith('num_batches_tracked'))
    return {'trainable': params, 'running_stats': stats}


def t(x):
    return {'shape': list(x.shape), 'data': [float(v) for v in x.detach().reshape(-1).tolist()]}


def case(net, shape):
    for mod in net.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
    net.eval()
    weights = {}
    for name, mod in net.m.items():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            w = {'kernel': t(mod.weight.permute(2, 3, 1, 0))}
            if mod.bias is not None:
                w['bias'] = t(mod.bias)
            weights[name] = w
        else:
            weights[name] = {'gamma': t(mod.weight), 'beta': t(mod.bias), 'mean': t(mod.running_mean), 'variance': t(mod.running_var)}
    x = torch.randn(*shape)
    y = net(x)
    return {'weights': weights, 'input': t(x.permute(0, 2, 3, 1)), 'output': t(y.permute(0, 2, 3, 1))}


def main():
    fixture = {
        'params': {
            'paper_1in_2cls': counts(RefUNet(1, 4, 64, 2, False, 'transposed', False)),
            'bn_3in_2cls': counts(RefUNet(3, 4, 64, 2, True, 'transposed', False)),
            'bn_attention_3in_1cls': counts(RefUNet(3, 4, 64, 1, True, 'transposed', True)),
        },
        'cases': {
            'transposed_bn': case(RefUNet(3, 2, 4, 2, True, 'transposed', False), (2, 3, 8, 8)),
            'bilinear_attention_bn': case(RefUNet(3, 2, 4, 2, True, 'bilinear', True), (2, 3, 8, 8)),
            'nearest_strided_plain': case(RefUNet(2, 2, 4, 1, False, 'nearest', False, down='strided_conv'), (2, 2, 8, 12)),
        },
    }
    out = os.path.join(HERE, '..', 'fixtures', 'reference.json')
    with open(out, 'w') as f:
        json.dump(fixture, f)
    print(out, fixture['params'])


if __name__ == '__main__':
    main()
