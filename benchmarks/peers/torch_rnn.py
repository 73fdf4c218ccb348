#!/usr/bin/env python3
"""PyTorch peer for benchmarks/suites/rnn.ts: a character model Embedding -> LSTM (or GRU) ->
Linear, cross-entropy over every position, Adam, on the CPU. Weights and tokens come from the same
linear congruential generator as the suite (x <- 1664525 x + 1013904223 mod 2^32), so the first
loss matches webgrad's. Prints one JSON line: {"cell", "ms_per_step" (wall, best of three runs),
"cpu_ms_per_step" (process CPU time over the same runs: on a busy machine, what the step costs),
"first_loss", "steps", "threads", "torch"}.

usage: torch_rnn.py --cell lstm --vocab 65 --embed 64 --hidden 128 --seq 64 --batch 32 [--threads N]
"""
import argparse
import json
import math
import os
import sys
import time

# One thread means one in BLAS too: its own pool would otherwise spin beside torch's and inflate
# the CPU time on a busy machine. (Set before torch loads its BLAS.)
if '--threads' in sys.argv and sys.argv[sys.argv.index('--threads') + 1] == '1':
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = '1'

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def lcg(count, seed):
    out = [0.0] * count
    a = seed & 0xFFFFFFFF
    for i in range(count):
        a = (a * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = a
    return out


def lcg_floats(shape, seed, scale):
    n = math.prod(shape)
    v = torch.tensor(lcg(n, seed), dtype=torch.float64)
    return ((v / 2**31 - 1) * scale).to(torch.float32).reshape(shape)


def lcg_ints(count, seed, n):
    return torch.tensor([a % n for a in lcg(count, seed)], dtype=torch.int64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--cell', default='lstm', choices=['lstm', 'gru'])
    for k, d in (('vocab', 65), ('embed', 64), ('hidden', 128), ('seq', 64), ('batch', 32), ('steps', 20), ('threads', 0)):
        p.add_argument(f'--{k}', type=int, default=d)
    p.add_argument('--warmup-s', type=float, default=2.0)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)

    emb = nn.Embedding(a.vocab, a.embed)
    rnn = (nn.LSTM if a.cell == 'lstm' else nn.GRU)(a.embed, a.hidden, batch_first=True)
    head = nn.Linear(a.hidden, a.vocab)
    # The suite's order and seeds: embedding, weight_ih, weight_hh, bias_ih, bias_hh, head weight, head bias.
    targets = [emb.weight, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, head.weight, head.bias]
    with torch.no_grad():
        for i, t in enumerate(targets):
            t.copy_(lcg_floats(list(t.shape), 10 + i, 1.0 if i == 0 else 1 / math.sqrt(a.hidden)))
    params = [*emb.parameters(), *rnn.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=2e-3)
    ids = lcg_ints(a.batch * a.seq, 1, a.vocab).reshape(a.batch, a.seq)
    tgt = lcg_ints(a.batch * a.seq, 2, a.vocab)

    def step():
        out, _ = rnn(emb(ids))  # (B, T, H)
        loss = F.cross_entropy(head(out).reshape(-1, a.vocab), tgt)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    first = step().item()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < a.warmup_s:
        step()
    best = float('inf')
    per = max(1, a.steps // 3)
    c0 = time.process_time()
    for _ in range(3):
        s0 = time.perf_counter()
        for _ in range(per):
            step()
        best = min(best, (time.perf_counter() - s0) / per)
    cpu = (time.process_time() - c0) / (3 * per)
    print(json.dumps({'cell': a.cell, 'ms_per_step': best * 1000, 'cpu_ms_per_step': cpu * 1000, 'first_loss': first, 'steps': a.steps,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
