// One accuracy-vs-sparsity sweep: from the trained weights, for each method and sparsity, a fresh
// copy of the model is pruned, scored, fine-tuned for a few steps with the masks attached to the
// optimizer (pruned weights stay exactly 0), and scored again.
import { keep, type Tensor } from '@webgrad/core';
import type { Module, StateDict } from '@webgrad/nn';
import { attachMasks, type Optimizer } from '@webgrad/optim';
import { METHODS, NM_PATTERNS, prune, weightSparsity, type Method, type Prunable } from './methods.js';

/** One point of the sweep. */
export interface SweepPoint {
  method: Method;
  /** The sparsity asked for (for N:M, 1 − N/M), and the fraction of prunable weights actually 0. */
  target: number;
  sparsity: number;
  /** N:M patterns only. */
  pattern?: [number, number];
  /** The score (accuracy or validation loss) right after pruning and after the fine-tune. */
  pruned: number;
  finetuned: number;
  /** The fraction of prunable weights that are 0 after the fine-tune (masks kept: >= sparsity). */
  sparsityAfter: number;
}

/** What the sweep needs to know about one model. */
export interface SweepModel<M extends Module> {
  /** A fresh model (weights are loaded over it). */
  build(): M;
  prunable: Prunable<M>;
  /** The score of a model (accuracy, or validation loss). */
  score(model: M): Promise<number>;
  /** A fresh optimizer for the fine-tune, and one fine-tuning step. */
  optimizer(model: M): Optimizer;
  trainStep(model: M, optimizer: Optimizer): void;
  finetuneSteps: number;
}

/** A copy of `model`'s state (owned; dispose with disposeState). */
export function snapshot(model: Module): StateDict {
  return Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, keep(t.clone())]));
}

export function disposeState(sd: StateDict): void {
  for (const t of new Set<Tensor>(Object.values(sd))) t.dispose();
}

/** Sweep every method over `sparsities` (N:M over NM_PATTERNS), calling `progress` after each point. */
export async function sweep<M extends Module>(trained: StateDict, spec: SweepModel<M>, sparsities: readonly number[], progress: (p: SweepPoint) => void): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  const runs: [Method, number, [number, number] | undefined][] = [];
  for (const method of METHODS) {
    if (method === 'n:m') for (const [n, m] of NM_PATTERNS) runs.push([method, 1 - n / m, [n, m]]);
    else for (const s of sparsities) runs.push([method, s, undefined]);
  }
  let dense: SweepPoint | null = null;
  for (const [method, target, pattern] of runs) {
    if (target === 0 && dense) { // the unpruned model is the same point for every method
      points.push({ ...dense, method });
      progress(points.at(-1)!);
      continue;
    }
    const model = spec.build();
    model.loadStateDict(trained);
    const optimizer = spec.optimizer(model);
    try {
      if (target > 0) await prune(model, spec.prunable, method, target, pattern);
      const sparsity = await weightSparsity(model, spec.prunable as Prunable<Module>);
      const pruned = await spec.score(model);
      const hook = attachMasks(optimizer, model);
      model.train();
      for (let s = 0; s < spec.finetuneSteps; s++) spec.trainStep(model, optimizer);
      hook.detach();
      const finetuned = await spec.score(model);
      const sparsityAfter = await weightSparsity(model, spec.prunable as Prunable<Module>);
      const point: SweepPoint = { method, target, sparsity, pattern, pruned, finetuned, sparsityAfter };
      if (target === 0) dense = point;
      points.push(point);
      progress(point);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }
  return points;
}
