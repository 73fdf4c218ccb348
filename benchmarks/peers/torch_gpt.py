#!/usr/bin/env python3
"""PyTorch peer for the training-step benchmark: the same models as benchmarks/suites/training.ts
(nanoGPT-style GPT: tied embeddings, pre-LN blocks, exact GELU, causal attention; or the
784-256-10 MLP), trained with AdamW on random tokens on the CPU, or with --device cuda on an NVIDIA
GPU. Prints one JSON line: {"model", "ms_per_step", "tokens_per_s", "steps", "threads", "device", "torch"}.
--checkpoint runs each GPT block under torch.utils.checkpoint (non-reentrant). --memory adds
"start_bytes" (the tensors live when a step starts: parameters, AdamW state, inputs, the mask) and
"peak_bytes" (the most tensor bytes live at once during one step, start_bytes included), from the
CPU allocator's allocation and free events that torch.profiler records with profile_memory=True.

usage: torch_gpt.py --model gpt --layers 4 --heads 4 --embd 128 --block 64 --batch 12 --vocab 65
       torch_gpt.py --model mlp --batch 128
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile
from torch.utils.checkpoint import checkpoint


class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(c)
        self.c_attn = nn.Linear(c, 3 * c)
        self.c_proj = nn.Linear(c, c)
        self.ln2 = nn.LayerNorm(c)
        self.fc = nn.Linear(c, 4 * c)
        self.proj = nn.Linear(4 * c, c)

    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln1(x)).split(c, dim=2)  # (B, T, C) each
        q, k, v = (z.view(b, t, self.h, c // self.h).transpose(1, 2) for z in (q, k, v))  # (B, H, T, D)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = F.softmax(att.masked_fill(mask[:t, :t] == 0, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)  # (B, T, C)
        x = x + self.c_proj(y)
        return x + self.proj(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, vocab, block, layers, heads, embd, ckpt=False):
        super().__init__()
        self.ckpt = ckpt
        self.wte = nn.Embedding(vocab, embd)
        self.wpe = nn.Embedding(block, embd)
        self.blocks = nn.ModuleList([Block(embd, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(embd)
        self.register_buffer("mask", torch.tril(torch.ones(block, block)))

    def forward(self, idx, targets):
        b, t = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))  # (B, T, C)
        for blk in self.blocks:
            x = checkpoint(blk, x, self.mask, use_reentrant=False) if self.ckpt else blk(x, self.mask)
        logits = self.ln_f(x) @ self.wte.weight.t()  # tied head, (B, T, V)
        return F.cross_entropy(logits.view(b * t, -1), targets.view(b * t))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="gpt", choices=["gpt", "mlp"])
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--embd", type=int, default=128)
    p.add_argument("--block", type=int, default=64)
    p.add_argument("--batch", type=int, default=12)
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--warmup-s", type=float, default=0.0, help="keep warming up until this many seconds passed")
    p.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--checkpoint", action="store_true", help="activation checkpointing of every block")
    p.add_argument("--memory", action="store_true", help="also report the peak tensor bytes of one step")
    a = p.parse_args()
    dev = torch.device(a.device)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model == "gpt":
        model = GPT(a.vocab, a.block, a.layers, a.heads, a.embd, a.checkpoint).to(dev)
        x = torch.randint(0, a.vocab, (a.batch, a.block), device=dev)
        y = torch.randint(0, a.vocab, (a.batch, a.block), device=dev)
        loss_fn = lambda: model(x, y)
        tokens = a.batch * a.block
    else:
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)).to(dev)
        x = torch.randn(a.batch, 784, device=dev)
        y = torch.randint(0, 10, (a.batch,), device=dev)
        loss_fn = lambda: F.cross_entropy(model(x), y)
        tokens = a.batch
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        opt.step()
        return loss.item()

    w0 = time.perf_counter()
    for _ in range(a.warmup):
        step()
    while time.perf_counter() - w0 < a.warmup_s:
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    ms = (time.perf_counter() - t0) * 1000 / a.steps
    out = {"model": a.model, "ms_per_step": ms, "tokens_per_s": tokens / (ms / 1000),
           "steps": a.steps, "threads": torch.get_num_threads(), "device": a.device, "torch": torch.__version__}
    if a.memory:
        opt.zero_grad(set_to_none=True)
        live = [*model.parameters(), *model.buffers(), x, y]
        live += [t for st in opt.state.values() for t in st.values() if torch.is_tensor(t)]
        start = sum(t.numel() * t.element_size() for t in live)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            step()
        # Allocations (+bytes) and frees (-bytes) in the order they happened.
        cur = peak = 0
        for e in prof.profiler.kineto_results.events():
            if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU:
                cur += e.nbytes()
                peak = max(peak, cur)
        out.update({"start_bytes": start, "peak_bytes": start + peak, "checkpoint": a.checkpoint})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
