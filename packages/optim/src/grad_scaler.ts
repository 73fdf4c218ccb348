// GradScaler: dynamic loss scaling for low-precision training, with torch.cuda.amp.GradScaler's
// semantics. Multiply the loss by the scale before backward (so small gradients do not underflow),
// unscale the gradients before clipping/stepping, skip the step when any gradient overflowed, and
// adapt the scale: ×backoffFactor after an overflow, ×growthFactor after `growthInterval` clean
// steps in a row.
//
//   const loss = autocast({ dtype: 'float16' }, () => model.forward(x, y).loss!);
//   scaler.scale(loss).backward();                   // outside the autocast scope, as in torch
//   scaler.unscale_(opt); clipGradNorm(params, 1);   // optional
//   await scaler.step(opt);                          // async: reads the overflow flag
//   scaler.update(); opt.zeroGrad();
//
// Under autocast the parameters stay float32 (master weights) and receive float32 gradients
// through the casts, so the optimizer and the overflow check only see float32 tensors; what the
// scale protects are the 16-bit gradients inside the graph, which would flush to zero below
// float16's 2^-24 or overflow above 65504. The Trainer does all of this with `gradScaler`.
// `step` is the one place that reads from the device (a single bool), like torch's.
import { checkBool, checkOptions, checkRange, checkSize, checkTensor, fmtValue, keep, noGrad, type Tensor } from '@webgrad/core';
import { gradsAreFinite } from './grad_utils.js';
import { Optimizer, OptimizerError } from './optimizer.js';

function checkOptimizer(op: string, opt: unknown): void {
  if (!(opt instanceof Optimizer)) throw new OptimizerError(`${op}: optimizer must be an Optimizer, got ${fmtValue(opt)}`);
}

/** Options of GradScaler (torch.cuda.amp.GradScaler's `init_scale`, `growth_factor`, `backoff_factor`, `growth_interval`, `enabled`). */
export interface GradScalerOptions {
  /** Initial loss scale, > 0 (default 2¹⁶). */
  initScale?: number;
  /** Scale multiplier after `growthInterval` steps without overflow, > 1 (default 2). */
  growthFactor?: number;
  /** Scale multiplier after an overflow, in (0, 1) (default 0.5). */
  backoffFactor?: number;
  /** Overflow-free steps in a row before the scale grows (default 2000). */
  growthInterval?: number;
  /** When false every method is a pass-through (scale 1, steps always taken). */
  enabled?: boolean;
}

/** GradScaler's state dict: the scale, its factors, and the overflow-free steps counted since the last change. */
export interface GradScalerState {
  /** The current loss scale. */
  scale: number;
  /** Scale multiplier after `growthInterval` clean steps. */
  growthFactor: number;
  /** Scale multiplier after an overflow. */
  backoffFactor: number;
  /** Clean steps in a row before the scale grows. */
  growthInterval: number;
  /** Clean steps since the scale last changed. */
  growthTracker: number;
}

interface PerOptimizer {
  /** 0-d bool "all finite" flag, computed at unscale time; owned until step/update. */
  finite: Tensor | null;
  stepped: boolean;
  foundInf: boolean | null;
}

/** Dynamic loss scaling for low-precision training, with torch.cuda.amp.GradScaler's semantics: `scale(loss).backward()`, optionally `unscale_(opt)`, `await step(opt)` (skipped when a gradient overflowed), `update()`. */
export class GradScaler {
  #scale: number;
  #growthTracker = 0;
  /** Scale multiplier after `growthInterval` clean steps. */
  growthFactor: number;
  /** Scale multiplier after an overflow. */
  backoffFactor: number;
  /** Clean steps in a row before the scale grows. */
  growthInterval: number;
  /** When false every method is a pass-through. */
  readonly enabled: boolean;
  #perOpt = new Map<Optimizer, PerOptimizer>();

