# PyTorch on the CPU for the shapes of benchmarks/cnn_cpu.ts: conv2d forward + backward
# [32, 6, 14, 14] with a 16x6x5x5 filter, maxPool2d forward + backward [32, 6, 28, 28], an MLP
# 784-256-256-10 step (batch 128, Adam) and a LeNet-5 step (batch 64, Adam). Prints CPU ms and wall
# ms per call (best of rounds) with one thread and with torch's default thread count.
# Usage: /usr/bin/python3 benchmarks/peers/torch_cnn.py [--rounds N]
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

rounds = int(sys.argv[sys.argv.index('--rounds') + 1]) if '--rounds' in sys.argv else 5


def conv_case():
    x = torch.randn(32, 6, 14, 14, requires_grad=True)
    w = torch.randn(16, 6, 5, 5, requires_grad=True)
    b = torch.randn(16, requires_grad=True)

    def step():
        F.conv2d(x, w, b).sum().backward()
        x.grad = w.grad = b.grad = None
    return step


def pool_case():
    x = torch.randn(32, 6, 28, 28, requires_grad=True)

    def step():
        F.max_pool2d(x, 2).sum().backward()
        x.grad = None
    return step


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2).flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(h)))))


def train_case(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        F.cross_entropy(model(x), y).backward()
        opt.step()
        opt.zero_grad()
    return step


CASES = [
    ('conv2d fwd+bwd [32,6,14,14] k5 -> 16', conv_case),
    ('maxPool2d fwd+bwd [32,6,28,28] k2', pool_case),
    ('MLP 784-256-256-10 step, batch 128, Adam', lambda: train_case(
        nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)),
        torch.randn(128, 784), torch.randint(0, 10, (128,)))),
    ('LeNet-5 step, batch 64, Adam', lambda: train_case(LeNet5(), torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)))),
]

default_threads = torch.get_num_threads()
print(f'torch {torch.__version__}; case | threads | cpu ms/call (best) | wall ms/call (best)')
for name, make in CASES:
    for threads in (1, default_threads):
        torch.set_num_threads(threads)
        f = make()
        for _ in range(5):
            f()
        best_cpu = best_wall = float('inf')
        for _ in range(rounds):
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(10):
                f()
            best_cpu = min(best_cpu, (time.process_time() - c0) * 100)
            best_wall = min(best_wall, (time.perf_counter() - t0) * 100)
        print(f'{name} | {threads} | {best_cpu:.2f} | {best_wall:.2f}')
