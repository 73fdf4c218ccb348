# PyTorch on the CPU for the shapes of benchmarks/cnn_cpu.ts: conv2d forward + backward
# [32, 6, 14, 14] with a 16x6x5x5 filter, maxPool2d forward + backward [32, 6, 28, 28], an MLP
# 784-256-256-10 step (batch 128, Adam) and a LeNet-5 step (batch 64, Adam). Prints CPU ms and wall
# ms per call (best of rounds) with one thread and with torch's default thread count.
# Usage: /usr/bin/python3 benchmarks/peers/torch_cnn.py [--rounds N]
#
# As the peer of benchmarks/suites/cpu_models.ts: `--case NAME --threads T [--data FILE]` runs one
# case (mlp, lenet, lenet-epoch, conv, pool, matmul256, matmul1024) and prints one JSON line with
# ms per call (the best of --rounds rounds) and, for the models, the first loss. FILE holds the
# suite's float32 parameters (in module order), then the inputs (float32) and labels (int32), so
# both sides start from the same weights and batch. Threads 0 is torch's default; the suite runs
# threads 1 with OPENBLAS_NUM_THREADS=1 too (Debian's torch does its GEMMs in libblas).
import json
import sys
import time

import numpy as np

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

def load_into(params, data, offset):
    for p in params:
        n = p.numel()
        with torch.no_grad():
            p.copy_(torch.from_numpy(data[offset:offset + n].copy()).view_as(p))
        offset += n
    return offset


def json_case(name, data_path, seconds):
    raw = np.fromfile(data_path, dtype=np.float32) if data_path else None
    torch.manual_seed(0)
    if name in ('mlp', 'lenet', 'lenet-epoch'):
        if name == 'mlp':
            model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
            shape, batch, count = (784,), 128, 128
        else:
            model = LeNet5()
            shape, batch, count = (1, 28, 28), 64, 8000 if name == 'lenet-epoch' else 64
        off = load_into(list(model.parameters()), raw, 0)
        per = int(np.prod(shape))
        xs = torch.from_numpy(raw[off:off + count * per].copy()).view(count, *shape)
        ys = torch.from_numpy(raw[off + count * per:off + count * per + count].copy().view(np.int32).astype(np.int64))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss0 = F.cross_entropy(model(xs[:batch]), ys[:batch]).item()

        def step(x, y):
            F.cross_entropy(model(x), y).backward()
            opt.step()
            opt.zero_grad()
        if name == 'lenet-epoch':
            def f():
                for i in range(0, count, batch):
                    step(xs[i:i + batch], ys[i:i + batch])
        else:
            def f():
                step(xs, ys)
        out = {'loss0': loss0}
    elif name == 'conv':
        f, out = conv_case(), {}
    elif name == 'pool':
        f, out = pool_case(), {}
    else:
        n = int(name[len('matmul'):])
        a, b = torch.randn(n, n), torch.randn(n, n)

        def f():
            torch.mm(a, b)
        out = {'flops': 2 * n ** 3}
    f()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds / 3:
        f()
    best = float('inf')
    t_end = time.perf_counter() + seconds
    rounds = 0
    while rounds < 5 or (time.perf_counter() < t_end and rounds < 50):
        c = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - c)
        rounds += 1
    out.update({'ms': best * 1000, 'threads': torch.get_num_threads(), 'rounds': rounds})
    return out


if '--case' in sys.argv:
    threads = int(sys.argv[sys.argv.index('--threads') + 1]) if '--threads' in sys.argv else 0
    if threads > 0:
        torch.set_num_threads(threads)
    data = sys.argv[sys.argv.index('--data') + 1] if '--data' in sys.argv else None
    secs = float(sys.argv[sys.argv.index('--seconds') + 1]) if '--seconds' in sys.argv else 2.0
    print(json.dumps(json_case(sys.argv[sys.argv.index('--case') + 1], data, secs)))
    sys.exit(0)

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