  constructor(opts: GradScalerOptions = {}) {
    const op = 'GradScaler';
    checkOptions(op, opts, ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled']);
    this.#scale = checkRange(op, 'initScale', opts.initScale === undefined ? 2 ** 16 : opts.initScale, 0, Infinity, { lo: true });
    this.growthFactor = checkRange(op, 'growthFactor', opts.growthFactor === undefined ? 2 : opts.growthFactor, 1, Infinity, { lo: true });
    this.backoffFactor = checkRange(op, 'backoffFactor', opts.backoffFactor === undefined ? 0.5 : opts.backoffFactor, 0, 1, { lo: true, hi: true });
    this.growthInterval = checkSize(op, 'growthInterval', opts.growthInterval === undefined ? 2000 : opts.growthInterval, 1);
    this.enabled = checkBool(op, 'enabled', opts.enabled === undefined ? true : opts.enabled);
  }

  /** The current scale (1 when disabled). */
  getScale(): number { return this.enabled ? this.#scale : 1; }

  /** Clean steps since the last growth or backoff. */
  get growthTracker(): number { return this.#growthTracker; }

  /** loss × scale (a new tensor in the graph). */
  scale(loss: Tensor): Tensor {
    checkTensor('GradScaler.scale', 'loss', loss);
    return this.enabled ? loss.mul(this.#scale) : loss;
  }

  #entry(opt: Optimizer): PerOptimizer {
    let e = this.#perOpt.get(opt);
    if (!e) { e = { finite: null, stepped: false, foundInf: null }; this.#perOpt.set(opt, e); }
    return e;
  }

  /** Divide the optimizer's gradients by the scale, in place, and record whether they are all finite. Once per step. */
  unscale_(opt: Optimizer): void {
    checkOptimizer('GradScaler.unscale_', opt);
    if (!this.enabled) return;
    const e = this.#entry(opt);
    if (e.finite || e.foundInf !== null) throw new OptimizerError('GradScaler.unscale_: already called for this optimizer since the last update()');
    const inv = 1 / this.#scale;
    const params = opt.params();
    noGrad(() => {
      for (const p of params) if (p.grad && !p.grad.isDisposed) p.grad.mul_(inv);
    });
    e.finite = keep(gradsAreFinite(params));
  }

  /** Step the optimizer unless a gradient overflowed (unscaling first if needed). Returns whether it stepped. */
  async step(opt: Optimizer): Promise<boolean> {
    checkOptimizer('GradScaler.step', opt);
    if (!this.enabled) { opt.step(); return true; }
    const e = this.#entry(opt);
    if (e.stepped) throw new OptimizerError('GradScaler.step: already called for this optimizer since the last update()');
    if (!e.finite && e.foundInf === null) this.unscale_(opt);
    if (e.finite) {
      const ok = (await e.finite.item()) !== 0;
      e.finite.dispose();
      e.finite = null;
      e.foundInf = !ok;
    }
    e.stepped = true;
    if (e.foundInf) return false;
    opt.step();
    return true;
  }

  /** Adapt the scale from the overflow flags of this iteration's steps (or set it to `newScale`). */
  update(newScale?: number): void {
    if (!this.enabled) return;
    const flags = [...this.#perOpt.values()];
    if (newScale !== undefined) {
      this.#scale = checkRange('GradScaler.update', 'newScale', newScale, 0, Infinity, { lo: true });
    } else {
      if (!flags.some((f) => f.foundInf !== null)) throw new OptimizerError('GradScaler.update: no overflow checks were recorded; call step() first');
      if (flags.some((f) => f.foundInf === true)) {
        this.#scale *= this.backoffFactor;
        this.#growthTracker = 0;
      } else if (++this.#growthTracker === this.growthInterval) {
        this.#scale *= this.growthFactor;
        this.#growthTracker = 0;
      }
    }
    for (const f of flags) f.finite?.dispose();
    this.#perOpt.clear();
  }

  /** Whether the last step() on `opt` found an overflow (null before step). */
  foundInf(opt: Optimizer): boolean | null {
    return this.#perOpt.get(opt)?.foundInf ?? null;
  }

  /** A snapshot of scale, growth tracker and factors, for checkpoints. */
  stateDict(): GradScalerState {
    return { scale: this.#scale, growthFactor: this.growthFactor, backoffFactor: this.backoffFactor, growthInterval: this.growthInterval, growthTracker: this.#growthTracker };
  }

  /** Restore scale, growth tracker and factors. */
  loadStateDict(s: GradScalerState): void {
    if (!(s.scale > 0) || !Number.isInteger(s.growthTracker) || s.growthTracker < 0 || !(s.growthFactor > 1)
      || !(s.backoffFactor > 0 && s.backoffFactor < 1) || !Number.isInteger(s.growthInterval) || s.growthInterval < 1) {
      throw new OptimizerError(`GradScaler.loadStateDict: invalid state ${JSON.stringify(s)}`);
    }
    this.#scale = s.scale;
    this.#growthTracker = s.growthTracker;
    this.growthFactor = s.growthFactor;
    this.backoffFactor = s.backoffFactor;
    this.growthInterval = s.growthInterval;
  }
}

