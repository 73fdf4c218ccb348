#!/usr/bin/env python3
"""PyTorch reference for `pnpm example pretrain-gpt --full`: nanoGPT's Shakespeare-char CPU recipe
(4 layers, 4 heads, 128 wide, context 64, batch 12, no biases, tied embeddings, exact GELU; AdamW
lr 1e-3, betas 0.9/0.99, weight decay 0.1 on matrices only; 100 warmup steps then cosine decay to
1e-4 at step 2000; gradient-norm clipping at 1.0; 90/10 character split), written directly with
torch ops and the library's parameter names. Trains 2000 steps with the given seed and prints the
mean loss over 200 random batches per split, the evaluation `--full` uses. Seed-to-seed spread is
the yardstick for the example's final validation loss.

usage: /usr/bin/python3 nanogpt_seeds.py --data tinyshakespeare.txt [--seed 1337] [--threads 1]
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--data", required=True)
p.add_argument("--seed", type=int, default=1337)
p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 is fastest on 2 cores)")
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--eval-iters", type=int, default=200)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)

text = open(a.data, encoding="utf-8").read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
n = int(len(data) * 0.9)
train, val = data[:n], data[n:]
C, H, L, V, T, B = 128, 4, 4, len(chars), 64, 12


def normal(*shape, std=0.02):
    return torch.nn.Parameter(torch.randn(*shape) * std)


P = {"wte.weight": normal(V, C), "wpe.weight": normal(T, C)}
for i in range(L):
    P[f"h.{i}.ln1.weight"] = torch.nn.Parameter(torch.ones(C))
    P[f"h.{i}.ln2.weight"] = torch.nn.Parameter(torch.ones(C))
    P[f"h.{i}.attn.cAttn.weight"] = normal(3 * C, C)
    P[f"h.{i}.attn.cProj.weight"] = normal(C, C, std=0.02 / math.sqrt(2 * L))
    P[f"h.{i}.mlp.cFc.weight"] = normal(4 * C, C)
    P[f"h.{i}.mlp.cProj.weight"] = normal(C, 4 * C, std=0.02 / math.sqrt(2 * L))
P["lnF.weight"] = torch.nn.Parameter(torch.ones(C))


def ln(x, w):
    return F.layer_norm(x, (C,), w, None, 1e-5)


def loss_of(idx, tgt):
    b, t = idx.shape
    x = P["wte.weight"][idx] + P["wpe.weight"][:t]
    for i in range(L):
        g = lambda s: P[f"h.{i}.{s}"]  # noqa: E731
        q, k, v = F.linear(ln(x, g("ln1.weight")), g("attn.cAttn.weight")).split(C, 2)
        q, k, v = (z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + F.linear((att @ v).transpose(1, 2).reshape(b, t, C), g("attn.cProj.weight"))
        x = x + F.linear(F.gelu(F.linear(ln(x, g("ln2.weight")), g("mlp.cFc.weight"))), g("mlp.cProj.weight"))
    logits = ln(x, P["lnF.weight"]) @ P["wte.weight"].t()
    return F.cross_entropy(logits.view(-1, V), tgt.view(-1))


def batch(d):
    ix = torch.randint(len(d) - T, (B,))
    return torch.stack([d[i:i + T] for i in ix]), torch.stack([d[i + 1:i + T + 1] for i in ix])


def lr_at(it):
    if it < 100:
        return 1e-3 * (it + 1) / 101
    return 1e-4 + 0.5 * (1 + math.cos(math.pi * (it - 100) / 1900)) * 9e-4


opt = torch.optim.AdamW([{"params": [q for q in P.values() if q.dim() >= 2], "weight_decay": 0.1},
                         {"params": [q for q in P.values() if q.dim() < 2], "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
t0 = time.time()
for it in range(a.steps):
    for group in opt.param_groups:
        group["lr"] = lr_at(it)
    X, Y = batch(train)
    loss = loss_of(X, Y)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(P.values()), 1.0)
    opt.step()
elapsed = time.time() - t0
with torch.no_grad():
    out = {s: sum(loss_of(*batch(d)).item() for _ in range(a.eval_iters)) / a.eval_iters for s, d in (("train", train), ("val", val))}
print(f"seed {a.seed}: train {out['train']:.4f} val {out['val']:.4f}  {elapsed:.0f} s ({1000 * elapsed / a.steps:.0f} ms/step)", flush=True)
