// Gradual pruning (Zhu & Gupta 2017, "To prune, or not to prune: exploring the efficacy of
// pruning for model compression"): sparsity rises from s_i to s_f over n pruning steps Δt apart,
// starting at step t0, along
//     s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³,   t ∈ {t0, t0 + Δt, …, t0 + n·Δt},
// pruning fast while many redundant weights remain and slowly near the end. At each pruning step
// the masks are recomputed by magnitude so the pruned set reaches round(s_t · size); pruned
// entries stay pruned. Training in between (with `attachMasks`) lets the network recover.
import { checkBool, checkEnum, checkOptions, checkRange, checkSize, fmtValue, type Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import { lowestK, roundHalfEven } from './amount.js';
import { checkPairs, ensureMask, PruningError, readMask, setMask } from './masks.js';

/** Options of `cubicSparsity` (Zhu & Gupta's s_i, s_f, t0, Δt, n). */
export interface CubicSparsityOptions {
  /** s_i, the sparsity reached at the first pruning step t0 (default 0). */
  initialSparsity?: number;
  /** s_f, the sparsity reached at t0 + n·Δt and kept after. */
  finalSparsity: number;
  /** t0, the step of the first pruning (default 0). */
  beginStep?: number;
  /** Δt, steps between two prunings (default 1). */
  frequency?: number;
  /** n, the number of pruning intervals: the last pruning is at t0 + n·Δt. */
  pruningSteps: number;
}

/** A sparsity target per training step. */
export interface SparsitySchedule {
  /** The target sparsity after step `step`: 0 before the first pruning, then the value at the
   *  latest pruning step <= step. */
  sparsityAt(step: number): number;
  /** Whether masks are recomputed at `step`. */
  isPruningStep(step: number): boolean;
  /** t0, the first pruning step. */
  readonly beginStep: number;
  /** t0 + n·Δt, the last pruning step. */
  readonly endStep: number;
}

/** Zhu & Gupta's cubic sparsity schedule (see the file comment). */
export function cubicSparsity(opts: CubicSparsityOptions): SparsitySchedule {
  const op = 'cubicSparsity';
  if (typeof opts !== 'object' || opts === null) throw new PruningError(`${op}: options must be an object, got ${fmtValue(opts)}`);
  checkOptions(op, opts, ['initialSparsity', 'finalSparsity', 'beginStep', 'frequency', 'pruningSteps']);
  const si = checkRange(op, 'initialSparsity', opts.initialSparsity === undefined ? 0 : opts.initialSparsity, 0, 1);
  const sf = checkRange(op, 'finalSparsity', opts.finalSparsity, 0, 1);
  const t0 = checkSize(op, 'beginStep', opts.beginStep === undefined ? 0 : opts.beginStep);
  const dt = checkSize(op, 'frequency', opts.frequency === undefined ? 1 : opts.frequency, 1);
  const n = checkSize(op, 'pruningSteps', opts.pruningSteps, 1);
  if (si > sf) throw new PruningError(`${op}: initialSparsity (${si}) must be <= finalSparsity (${sf})`);
  const end = t0 + n * dt;
  const checkStep = (name: string, t: unknown) => checkSize(`${op}.${name}`, 'step', t);
  return {
    beginStep: t0,
    endStep: end,
    sparsityAt(step: number): number {
      const t = checkStep('sparsityAt', step);
      if (t < t0) return 0;
      const last = Math.min(t0 + Math.floor((t - t0) / dt) * dt, end);
      return sf + (si - sf) * (1 - (last - t0) / (n * dt)) ** 3;
    },
    isPruningStep(step: number): boolean {
      const t = checkStep('isPruningStep', step);
      return t >= t0 && t <= end && (t - t0) % dt === 0;
    },
  };
}

/** Options of `GradualPruner`. */
export interface GradualPrunerOptions {
  /** The parameters to prune: [module, parameterName] pairs. */
  params: readonly (readonly [Module, string])[];
  /** The sparsity target per step (e.g. `cubicSparsity({...})`). */
  schedule: SparsitySchedule;
  /** 'global' (default): one magnitude threshold across all params; 'layer': each param reaches the sparsity on its own. */
  scope?: 'global' | 'layer';
  /** Print nothing (default) or a line per pruning step through `log`. */
  log?: (line: string) => void;
  /** Register all-ones masks on every param now, so checkpoints hold masks from the start (default true). */
  registerMasks?: boolean;
}

/**
 * Applies a sparsity schedule during training: call `await pruner.step(t)` after optimizer step t
 * of your loop, or pass the pruner in the Trainer's `callbacks` (its `onStep` runs after each
 * step). Use it with `attachMasks(optimizer, model)` so the steps in between keep pruned weights
 * at zero. To prune at step 0, call `await pruner.step(0)` before training.
 */
export class GradualPruner {
  /** The sparsity target per step. */
  readonly schedule: SparsitySchedule;
  /** One threshold across all params ('global') or one per param ('layer'). */
  readonly scope: 'global' | 'layer';
  readonly #pairs: [Module, string, Tensor][];
  readonly #log: ((line: string) => void) | undefined;
  /** The sparsity of the last pruning (0 before any). */
  currentSparsity = 0;

  /** Checks the options and, unless `registerMasks` is false, gives every param an all-ones mask. */
  constructor(opts: GradualPrunerOptions) {
    const op = 'GradualPruner';
    if (typeof opts !== 'object' || opts === null) throw new PruningError(`${op}: options must be an object, got ${fmtValue(opts)}`);
    checkOptions(op, opts, ['params', 'schedule', 'scope', 'log', 'registerMasks']);
    this.#pairs = checkPairs(op, 'params', opts.params);
    const s = opts.schedule as SparsitySchedule | undefined;
    if (typeof s !== 'object' || s === null || typeof s.sparsityAt !== 'function' || typeof s.isPruningStep !== 'function') {
      throw new PruningError(`${op}: schedule must be a sparsity schedule ({ sparsityAt, isPruningStep }, e.g. cubicSparsity({...})), got ${fmtValue(s)}`);
    }
    this.schedule = s;
    this.scope = checkEnum(op, 'scope', opts.scope === undefined ? 'global' : opts.scope, ['global', 'layer']);
    if (opts.log !== undefined && typeof opts.log !== 'function') throw new PruningError(`${op}: log must be a function, got ${fmtValue(opts.log)}`);
    this.#log = opts.log;
    if (checkBool(op, 'registerMasks', opts.registerMasks === undefined ? true : opts.registerMasks)) for (const [m, n, p] of this.#pairs) ensureMask(m, n, p);
  }

  /** Prune to the schedule's target if `step` is a pruning step; returns the sparsity reached, or null. */
  async step(step: number): Promise<number | null> {
    checkSize('GradualPruner.step', 'step', step);
    if (!this.schedule.isPruningStep(step)) return null;
    const target = this.schedule.sparsityAt(step);
    const reached = await this.pruneTo(target);
    this.#log?.(`step ${step}: pruned to ${(100 * reached).toFixed(1)}% sparsity (target ${(100 * target).toFixed(1)}%)`);
    return reached;
  }

  /** The Trainer hook: prunes after optimizer step `info.step`. */
  readonly onStep = async (info: { step: number }): Promise<void> => { await this.step(info.step); };

  /** Prune the params by magnitude until `target` of their entries (together or each, per `scope`)
   *  are masked; already pruned entries stay pruned. Returns the sparsity over all params. */
  async pruneTo(target: number): Promise<number> {
    checkRange('GradualPruner.pruneTo', 'target', target, 0, 1);
    const masks = await Promise.all(this.#pairs.map(([m, n, p]) => readMask(m, n, p)));
    const values = await Promise.all(this.#pairs.map(([, , p]) => p.data()));
    const groups = this.scope === 'global' ? [this.#pairs.map((_, j) => j)] : this.#pairs.map((_, j) => [j]);
    for (const members of groups) {
      const sizes = members.map((j) => values[j]!.length);
      const total = sizes.reduce((a, b) => a + b, 0);
      const scores = new Float64Array(total);
      const eligible = new Uint8Array(total);
      let at = 0;
      for (const j of members) {
        const v = values[j]!, mk = masks[j]!;
        for (let i = 0; i < v.length; i++) { scores[at + i] = Math.abs(v[i]!); eligible[at + i] = mk[i] !== 0 ? 1 : 0; }
        at += v.length;
      }
      const pruned = total - eligible.reduce((s, e) => s + e, 0);
      const k = Math.max(0, roundHalfEven(target * total) - pruned);
      for (const g of lowestK(scores, eligible, k)) {
        let r = g, q = 0;
        while (r >= sizes[q]!) { r -= sizes[q]!; q++; }
        masks[members[q]!]![r] = 0;
      }
    }
    let zeros = 0, total = 0;
    this.#pairs.forEach(([m, n, p], j) => {
      setMask(m, n, p, masks[j]!);
      total += masks[j]!.length;
      for (const v of masks[j]!) if (v === 0) zeros++;
    });
    this.currentSparsity = total ? zeros / total : 0;
    return this.currentSparsity;
  }
}
