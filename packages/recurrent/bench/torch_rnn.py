"""PyTorch CPU reference for bench/recurrent.ts: the same training step (T=100, batch 32,
input 32, hidden 128, last state -> MSE, SGD), median after warm-up.

    /usr/bin/python3 packages/recurrent/bench/torch_rnn.py --threads 1
"""
import argparse
import statistics
import time

import torch

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, default=1)
p.add_argument('--steps', type=int, default=10)
p.add_argument('--warmup', type=int, default=3)
p.add_argument('--T', type=int, default=100)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--input', type=int, default=32)
p.add_argument('--hidden', type=int, default=128)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
x = torch.rand(a.batch, a.T, a.input) * 2 - 1
y = torch.rand(a.batch, a.hidden) * 2 - 1
print(f'torch {torch.__version__}, threads={torch.get_num_threads()}, T={a.T} batch={a.batch} input={a.input} hidden={a.hidden}')
for name, cls in [('gru', torch.nn.GRU), ('lstm', torch.nn.LSTM)]:
    model = cls(a.input, a.hidden, batch_first=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        _, h = model(x)
        h = h[0] if isinstance(h, tuple) else h
        loss = torch.nn.functional.mse_loss(h[-1], y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    wall, cpu = [], []
    for _ in range(a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    # CPU time is the steadier number on a shared machine (equal to wall time x threads when busy).
    print(f'torch {name:4s}  wall {statistics.median(wall):8.1f} ms   cpu {statistics.median(cpu):8.1f} ms')
