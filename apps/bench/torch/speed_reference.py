#!/usr/bin/env python3
"""PyTorch CPU reference for the bench app's speed suite.

Builds the same architectures as the gradflow zoo models the suite times, runs SGD training
steps on random data with `torch.set_num_threads(threads)`, and prints one JSON line per model:
{"model", "batch", "threads", "ms_per_step", "params"}. Median after warm-up, like the JS side.

Usage: speed_reference.py --threads 1 --repeats 5 --warmup 2 MODEL:BATCH [MODEL:BATCH ...]
       speed_reference.py --twins > torch/twins.json   (the fixture test/torch-twins.test.ts reads)
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class OptionAShortcut(nn.Module):
    """He et al. 2015 CIFAR option A: subsample by stride, zero-pad the new channels."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.stride = stride
        self.pad = (planes - in_planes) // 2

    def forward(self, x):
        return F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad, self.pad))


class CifarBasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = OptionAShortcut(in_planes, planes, stride) if stride != 1 or in_planes != planes else nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, depth, num_classes=10, width=16):
        super().__init__()
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        layers, in_planes = [], width
        for stage, planes in enumerate([width, 2 * width, 4 * width]):
            for block in range(n):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(CifarBasicBlock(in_planes, planes, stride))
                in_planes = planes
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn(self.conv(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class SequenceClassifier(nn.Module):
    def __init__(self, cell, input_size, hidden, num_classes):
        super().__init__()
        self.rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell](input_size, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


class DoubleConv(nn.Sequential):
    """(3x3 'same' conv, ReLU) x 2, with biases: a U-Net level without a norm."""

    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True)
        )


class UNet(nn.Module):
    """Ronneberger et al. 2015 with 'same' convs, as the zoo's `unet`: max-pool down, 2x2 stride-2
    transposed conv up to the skip's channels, concat [skip, up], a 1x1 head."""

    def __init__(self, in_channels=3, num_classes=10, base=64, depth=4):
        super().__init__()
        widths = [base * 2**i for i in range(depth)]
        self.downs = nn.ModuleList(DoubleConv(c, w) for c, w in zip([in_channels] + widths[:-1], widths))
        self.bottleneck = DoubleConv(widths[-1], base * 2**depth)
        ins = [base * 2 ** (i + 1) for i in reversed(range(depth))]
        self.ups = nn.ModuleList(nn.ConvTranspose2d(c, w, 2, stride=2) for c, w in zip(ins, reversed(widths)))
        self.decs = nn.ModuleList(DoubleConv(2 * w, w) for w in reversed(widths))
        self.head = nn.Conv2d(base, num_classes, 1)

    def forward(self, x):
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.ups, self.decs, reversed(skips)):
            x = dec(torch.cat([skip, up(x)], 1))
        return self.head(x)


def deep_mlp(depth=20, width=256, inputs=784, classes=10):
    layers, size = [nn.Flatten()], inputs
    for _ in range(depth):
        layers += [nn.Linear(size, width), nn.ReLU()]
        size = width
    layers.append(nn.Linear(size, classes))
    return nn.Sequential(*layers)


def cifar_densenet_bc(growth=12, blocks=(16, 16, 16)):
    """DenseNet-BC for CIFAR (Huang et al. 2017), as the zoo's densenet_bc_100: torchvision's DenseNet
    with its ImageNet stem (7x7/2 conv, BN, ReLU, 3x3/2 max-pool) replaced by one 3x3 conv of 2k
    channels, so the first dense block sees the full 32x32 image (the ImageNet stem gives it 8x8 and
    a fifteenth of the work)."""
    model = torchvision.models.DenseNet(growth_rate=growth, block_config=blocks, num_init_features=2 * growth, bn_size=4, num_classes=10)
    model.features.conv0 = nn.Conv2d(3, 2 * growth, 3, 1, 1, bias=False)
    model.features.norm0 = nn.Identity()
    model.features.relu0 = nn.Identity()
    model.features.pool0 = nn.Identity()
    return model


# name -> (constructor, input shape without batch (NCHW / [T, features]), target kind)
MODELS = {
    "resnet20": (lambda: CifarResNet(20), (3, 32, 32), "class"),
    "resnet56": (lambda: CifarResNet(56), (3, 32, 32), "class"),
    "resnet18": (lambda: torchvision.models.resnet18(num_classes=10), (3, 64, 64), "class"),
    "densenet_bc_100": (lambda: cifar_densenet_bc(), (3, 32, 32), "class"),
    "unet": (lambda: UNet(), (3, 64, 64), "pixel"),
    "gru": (lambda: SequenceClassifier("gru", 32, 128, 10), (100, 32), "class"),
    "lstm": (lambda: SequenceClassifier("lstm", 32, 128, 10), (100, 32), "class"),
    "mlp": (lambda: deep_mlp(), (1, 28, 28), "class"),
}


def time_model(name, batch, repeats, warmup):
    build, shape, target = MODELS[name]
    torch.manual_seed(0)
    model = build()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, *shape)
    # A class per example, or per pixel (the U-Net's [N, H, W] targets for [N, 10, H, W] logits).
    y = torch.randint(0, 10, (batch,) if target == "class" else (batch, *shape[1:]))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return statistics.median(samples), params


def twin_signature(name):
    """Trainable parameters and forward multiply-adds of one example through the conv, linear and
    recurrent layers, counted as apps/bench's src/speed/flops.ts counts the zoo model's."""
    build, shape, _ = MODELS[name]
    torch.manual_seed(0)
    model = build().eval()
    macs = []

    def hook(module, inputs, output):
        out = output[0] if isinstance(output, tuple) else output
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs.append(out.numel() * k * module.in_channels // module.groups)
        elif isinstance(module, nn.ConvTranspose2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            macs.append(inputs[0].numel() * k * module.out_channels // module.groups)
        elif isinstance(module, nn.Linear):
            macs.append(out.numel() * module.in_features)
        elif isinstance(module, (nn.RNN, nn.GRU, nn.LSTM)):
            gates = {nn.RNN: 1, nn.GRU: 3, nn.LSTM: 4}[type(module)]
            steps, features, h = inputs[0].shape[1], module.input_size, module.hidden_size
            macs.append(steps * gates * h * (features + h))

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.RNN, nn.GRU, nn.LSTM)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.randn(1, *shape))
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"params": params, "forward_macs": sum(macs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--twins", action="store_true", help="print each model's trainable parameters and forward multiply-adds per example as JSON and exit (torch/twins.json)")
    parser.add_argument("models", nargs="*", help="MODEL:BATCH, MODEL one of " + ", ".join(MODELS))
    args = parser.parse_args()
    if args.twins:
        print(json.dumps({name: twin_signature(name) for name in MODELS}, indent=2))
        return
    torch.set_num_threads(args.threads)
    for spec in args.models:
        name, batch = spec.split(":")
        if name not in MODELS:
            print(json.dumps({"model": name, "error": f"no PyTorch reference for {name}"}), flush=True)
            continue
        ms, params = time_model(name, int(batch), args.repeats, args.warmup)
        print(json.dumps({"model": name, "batch": int(batch), "threads": args.threads, "ms_per_step": ms, "params": params}), flush=True)


if __name__ == "__main__":
    main()
