#!/usr/bin/env python3
"""PyTorch reference for `pnpm example pretrain-gpt`: nanoGPT's Shakespeare-char GPT (pre-LayerNorm
blocks, tied embeddings, exact GELU, optional biases) and recipe (AdamW with weight decay on matrices
only, linear warmup then cosine decay, global gradient-norm clipping, random-window batches), written
directly with torch ops under the library's parameter names. Two modes:

  --seed S --data FILE   a fresh PyTorch run of `--full` (nanoGPT's CPU configuration) with torch's
                         own initialisation and batches; prints the final losses over 200 batches per
                         split (and over the first 20 of them, the size of nanoGPT's estimate). The
                         seed-to-seed spread is the yardstick for one run of the example.
  --replay OUT           replays a run of the example made with `--trace --out OUT`: the same initial
                         weights (OUT/trace/initial.safetensors), the same batches in the same order
                         and the same settings (OUT/trace/batches.json); prints PyTorch's losses beside
                         the example's (OUT/metrics.jsonl) at every evaluation and the largest
                         difference of any training step's loss. Any model size and dropout 0.

usage: /usr/bin/python3 benchmarks/peers/nanogpt_reference.py (--seed S --data FILE | --replay OUT) [--threads 1]
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("--data", help="text file (fresh runs; a replay takes it from the trace unless given)")
p.add_argument("--seed", type=int, default=1337)
p.add_argument("--replay", metavar="OUT", help="output directory of `pnpm example pretrain-gpt --trace --out OUT`")
p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 is fastest on 2 cores)")
p.add_argument("--steps", type=int, default=2000, help="fresh runs only")
p.add_argument("--eval-iters", type=int, default=200, help="fresh runs only: batches per split of the final evaluation")
p.add_argument("--json", metavar="FILE", help="replay only: also write the comparison as JSON")
a = p.parse_args()
torch.set_num_threads(a.threads)


def fail(msg):
    print(f"nanogpt_reference: {msg}", file=sys.stderr)
    sys.exit(2)


def read_safetensors(path):
    """The float32 tensors of a safetensors file, by name."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            fail(f"{path}: tensor {name} is {t['dtype']}, the replay reads F32 only")
        lo, hi = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + lo:8 + n + hi]), dtype=torch.float32).reshape(t["shape"])
    return out


