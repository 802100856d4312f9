#!/usr/bin/python3
"""Exact trainable-parameter counts of the zoo's standard configurations.

Run with Debian's python (torch 1.13, torchvision 0.14):

    /usr/bin/python3 packages/zoo/scripts/gen_param_counts.py

Writes packages/zoo/fixtures/param_counts.json. The ImageNet ResNets and DenseNets come from
torchvision itself; the others (CIFAR ResNets and plain twins, pre-activation ResNets, ResNet-D,
SE-ResNet, DenseNet-BC-100, U-Net) from the equivalent torch modules written below after the
papers. "Trainable" is what torch's `parameters()` holds: conv/linear weights and biases and
BatchNorm gamma/beta, NOT the running mean/var buffers (tfjs' `countParams()` counts those too,
so the zoo compares `trainableWeights` sizes).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def bn(c):
    return nn.BatchNorm2d(c)


# --------------------------------------------------------------------------------------------
# CIFAR ResNets (He et al. 2015, sec. 4.2): 3x3 conv 16, three stages of n basic blocks with
# 16/32/64 filters, option-A (parameter-free) shortcuts, global average pool, fc. depth = 6n+2.
# --------------------------------------------------------------------------------------------
class CifarBasic(nn.Module):
    def __init__(self, cin, cout, stride, plain):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = bn(cout)
        self.plain = plain
        self.pad = cout - cin
        self.stride = stride

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.plain:
            return F.relu(h)
        s = x[:, :, :: self.stride, :: self.stride]
        if self.pad:
            s = F.pad(s, (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
        return F.relu(h + s)


class CifarResNet(nn.Module):
    def __init__(self, depth, num_classes=10, plain=False):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = bn(16)
        blocks, cin = [], 16
        for i, c in enumerate([16, 32, 64]):
            for j in range(n):
                blocks.append(CifarBasic(cin, c, 2 if (i > 0 and j == 0) else 1, plain))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(h.mean((2, 3)))


# --------------------------------------------------------------------------------------------
# Pre-activation ResNets (He et al. 2016, "Identity Mappings"): BN-ReLU-conv ordering; the
# projection shortcut (1x1 conv, no BN) reads the pre-activated input; final BN-ReLU.
# ImageNet layout: 7x7 stem conv (no BN: the first block normalizes), max-pool.
# --------------------------------------------------------------------------------------------
class PreactBasic(nn.Module):
    expansion = 1

    def __init__(self, cin, width, stride, shortcut="projection"):
        super().__init__()
        cout = width
        self.bn1, self.conv1 = bn(cin), nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = bn(width), nn.Conv2d(width, width, 3, 1, 1, bias=False)
        changes = stride != 1 or cin != cout
        self.proj = nn.Conv2d(cin, cout, 1, stride, bias=False) if changes and shortcut == "projection" else None


class PreactBottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride, shortcut="projection"):
        super().__init__()
        cout = width * 4
        self.bn1, self.conv1 = bn(cin), nn.Conv2d(cin, width, 1, bias=False)
        self.bn2, self.conv2 = bn(width), nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn3, self.conv3 = bn(width), nn.Conv2d(width, cout, 1, bias=False)
        changes = stride != 1 or cin != cout
        self.proj = nn.Conv2d(cin, cout, 1, stride, bias=False) if changes and shortcut == "projection" else None


def preact_imagenet(block, layers, num_classes=1000):
    mods = [nn.Conv2d(3, 64, 7, 2, 3, bias=False)]
    cin = 64
    for i, (w, n) in enumerate(zip([64, 128, 256, 512], layers)):
        for j in range(n):
            mods.append(block(cin, w, 2 if (i > 0 and j == 0) else 1))
            cin = w * block.expansion
    mods += [bn(cin), nn.Linear(cin, num_classes)]
    return nn.ModuleList(mods)


def preact_cifar(block, depth, shortcut, num_classes=10):
    per = 2 if block is PreactBasic else 3
    n = (depth - 2) // (3 * per)
    mods = [nn.Conv2d(3, 16, 3, 1, 1, bias=False)]
    cin = 16
    for i, w in enumerate([16, 32, 64]):
        for j in range(n):
            mods.append(block(cin, w, 2 if (i > 0 and j == 0) else 1, shortcut))
            cin = w * block.expansion
    mods += [bn(cin), nn.Linear(cin, num_classes)]
    return nn.ModuleList(mods)


# --------------------------------------------------------------------------------------------
# ResNet-D (He et al. 2019, "Bag of Tricks"): deep stem 3x3 convs 32-32-64 (ResNet-C) and
# avg-pool-then-1x1-conv downsampling shortcuts; otherwise torchvision's v1.5 ResNet.
# SE-ResNet (Hu et al. 2018): squeeze-excitation (ratio 16, fc layers with biases) on every
# block's branch output, before the addition.
# --------------------------------------------------------------------------------------------
class SE(nn.Module):
    def __init__(self, c, ratio=16):
        super().__init__()
        self.reduce = nn.Linear(c, c // ratio)
        self.expand = nn.Linear(c // ratio, c)


def resnet_d(block, layers, num_classes=1000):
    model = torchvision.models.resnet.ResNet(block, layers, num_classes=num_classes)
    model.conv1 = nn.Sequential(
        nn.Conv2d(3, 32, 3, 2, 1, bias=False), bn(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, 1, 1, bias=False), bn(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, 1, 1, bias=False),
    )
    # model.bn1 (64) stays: it follows the last stem conv. Shortcut: AvgPool (no params) + conv + BN,
    # the same parameters as torchvision's conv(stride) + BN.
    return model


def se_resnet(block, layers, num_classes=1000, ratio=16):
    model = torchvision.models.resnet.ResNet(block, layers, num_classes=num_classes)
    for layer in [model.layer1, model.layer2, model.layer3, model.layer4]:
        for b in layer:
            out = b.bn3.num_features if hasattr(b, "bn3") else b.bn2.num_features
            b.se = SE(out, ratio)
    return model


# --------------------------------------------------------------------------------------------
# DenseNet-BC for CIFAR (Huang et al. 2017, sec. 3): 3x3 conv to 2k channels, three dense
# blocks of (L-4)/6 bottleneck layers BN-ReLU-conv1x1(4k)-BN-ReLU-conv3x3(k), transitions
# BN-ReLU-conv1x1(compression 0.5)-avgpool, final BN-ReLU-pool-fc.
# --------------------------------------------------------------------------------------------
def densenet_bc_cifar(depth=100, k=12, num_classes=10, compression=0.5):
    n = (depth - 4) // 6
    mods = [nn.Conv2d(3, 2 * k, 3, 1, 1, bias=False)]
    c = 2 * k
    for b in range(3):
        for _ in range(n):
            mods += [bn(c), nn.Conv2d(c, 4 * k, 1, bias=False), bn(4 * k), nn.Conv2d(4 * k, k, 3, 1, 1, bias=False)]
            c += k
        if b < 2:
            out = int(c * compression)
            mods += [bn(c), nn.Conv2d(c, out, 1, bias=False)]
            c = out
    mods += [bn(c), nn.Linear(c, num_classes)]
    return nn.ModuleList(mods)


# --------------------------------------------------------------------------------------------
# U-Net (Ronneberger et al. 2015): 4 down-samplings, 64 base filters doubling per level, two
# 3x3 convs (with bias) per level, 2x2 transposed-conv up-sampling that halves the channels,
# concatenation, 1x1 output conv. `norm` adds BatchNorm after each 3x3 conv.
# --------------------------------------------------------------------------------------------
def unet(depth=4, base=64, in_ch=1, num_classes=2, norm=False, up="transpose", conv_bias=True):
    mods = []

    def double(cin, cout):
        mods.append(nn.Conv2d(cin, cout, 3, padding=1, bias=conv_bias))
        if norm:
            mods.append(bn(cout))
        mods.append(nn.Conv2d(cout, cout, 3, padding=1, bias=conv_bias))
        if norm:
            mods.append(bn(cout))

    widths = [base * 2**i for i in range(depth + 1)]
    cin = in_ch
    for w in widths:
        double(cin, w)
        cin = w
    for w in reversed(widths[:-1]):
        if up == "transpose":
            mods.append(nn.ConvTranspose2d(cin, w, 2, 2))
        else:  # bilinear up-sampling (no parameters) then a 3x3 conv (with bias) that halves the channels
            mods.append(nn.Conv2d(cin, w, 3, padding=1, bias=True))
        double(2 * w, w)
        cin = w
    mods.append(nn.Conv2d(cin, num_classes, 1))
    return nn.ModuleList(mods)


def main():
    tv = torchvision.models
    B, BN = tv.resnet.BasicBlock, tv.resnet.Bottleneck
    out = {}

    def put(name, module, source, **config):
        out[name] = {"trainable": count(module), "source": source, **config}

    for name in ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]:
        put(name, getattr(tv, name)(), f"torchvision.models.{name}()", num_classes=1000)
    for name in ["densenet121", "densenet161", "densenet169", "densenet201"]:
        put(name, getattr(tv, name)(), f"torchvision.models.{name}()", num_classes=1000)
    for depth in [20, 32, 44, 56, 110, 1202]:
        put(f"resnet{depth}", CifarResNet(depth), "CifarResNet (option A) in this script", num_classes=10)
        put(f"plain{depth}", CifarResNet(depth, plain=True), "CifarResNet(plain=True) in this script", num_classes=10)
    layouts = {18: (PreactBasic, [2, 2, 2, 2]), 34: (PreactBasic, [3, 4, 6, 3]), 50: (PreactBottleneck, [3, 4, 6, 3]),
               101: (PreactBottleneck, [3, 4, 23, 3]), 152: (PreactBottleneck, [3, 8, 36, 3])}
    for depth, (block, layers) in layouts.items():
        put(f"preact_resnet{depth}", preact_imagenet(block, layers), "preact_imagenet in this script", num_classes=1000)
    put("preact_resnet110", preact_cifar(PreactBasic, 110, "option_a"), "preact_cifar (basic, option A)", num_classes=10)
    put("preact_resnet164", preact_cifar(PreactBottleneck, 164, "projection"), "preact_cifar (bottleneck, projection)", num_classes=10)
    tv_layouts = {18: (B, [2, 2, 2, 2]), 34: (B, [3, 4, 6, 3]), 50: (BN, [3, 4, 6, 3]), 101: (BN, [3, 4, 23, 3]), 152: (BN, [3, 8, 36, 3])}
    for depth, (block, layers) in tv_layouts.items():
        put(f"resnet{depth}d", resnet_d(block, layers), "torchvision ResNet with the ResNet-D stem/shortcut", num_classes=1000)
        put(f"seresnet{depth}", se_resnet(block, layers), "torchvision ResNet + SE(ratio 16)", num_classes=1000)
    put("densenet_bc_100", densenet_bc_cifar(100, 12), "densenet_bc_cifar(100, k=12) in this script", num_classes=10)
    put("unet", unet(), "unet(depth=4, base=64, in=1, classes=2) in this script (Ronneberger et al.)", num_classes=2)
    put("unet_bn", unet(norm=True, conv_bias=False), "unet with BatchNorm, bias-free convs", num_classes=2)
    put("unet_bilinear", unet(up="bilinear"), "unet with bilinear up-sampling + 3x3 conv", num_classes=2)

    path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "param_counts.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write("\n")
    for k, v in out.items():
        print(f"{k:20s} {v['trainable']:>12,d}")


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
