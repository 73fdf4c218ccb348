// Gradient utilities: global-norm and value clipping, finiteness checks, and gradient
// accumulation over micro-batches. All work on device with tensor ops: clipping never reads
// gradients back to the host (only the `...Async` checks do, visibly).
import {
  ValueError, cat, checkFunction, checkNumber, checkOptions, checkRange, checkSize, checkTensor, fmtValue, full, noGrad, notTraceable, tidy, zeros, type Tensor,
} from '@webgrad/core';
import { Optimizer, OptimizerError } from './optimizer.js';

/** Options of `clipGradNorm` (torch.nn.utils.clip_grad_norm_'s `norm_type`). */
export interface ClipGradNormOptions {
  /** The p of the p-norm (default 2); `Infinity` for the max-abs norm. */
  normType?: number;
}

/** The live gradients of `params` (an iterable of tensors, checked for `op`). */
function withGrads(op: string, params: Iterable<Tensor>): Tensor[] {
  if (typeof params !== 'object' || params === null || typeof params[Symbol.iterator] !== 'function') {
    throw new ValueError(`${op}: params must be an iterable of tensors (e.g. model.parameters()), got ${fmtValue(params)}`);
  }
  const out: Tensor[] = [];
  for (const p of params) {
    checkTensor(op, 'params', p);
    if (p.grad && !p.grad.isDisposed) out.push(p.grad);
  }
  return out;
}

/**
 * Scale all gradients in place so their global p-norm is at most `maxNorm` (torch's
 * clip_grad_norm_: coefficient min(1, maxNorm / (norm + 1e-6))). Returns the total norm before
 * clipping as a 0-d tensor (the caller owns it). Non-finite norms propagate into the gradients,
 * as in torch; check with `gradsAreFinite` first when that matters.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, opts: ClipGradNormOptions = {}): Tensor {
  checkOptions('clipGradNorm', opts, ['normType']);
  const normType = opts.normType ?? 2;
  if (!(checkNumber('clipGradNorm', 'maxNorm', maxNorm) >= 0)) throw new OptimizerError(`clipGradNorm: maxNorm must be >= 0 (or Infinity), got ${maxNorm}`);
  if (!(checkNumber('clipGradNorm', 'normType', normType) > 0)) throw new OptimizerError(`clipGradNorm: normType must be > 0 (or Infinity), got ${normType}`);
  const grads = withGrads('clipGradNorm', params);
  if (grads.length === 0) return zeros([]);
  return noGrad(() => {
    const [total, coef] = tidy(() => {
      let total: Tensor;
      if (normType === Infinity) {
        total = grads.map((g) => g.abs().max()).reduce((a, b) => a.maximum(b.to(a.dtype)));
      } else {
        // One reduction over all gradients joined (a copy each) instead of one per gradient plus a
        // sum of the partial results: about a third of the kernel launches (it matters on a GPU).
        const sameDevice = grads.every((g) => g.device === grads[0]!.device);
        const parts = sameDevice ? [cat(grads.map((g) => g.reshape([-1])))] : grads;
        const sums = parts.map((g) => (normType === 2 ? g.mul(g) : g.abs().pow(normType)).sum());
        const s = sums.reduce((a, b) => a.add(b.to(a.device)));
        total = normType === 2 ? s.sqrt() : normType === 1 ? s : s.pow(1 / normType);
      }
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
      return [total, coef] as const;
    });
    for (const g of grads) {
      const c = g.dtype === coef.dtype ? coef : coef.to(g.dtype);
      g.mul_(c);
      if (c !== coef) c.dispose();
    }
    coef.dispose();
    return total;
  });
}

/** Clamp every gradient elementwise into [-clipValue, clipValue], in place. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  checkRange('clipGradValue', 'clipValue', clipValue, 0, Infinity);
  const grads = withGrads('clipGradValue', params);
  noGrad(() => {
    for (const g of grads) tidy(() => { g.copy_(g.clamp(-clipValue, clipValue)); });
  });
}

/** A 0-d bool tensor: true when every gradient is free of NaN and ±Inf (no readback). */
export function gradsAreFinite(params: Iterable<Tensor>): Tensor {
  return allFinite(withGrads('gradsAreFinite', params));
}