class GPT:
    """The example's GPT as plain torch ops over a dict of parameters."""

    def __init__(self, params, n_layer, n_head):
        self.P = {k: torch.nn.Parameter(v.clone()) for k, v in params.items()}
        self.L, self.H = n_layer, n_head
        self.C = self.P["wte.weight"].shape[1]

    def parameters(self):
        return list(self.P.values())

    def ln(self, x, name):
        return F.layer_norm(x, (self.C,), self.P[f"{name}.weight"], self.P.get(f"{name}.bias"), 1e-5)

    def linear(self, x, name):
        return F.linear(x, self.P[f"{name}.weight"], self.P.get(f"{name}.bias"))

    def loss(self, idx, tgt):
        b, t = idx.shape
        C, H = self.C, self.H
        x = self.P["wte.weight"][idx] + self.P["wpe.weight"][:t]
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        for i in range(self.L):
            q, k, v = self.linear(self.ln(x, f"h.{i}.ln1"), f"h.{i}.attn.cAttn").split(C, 2)
            q, k, v = (z.view(b, t, H, C // H).transpose(1, 2) for z in (q, k, v))
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(C // H)).masked_fill(causal, float("-inf")).softmax(-1)
            x = x + self.linear((att @ v).transpose(1, 2).reshape(b, t, C), f"h.{i}.attn.cProj")
            x = x + self.linear(F.gelu(self.linear(self.ln(x, f"h.{i}.ln2"), f"h.{i}.mlp.cFc")), f"h.{i}.mlp.cProj")
        logits = self.ln(x, "lnF") @ self.P["wte.weight"].t()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))


def fresh_params(V, C, T, L):
    """nanoGPT's initialisation: N(0, 0.02), residual projections N(0, 0.02/sqrt(2L)), LayerNorm 1."""
    def normal(*shape, std=0.02):
        return torch.randn(*shape) * std
    P = {"wte.weight": normal(V, C), "wpe.weight": normal(T, C)}
    for i in range(L):
        P[f"h.{i}.ln1.weight"] = torch.ones(C)
        P[f"h.{i}.ln2.weight"] = torch.ones(C)
        P[f"h.{i}.attn.cAttn.weight"] = normal(3 * C, C)
        P[f"h.{i}.attn.cProj.weight"] = normal(C, C, std=0.02 / math.sqrt(2 * L))
        P[f"h.{i}.mlp.cFc.weight"] = normal(4 * C, C)
        P[f"h.{i}.mlp.cProj.weight"] = normal(C, 4 * C, std=0.02 / math.sqrt(2 * L))
    P["lnF.weight"] = torch.ones(C)
    return P


def lr_schedule(lr, min_lr, warmup, decay_steps):
    """nanoGPT's get_lr: linear warmup over `warmup` steps, cosine decay to min_lr at decay_steps."""
    def at(it):
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        if it > decay_steps:
            return min_lr
        return min_lr + 0.5 * (1 + math.cos(math.pi * (it - warmup) / (decay_steps - warmup))) * (lr - min_lr)
    return at


def adamw(model, lr, betas, eps, weight_decay):
    ps = model.parameters()
    return torch.optim.AdamW([{"params": [q for q in ps if q.dim() >= 2], "weight_decay": weight_decay},
                              {"params": [q for q in ps if q.dim() < 2], "weight_decay": 0.0}], lr=lr, betas=betas, eps=eps)


def windows(data, offsets, T):
    ix = torch.as_tensor(offsets)
    return torch.stack([data[i:i + T] for i in ix]), torch.stack([data[i + 1:i + T + 1] for i in ix])


def train_step(model, opt, lr, grad_clip, X, Y):
    for g in opt.param_groups:
        g["lr"] = lr
    loss = model.loss(X, Y)
    opt.zero_grad()
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    opt.step()
    return loss.item()


def encode(text, chars):
    stoi = {c: i for i, c in enumerate(chars)}
    missing = sorted(set(text) - set(stoi))
    if missing:
        fail(f"the text has characters outside the trace's vocabulary: {missing[:10]}")
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(len(data) * 0.9)
    return {"train": data[:n], "val": data[n:]}


def fresh_run():
    if not a.data:
        fail("--data FILE is required for a fresh run")
    torch.manual_seed(a.seed)
    text = open(a.data, encoding="utf-8").read()
    splits = encode(text, sorted(set(text)))
    V, C, T, L, H, B = len(set(text)), 128, 64, 4, 4, 12
    model = GPT(fresh_params(V, C, T, L), L, H)
    opt = adamw(model, 1e-3, (0.9, 0.99), 1e-8, 0.1)
    lr_at = lr_schedule(1e-3, 1e-4, 100, a.steps)
    t0 = time.time()
    for it in range(a.steps):
        off = torch.randint(len(splits["train"]) - T, (B,))
        train_step(model, opt, lr_at(it), 1.0, *windows(splits["train"], off, T))
    elapsed = time.time() - t0
    out = {}
    with torch.no_grad():
        for s in ("train", "val"):
            out[s] = [model.loss(*windows(splits[s], torch.randint(len(splits[s]) - T, (B,)), T)).item() for _ in range(a.eval_iters)]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    print(f"seed {a.seed}: train {mean(out['train']):.4f} val {mean(out['val']):.4f} over {a.eval_iters} batches "
          f"(first 20: train {mean(out['train'][:20]):.4f} val {mean(out['val'][:20]):.4f})  "
          f"{elapsed:.0f} s ({1000 * elapsed / a.steps:.0f} ms/step)", flush=True)


def replay():
    out_dir = a.replay
    trace_path = os.path.join(out_dir, "trace", "batches.json")
    if not os.path.exists(trace_path):
        fail(f"{trace_path} not found: run the example with --trace --out {out_dir} first")
    trace = json.load(open(trace_path))
    if trace.get("format") != "webgrad-batch-trace/1":
        fail(f"{trace_path}: unknown format {trace.get('format')!r}")
    run = trace["run"]
    cfg = run["model"]
    if cfg.get("dropout", 0) != 0:
        fail(f"the run used dropout {cfg['dropout']}; dropout masks are not in the trace, so it cannot be replayed")
    data_path = a.data or (run["data"] if os.path.isabs(run["data"]) else os.path.join(out_dir, "trace", run["data"]))
    splits = encode(open(data_path, encoding="utf-8").read(), run["chars"])
    params = read_safetensors(os.path.join(out_dir, "trace", "initial.safetensors"))
    params.pop("lmHead.weight", None)  # tied to wte.weight
    model = GPT(params, cfg["nLayer"], cfg["nHead"])
    opt = adamw(model, run["lr"], tuple(run["betas"]), run["eps"], run["weightDecay"])
    lr_at = lr_schedule(run["lr"], run["minLr"], run["warmup"], max(run["steps"], run["warmup"] + 1))
    T = run["blockSize"]

    ours = {"train": {}, "eval": [], "final": None, "lr": {}}
    for line in open(os.path.join(out_dir, "metrics.jsonl")):
        r = json.loads(line)
        if r["type"] == "train":
            ours["train"][r["step"]] = r["loss"]
            ours["lr"][r["step"]] = r["lr"]
        elif r["type"] == "eval":
            ours["eval"].append(r)
        elif r["type"] == "final_estimate":
            ours["final"] = r
    # metrics.jsonl may hold several runs into the same directory; keep the last evaluation per step.
    evals_by_step = {}
    for r in ours["eval"]:
        evals_by_step[r["step"]] = r["losses"]

    def evaluate(ev):
        with torch.no_grad():
            return {s: sum(model.loss(*windows(splits[s], off, T)).item() for off in bs) / len(bs) for s, bs in ev["batches"].items()}

    evaluations = trace["evaluations"]
    theirs_eval = []
    e = 0
    dloss, dlr = [], []
    t0 = time.time()
    print(f"replaying {len(trace['steps'])} steps and {len(evaluations)} evaluations of {out_dir} "
          f"(run on {run['device']}, seed {run['seed']}) in PyTorch {torch.__version__}", flush=True)
    for it, off in enumerate(trace["steps"]):
        while e < len(evaluations) and evaluations[e]["after"] == it:
            theirs_eval.append((it, evaluations[e], evaluate(evaluations[e])))
            e += 1
        loss = train_step(model, opt, lr_at(it), run["gradClip"], *windows(splits["train"], off, T))
        if it + 1 in ours["train"]:
            dloss.append((abs(loss - ours["train"][it + 1]), it + 1, loss, ours["train"][it + 1]))
            dlr.append(abs(lr_at(it) - ours["lr"][it + 1]))
    while e < len(evaluations):
        theirs_eval.append((len(trace["steps"]), evaluations[e], evaluate(evaluations[e])))
        e += 1
    elapsed = time.time() - t0

    report = {"steps": len(dloss), "evaluations": []}
    print(f"{'step':>6} {'batches':>8} | {'webgrad train':>13} {'torch train':>11} | {'webgrad val':>11} {'torch val':>9} | {'|Δ val|':>8}")
    worst_eval = 0.0
    for step, ev, th in theirs_eval:
        n = len(next(iter(ev["batches"].values())))
        is_final = ours["final"] is not None and step == ours["final"]["step"] and n == ours["final"]["iters"]
        mine = ours["final"]["losses"] if is_final else evals_by_step.get(step)
        if mine is None:
            print(f"{step:>6} {n:>8} | {'—':>13} {th['train']:>11.4f} | {'—':>11} {th['val']:>9.4f} |")
            continue
        report["evaluations"].append({"step": step, "batches": n, "webgrad": mine, "torch": th})
        d = abs(mine["val"] - th["val"])
        worst_eval = max(worst_eval, d, abs(mine["train"] - th["train"]))
        print(f"{step:>6} {n:>8} | {mine['train']:>13.4f} {th['train']:>11.4f} | {mine['val']:>11.4f} {th['val']:>9.4f} | {d:>8.5f}")
    if dloss:
        worst = max(dloss)
        mean_d = sum(x[0] for x in dloss) / len(dloss)
        print(f"training loss over {len(dloss)} steps: largest |Δ| {worst[0]:.2e} at step {worst[1]} "
              f"(torch {worst[2]:.5f}, webgrad {worst[3]:.5f}), mean |Δ| {mean_d:.2e}; "
              f"largest |Δ lr| {max(dlr):.1e}; largest |Δ| of an evaluation {worst_eval:.2e}")
        report.update(max_train_delta=worst[0], mean_train_delta=mean_d, max_lr_delta=max(dlr), max_eval_delta=worst_eval)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f)
    print(f"PyTorch replay: {elapsed:.0f} s ({1000 * elapsed / max(1, len(trace['steps'])):.0f} ms/step including evaluations)")


if a.replay:
    replay()
else:
    fresh_run()
