// Keeping pruned weights at zero while training: `attachMasks` hooks an optimizer so that, at
// every step, the gradient of each pruned parameter is multiplied by its mask before the update
// (momentum and Adam's moments then receive nothing for pruned entries) and the parameter is
// multiplied by its mask after it (so nothing an update adds — weight decay, momentum or moments
// built up before the pruning — can revive a pruned entry). Masks are looked up on the module
// tree at each step, so pruning more later (a gradual schedule) needs no re-attaching.
//
// `sparsity` reports how much of each pruned parameter, and of all of them together, is masked.
import { checkBool, checkOptions, fmtValue, noGrad, type Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import { Optimizer } from '../optimizer.js';
import { checkModule, prunedParameters, PruningError } from './masks.js';

const ATTACHED = new WeakSet<Optimizer>();

/** What `attachMasks` returns: `detach()` restores the optimizer's own step. */
export interface MaskHook {
  /** Stop masking: the optimizer's step is its own again (the masks stay on the modules). */
  detach(): void;
}

/**
 * Make every `optimizer.step()` respect the masks of the pruned parameters of `models` (a module
 * or a list) that the optimizer updates: gradients are masked before the step and the weights
 * re-masked after it, so a pruned weight stays exactly 0 with SGD (momentum, weight decay), Adam,
 * AdamW or Lion. Gradient clipping done before `step()` sees the unmasked gradients.
 */
export function attachMasks(optimizer: Optimizer, models: Module | readonly Module[]): MaskHook {
  const op = 'attachMasks';
  if (!(optimizer instanceof Optimizer)) throw new PruningError(`${op}: optimizer must be an Optimizer, got ${fmtValue(optimizer)}`);
  const list = Array.isArray(models) ? models : [models];
  if (list.length === 0) throw new PruningError(`${op}: models must be a Module or a non-empty array of modules`);
  list.forEach((m, i) => checkModule(op, Array.isArray(models) ? `models[${i}]` : 'models', m));
  if (ATTACHED.has(optimizer)) throw new PruningError(`${op}: masks are already attached to this ${optimizer.kind} optimizer; detach the first hook`);
  const step = optimizer.step;
  const masked = (): [Tensor, Tensor][] => {
    const mine = new Set(optimizer.params());
    return list.flatMap((m) => prunedParameters(m)).filter((e) => mine.has(e.param)).map((e) => [e.param, e.mask]);
  };
  optimizer.step = function maskedStep(this: Optimizer): void {
    const pairs = masked();
    noGrad(() => { for (const [p, mask] of pairs) if (p.grad && !p.grad.isDisposed) p.grad.mul_(mask); });
    step.call(this);
    noGrad(() => { for (const [p, mask] of pairs) p.mul_(mask); });
  };
  ATTACHED.add(optimizer);
  let attached = true;
  return {
    detach(): void {
      if (!attached) return;
      attached = false;
      delete (optimizer as { step?: unknown }).step;
      if (optimizer.step !== step) optimizer.step = step;
      ATTACHED.delete(optimizer);
    },
  };
}

/** Masked entries of one pruned parameter (or zeros of an unpruned one). */
export interface LayerSparsity {
  /** Dotted parameter name (`fc1.weight`). */
  name: string;
  /** Entries masked (or exactly 0, for an unpruned parameter). */
  zeros: number;
  /** Entries in all. */
  total: number;
  /** zeros / total. */
  sparsity: number;
}

/** What `sparsity` returns: per parameter and over all of them. */
export interface SparsityReport {
  /** One entry per parameter, in `namedParameters` order. */
  layers: LayerSparsity[];
  /** Sum of the layers' zeros. */
  zeros: number;
  /** Sum of the layers' totals. */
  total: number;
  /** zeros / total over the parameters listed (0 when none). */
  global: number;
}

/**
 * Sparsity of `model`: for each pruned parameter the fraction of its mask that is 0, and the same
 * over all pruned parameters. With `{ all: true }` every parameter is listed, an unpruned one by
 * its entries that are exactly 0.
 */
export async function sparsity(model: Module, opts: { all?: boolean } = {}): Promise<SparsityReport> {
  const op = 'sparsity';
  checkModule(op, 'model', model);
  if (typeof opts !== 'object' || opts === null) throw new PruningError(`${op}: options must be an object, got ${fmtValue(opts)}`);
  checkOptions(op, opts, ['all']);
  const all = opts.all === undefined ? false : checkBool(op, 'all', opts.all);
  const masks = new Map(prunedParameters(model).map((e) => [e.param, e.mask]));
  const layers: LayerSparsity[] = [];
  for (const [name, p] of model.namedParameters()) {
    const mask = masks.get(p);
    if (!mask && !all) continue;
    const v = await (mask ?? p).data();
    let zeros = 0;
    for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
    layers.push({ name, zeros, total: v.length, sparsity: v.length ? zeros / v.length : 0 });
  }
  const zeros = layers.reduce((s, l) => s + l.zeros, 0);
  const total = layers.reduce((s, l) => s + l.total, 0);
  return { layers, zeros, total, global: total ? zeros / total : 0 };
}