function allFinite(grads: Tensor[]): Tensor {
  return noGrad(() => tidy(() => {
    if (grads.length === 0) return full([], 1, { dtype: 'bool' });
    // x·0 is 0 for finite x and NaN for NaN/±Inf.
    const bad = grads.map((g) => g.mul(0).ne(0).sum()).reduce((a, b) => a.add(b));
    return bad.eq(0);
  }));
}

/** Whether every gradient is finite, read back to the host. */
export async function gradsAreFiniteAsync(params: Iterable<Tensor>): Promise<boolean> {
  const t = allFinite(withGrads('gradsAreFiniteAsync', params));
  try { return (await t.item()) !== 0; } finally { t.dispose(); }
}

/** Hooks of GradientAccumulator around each optimizer step. */
export interface GradientAccumulatorOptions {
  /** Called with the optimizer just before each step, e.g. to clip gradients. */
  beforeStep?: (optimizer: Optimizer) => void;
  /** Called right after each step, e.g. to advance an LR schedule. */
  afterStep?: (optimizer: Optimizer) => void;
}

/**
 * Accumulate gradients over `steps` micro-batches and take one optimizer step per `steps`.
 * `backward(loss)` backpropagates `loss / steps` (so with mean-reduced losses over equal
 * micro-batches the summed gradient equals that of the full batch's mean loss); after the last
 * micro-batch of a cycle it steps, zeroes the gradients and returns true.
 */
export class GradientAccumulator {
  #micro = 0;

  /**
   * @param optimizer The optimizer stepped once per `steps` micro-batches.
   * @param steps Micro-batches per optimizer step.
   */
  constructor(readonly optimizer: Optimizer, readonly steps: number, private readonly opts: GradientAccumulatorOptions = {}) {
    const op = 'GradientAccumulator';
    if (!(optimizer instanceof Optimizer)) throw new OptimizerError(`${op}: optimizer must be an Optimizer, got ${fmtValue(optimizer)}`);
    checkSize(op, 'steps', steps, 1);
    checkOptions(op, opts, ['beforeStep', 'afterStep']);
    for (const k of ['beforeStep', 'afterStep'] as const) if (opts[k] !== undefined) checkFunction(op, k, opts[k]);
  }

  /** Micro-batches accumulated since the last step. */
  get pending(): number { return this.#micro; }

  /** The factor each micro-batch loss is scaled by (1/steps). */
  get lossScale(): number { return 1 / this.steps; }

  /** Backpropagate loss/steps; steps the optimizer when a cycle completes. Returns whether it stepped. */
  backward(loss: Tensor): boolean {
    checkTensor('GradientAccumulator.backward', 'loss', loss);
    if (this.steps > 1) notTraceable(`GradientAccumulator.backward steps the optimizer on every ${this.steps}th call, which a replay cannot follow; compile the micro-batch step and step the optimizer outside it`);
    tidy(() => { (this.steps === 1 ? loss : loss.mul(this.lossScale)).backward(); });
    this.#micro += 1;
    if (this.#micro < this.steps) return false;
    this.flush();
    return true;
  }

  /** Step now with whatever has been accumulated (e.g. at the end of an epoch). No-op when nothing is pending. */
  flush(): boolean {
    if (this.#micro === 0) return false;
    this.opts.beforeStep?.(this.optimizer);
    this.optimizer.step();
    this.opts.afterStep?.(this.optimizer);
    this.optimizer.zeroGrad();
    this.#micro = 0;
    return true;
  }

  /** The number of micro-batches accumulated since the last step, for checkpoints. */
  stateDict(): {
    /** Micro-batches accumulated since the last step. */
    pending: number;
  } { return { pending: this.#micro }; }
  /** Restores a snapshot made by `stateDict()`. */
  loadStateDict(s: { pending: number }): void { this.#micro = s.pending; }
}
