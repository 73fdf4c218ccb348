// Cross-entropy over class logits, fused with log-softmax: one kernel computes each row's loss and
// log-sum-exp, the backward kernel writes softmax − target directly. PyTorch semantics for
// ignoreIndex, labelSmoothing, class weights and reduction.
import { requireFloat } from '../dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { broadcastView, empty } from './alloc.js';
import { cast, contiguous } from './cast.js';
import { apply, defineOp } from './define.js';
import { permute, reshape, select } from './views.js';
import { checkIndex, gather, indexSelect } from './indexing.js';
import { sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { noGrad } from '../autograd/grad_mode.js';
import { tidy } from '../memory.js';
import { backwardThroughDecomposition, recordingBackward } from '../autograd/decomposition_backward.js';
import { unsqueeze } from './views.js';
import { checkEnum, checkInt, checkOptions, checkRange, checkRank, checkTensor } from '../validate.js';
import { div, mul, ne, mulScalar, neg } from './elementwise.js';
import { where } from './where.js';
import { autocastInput } from '../autocast.js';
import { isTracing } from '../compile/trace.js';

/** Options of `crossEntropy` (torch.nn.functional.cross_entropy's). */
export interface CrossEntropyOptions {
  /** Target value whose rows contribute nothing (default −100, as in PyTorch). */
  ignoreIndex?: number;
  /** ε in [0, 1): mix the one-hot target with the uniform distribution. */
  labelSmoothing?: number;
  /** 'mean' (default): the summed loss divided by the number of rows not ignored, or with `weight` by the sum of their
   *  targets' weights; 'sum'; or 'none': one loss per row, 0 where ignored. */
  reduction?: 'mean' | 'sum' | 'none';
  /** Per-class weights [C]. */
  weight?: Tensor;
}

interface CEAttrs { ignoreIndex: number; labelSmoothing: number }
type CEInputs = [logits: Tensor, targets: Tensor, weight: Tensor | null];
interface CESaved { logits: Tensor; targets: Tensor; weight: Tensor; lse: Tensor }

/** Whether a backend has both fused kernels (the backward reads the forward's log-sum-exp). */
const hasFused = (k: Tensor['backend']['kernels']) => k.crossEntropy !== undefined && k.crossEntropyBackward !== undefined;

/** crossEntropy's options, validated and with PyTorch's defaults. */
function ceOptions(op: string, logits: Tensor, targets: Tensor, opts: CrossEntropyOptions | undefined) {
  checkTensor(op, 'logits', logits);
  checkTensor(op, 'targets', targets);
  const o = checkOptions(op, opts, ['ignoreIndex', 'labelSmoothing', 'reduction', 'weight']);
  return {
    ignoreIndex: o.ignoreIndex === undefined ? -100 : checkInt(op, 'ignoreIndex', o.ignoreIndex),
    labelSmoothing: o.labelSmoothing === undefined ? 0 : checkRange(op, 'labelSmoothing', o.labelSmoothing, 0, 1, { hi: true }),
    reduction: o.reduction === undefined ? 'mean' : checkEnum(op, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const),
    weight: o.weight == null ? undefined : checkTensor(op, 'weight', o.weight),
  };
}

/** Per-row losses of logits [N, C] for int32 targets [N], with class weights [C] or none. */
export const CROSS_ENTROPY = defineOp<CEInputs, CEAttrs, CESaved>({
  name: 'crossEntropy',
  forward: ([logits, targets, weight], a, save) => {
    const kernels = logits.backend.kernels;
    save('logits', logits); save('targets', targets); if (weight) save('weight', weight);
    if (!hasFused(kernels) || !kernels.crossEntropy) return rowLosses(logits, targets, weight, a);
    const n = logits.shape[0];
    const loss = empty([n], logits.dtype, logits.backend);
    const lse = empty([n], logits.dtype, logits.backend);
    kernels.crossEntropy(logits.kernelView(), targets.kernelView(), weight ? weight.kernelView() : null, a, loss.kernelView(), lse.kernelView());
    save('lse', lse);
    lse.dispose();
    return loss;
  },
  // The fused kernel writes softmax − target; a recorded backward (or a backend without the fused
  // kernels) differentiates the decomposition.
  backward: (g, { saved, attrs: a, needs, inputs: [, , w] }) => {
    const { logits, targets } = saved;
    const weight = w ? saved.weight : null;
    const kernels = logits.backend.kernels;
    if (recordingBackward() || !hasFused(kernels) || !kernels.crossEntropyBackward) {
      const [dx] = backwardThroughDecomposition(g, [logits, targets, weight], [needs[0], false, false], (l, t, wt) => rowLosses(l, t, wt, a));
      return [dx, null, null];
    }
    // dloss [N] is read with its strides: a mean's gradient, one value broadcast to every row, needs no copy.
    const dx = empty(logits.shape, logits.dtype, logits.backend);
    kernels.crossEntropyBackward(logits.kernelView(), targets.kernelView(), weight?.kernelView() ?? null, saved.lse.kernelView(), g.kernelView(), a, dx.kernelView());
    return [dx, null, null];
  },
  gradcheck: [
    { inputs: [{ shape: [4, 5] }, { shape: [4], int: { high: 5 } }], call: (x, t) => crossEntropy(x, t), label: 'plain' },
    { inputs: [{ shape: [4, 5] }, { shape: [4], int: { high: 5 } }, { shape: [5], domain: 'positive', constant: true }], call: (x, t, w) => crossEntropy(x, t, { weight: w, labelSmoothing: 0.1, reduction: 'sum' }), label: 'weighted, smoothed, summed' },
  ],
});

/**
 * The mean of the per-row losses over the rows' weights, Σ_n loss_n / Σ_n w[t_n] (ignored rows count
 * 0), for a backend with both fused kernels: the forward is the fused kernel (which also writes each
 * row's weight), the two sums and the division — the kernels the ops would run, so the same bits —
 * and the backward is one backward kernel that divides the upstream gradient by the saved
 * denominator where it reads it, instead of a division kernel before it.
 */
const CROSS_ENTROPY_MEAN = defineOp<CEInputs, CEAttrs, CESaved & { denom: Tensor }>({
  name: 'crossEntropyMean',
  forward: ([logits, targets, weight], a, save) => {
    const kernels = logits.backend.kernels;
    if (!kernels.crossEntropy) throw new Error('crossEntropyMean: the backend has no fused crossEntropy kernel');
    save('logits', logits); save('targets', targets); if (weight) save('weight', weight);
    const n = logits.shape[0];
    // The losses and the row weights are the two rows of one tensor, summed by one reduction.
    const pair = empty([2, n], logits.dtype, logits.backend), lse = empty([n], logits.dtype, logits.backend);
    const [loss, rowWeight] = [select(pair, 0, 0), select(pair, 0, 1)];
    kernels.crossEntropy(logits.kernelView(), targets.kernelView(), weight ? weight.kernelView() : null, a, loss.kernelView(), lse.kernelView(), rowWeight.kernelView());
    const sums = sum(pair, 1);
    const [total, denom] = [select(sums, 0, 0), select(sums, 0, 1)];
    const mean = div(total, denom);
    save('lse', lse); save('denom', denom);
    for (const t of [pair, loss, rowWeight, lse, sums, total, denom]) t.dispose();
    return mean;
  },
  backward: (g, { saved, attrs: a, needs, inputs: [, , w] }) => {
    const { logits, targets, denom } = saved;
    const weight = w ? saved.weight : null;
    const kernels = logits.backend.kernels;
    if (recordingBackward() || !kernels.crossEntropyBackward) {
      const [dx] = backwardThroughDecomposition(g, [logits, targets, weight], [needs[0], false, false], (l, t, wt) => div(sum(rowLosses(l, t, wt, a)), denom));
      return [dx, null, null];
    }
    const dx = empty(logits.shape, logits.dtype, logits.backend);
    kernels.crossEntropyBackward(logits.kernelView(), targets.kernelView(), weight?.kernelView() ?? null, saved.lse.kernelView(),
      broadcastView(g, [logits.shape[0]]), a, dx.kernelView(), denom.kernelView());
    return [dx, null, null];
  },
  gradcheck: [
    { inputs: [{ shape: [4, 5] }, { shape: [4], int: { high: 5 } }, { shape: [5], domain: 'positive', constant: true }], call: (x, t, w) => crossEntropy(x, t, { weight: w, labelSmoothing: 0.1 }), label: 'weighted, smoothed' },
  ],
});

/**
 * logits (N, C) or (N, C, d1, ...) and int32 targets (N) or (N, d1, ...), like torch's F.cross_entropy.
 * Mean reduction divides by the total weight of the non-ignored targets.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex, labelSmoothing, reduction, weight } = ceOptions('crossEntropy', logits, targets, opts);
  if (targets.dtype !== 'int32') throw new DTypeError(`crossEntropy: targets must be int32 class indices, got ${targets.dtype} (shape ${fmtShape(targets.shape)})`);
  requireFloat('crossEntropy', logits, 'logits');
  if (logits.ndim < 1) throw new ShapeError(`crossEntropy: logits must have a class dim, got shape ${fmtShape(logits.shape)}`);
  const C = logits.ndim === 1 ? logits.shape[0] : logits.shape[1];
  const expected = logits.ndim === 1 ? [] : [logits.shape[0], ...logits.shape.slice(2)];
  if (targets.ndim !== expected.length || targets.shape.some((s, i) => s !== expected[i])) {
    throw new ShapeError(`crossEntropy: logits ${fmtShape(logits.shape)} expect targets of shape ${fmtShape(expected)}, got ${fmtShape(targets.shape)}`);
  }
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== C)) {
    throw new ShapeError(`crossEntropy: weight must have shape [${C}], got ${fmtShape(weight.shape)}`);
  }
  const ignored = checkIndex('crossEntropy', targets, C, 'the class dim', ignoreIndex);
  return tidy(() => {
    logits = autocastInput('crossEntropy', logits);
    // Move the class dim last and flatten to rows: (N·d1·…, C).
    const x = logits.ndim <= 2 ? logits : permute(logits, [0, ...logits.shape.slice(2).map((_, i) => i + 2), 1]);
    const rows = contiguous(reshape(cast(x, logits.dtype === 'float64' ? 'float64' : 'float32'), [targets.size, C])); // one row per target, even when C = 0
    const t = contiguous(reshape(targets, [-1]));
    const w = weight ? contiguous(cast(weight, rows.dtype)) : undefined;
    // Unweighted, with the targets just read on the host (and not traced, where a replay's targets
    // may differ): the count of valid targets is known, and dividing by it as a number equals
    // dividing by the same count as a tensor, in value and in gradient (see binaryScalar).
    const hostCount = !w && ignored !== undefined && !isTracing();
    // Otherwise, with the fused kernels, one op: its denominator is the sum of the row weights the
    // kernel writes beside the losses (the values the decomposition below sums: the same sum, bit for bit).
    if (reduction === 'mean' && !hostCount && hasFused(rows.backend.kernels)) return apply(CROSS_ENTROPY_MEAN, [rows, t, w ?? null], { ignoreIndex, labelSmoothing });
    const perRow = apply(CROSS_ENTROPY, [rows, t, w ?? null], { ignoreIndex, labelSmoothing });
    if (reduction === 'none') return reshape(perRow, targets.shape);
    const total = sum(perRow);
    if (reduction === 'sum') return total;
    if (hostCount && ignored !== undefined) return div(total, targets.size - ignored);
    const denom = noGrad(() => {
      const valid = ne(t, ignoreIndex);
      if (!w) return sum(cast(valid, rows.dtype));
      const safe = where(valid, t, 0);
      return sum(where(valid, indexSelect(w, 0, safe), 0));
    });
    return div(total, denom);
  });
}

/** The per-row losses from primitives: the fused kernel's reference and its stand-in. */
function rowLosses(logits: Tensor, targets: Tensor, weight: Tensor | null, a: CEAttrs): Tensor {
  return crossEntropyDecomposed(logits, targets, { weight: weight ?? undefined, ignoreIndex: a.ignoreIndex, labelSmoothing: a.labelSmoothing, reduction: 'none' });
}

/** Cross-entropy from primitives (logSoftmax, gather, weighted mean) — the fused op's reference. */
export function crossEntropyDecomposed(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex, labelSmoothing: eps, reduction: red, weight } = ceOptions('crossEntropyDecomposed', logits, targets, opts);
  checkRank('crossEntropyDecomposed', 'logits', logits, 2);
  return tidy(() => {
    const C = logits.shape[1];
    const logp = logSoftmax(logits, 1);
    const valid = ne(targets, ignoreIndex);
    const safe = where(valid, targets, 0);
    const w = weight ?? null;
    const nll = neg(reshape(gather(logp, 1, unsqueeze(safe, 1)), [-1]));
    const wt = w ? indexSelect(w, 0, safe) : null;
    const validF = cast(valid, logp.dtype);
    const smooth = w ? neg(sum(mul(logp, w), 1)) : neg(sum(logp, 1));
    let rowLoss = mulScalar(wt ? mul(nll, wt) : nll, 1 - eps);
    if (eps > 0) rowLoss = rowLoss.add(mulScalar(smooth, eps / C));
    rowLoss = mul(rowLoss, validF);
    if (red === 'none') return rowLoss;
    if (red === 'sum') return sum(rowLoss);
    return div(sum(rowLoss), sum(wt ? mul(wt, validF) : validF));
  });
}

