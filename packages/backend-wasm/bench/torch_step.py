#!/usr/bin/env python3
"""Training steps in PyTorch on N threads, median ms after warm-up, for comparison with
bench/kernels.ts (which runs this script for its PyTorch column when torch is installed). Each
model is a twin of one in test/models.ts: the same layers, channels and losses.

    /usr/bin/python3 bench/torch_step.py [--model resnet20|unet|densenet_bc|gru] [--threads 1]
        [--batch 32] [--depth 100]

The last line of output is `ms=<median step in ms>`.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout, eps=1e-3)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout, eps=1e-3)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-3))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


def resnet_cifar(n=3, classes=10):
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16, eps=1e-3), nn.ReLU()]
    cin = 16
    for stage, cout in enumerate([16, 32, 64]):
        for b in range(n):
            layers.append(Block(cin, cout, 2 if stage > 0 and b == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)]
    return nn.Sequential(*layers)


class UnetBlock(nn.Sequential):
    """Two conv-BN-ReLU (3x3, no bias), as test/models.ts's smallUnet block."""

    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-3), nn.ReLU())


class SmallUnet(nn.Module):
    """test/models.ts's smallUnet: two max-pooled levels, 2x2 stride-2 transposed convs, skips."""

    def __init__(self, channels=1, base=16):
        super().__init__()
        self.down1, self.down2 = UnetBlock(channels, base), UnetBlock(base, 2 * base)
        self.mid = UnetBlock(2 * base, 4 * base)
        self.up2, self.up2_block = nn.ConvTranspose2d(4 * base, 2 * base, 2, 2), UnetBlock(4 * base, 2 * base)
        self.up1, self.up1_block = nn.ConvTranspose2d(2 * base, base, 2, 2), UnetBlock(2 * base, base)
        self.head = nn.Conv2d(base, channels, 1)

    def forward(self, x):
        d1 = self.down1(x)
        d2 = self.down2(F.max_pool2d(d1, 2))
        m = self.mid(F.max_pool2d(d2, 2))
        u2 = self.up2_block(torch.cat([self.up2(m), d2], 1))
        u1 = self.up1_block(torch.cat([self.up1(u2), d1], 1))
        return torch.sigmoid(self.head(u1))


def bn_relu_conv(cin, cout, k):
    return [nn.BatchNorm2d(cin, eps=1e-3), nn.ReLU(), nn.Conv2d(cin, cout, k, 1, k // 2, bias=False)]


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.body = nn.Sequential(*bn_relu_conv(cin, 4 * growth, 1), *bn_relu_conv(4 * growth, growth, 3))

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


def densenet_bc(depth=100, growth=12, classes=10):
    """test/models.ts's densenetBC: CIFAR DenseNet-BC (3x3 stem, three blocks, compression 0.5)."""
    per_block = (depth - 4) // 6
    layers, c = [nn.Conv2d(3, 2 * growth, 3, 1, 1, bias=False)], 2 * growth
    for block in range(3):
        for _ in range(per_block):
            layers.append(DenseLayer(c, growth))
            c += growth
        if block < 2:
            layers += [*bn_relu_conv(c, c // 2, 1), nn.AvgPool2d(2)]
            c //= 2
    layers += [nn.BatchNorm2d(c, eps=1e-3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
    return nn.Sequential(*layers)


class GruClassifier(nn.Module):
    """bench/kernels.ts's GRU model: GRU(128) over 32 steps of 32 features, then a dense softmax."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(32, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(self.gru(x)[1][0])


def build(name, batch, depth):
    """The model, its input and a loss of its output."""
    if name == "resnet20":
        return resnet_cifar(), torch.randn(batch, 3, 32, 32), classify(batch)
    if name == "densenet_bc":
        return densenet_bc(depth), torch.randn(batch, 3, 32, 32), classify(batch)
    if name == "unet":
        target = torch.randint(0, 2, (batch, 1, 64, 64)).float()
        return SmallUnet(), torch.rand(batch, 1, 64, 64), lambda out: F.binary_cross_entropy(out, target)
    if name == "gru":
        return GruClassifier(), torch.randn(batch, 32, 32), classify(batch)
    raise SystemExit(f"unknown --model {name}: resnet20, unet, densenet_bc or gru")


def classify(batch):
    y = torch.randint(0, 10, (batch,))
    return lambda out: F.cross_entropy(out, y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet20")
    ap.add_argument("--depth", type=int, default=100, help="DenseNet-BC depth (6n + 4)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, x, loss_of = build(args.model, args.batch, args.depth)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    times = []
    for i in range(args.reps + 3):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_of(model(x))
        loss.backward()
        opt.step()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(times)
    params = sum(p.numel() for p in model.parameters())
    print(f"PyTorch {torch.__version__} {args.model} ({params} parameters) batch {args.batch}, "
          f"{args.threads} thread(s): {ms:.0f} ms/step, {args.batch / ms * 1000:.1f} examples/s")
    print(f"ms={ms:.3f}")


if __name__ == "__main__":
    main()
