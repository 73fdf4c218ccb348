// Loss functions, functional and with PyTorch's names and semantics (torch.nn.functional):
// crossEntropy (core's fused op), nllLoss, mseLoss, l1Loss, binaryCrossEntropy, bceWithLogits,
// klDiv, cosineSimilarity, plus sequenceLogProbs, the per-sequence log-likelihood that
// language-model fine-tuning and RL objectives are built on.
import {
  Tensor, DTypeError, ShapeError, checkBool, checkEnum, checkInt, checkOptions, checkRange, checkTensor, fmtShape, gather, logsumexp, maximum,
  tidy, where, shapesEqual, autocastInputs,
} from '@webgrad/core';
import { checkFloatInput } from './args.js';

export { crossEntropy, type CrossEntropyOptions } from '@webgrad/core';

/** How a loss reduces its per-element values: 'mean' (the default), 'sum', or 'none' (the unreduced tensor), as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** A checked options bag of a loss: known keys, a known reduction (default 'mean'), tensors where tensors go. */
function lossOptions<O extends { reduction?: string; weight?: Tensor | null; posWeight?: Tensor | null }>(
  op: string, opts: O, keys: readonly string[], reductions: readonly string[] = REDUCTIONS,
): O {
  checkOptions(op, opts, ['reduction', ...keys]);
  if (opts.reduction !== undefined) checkEnum(op, 'reduction', opts.reduction, reductions);
  for (const k of ['weight', 'posWeight'] as const) if (opts[k] != null) checkTensor(op, k, opts[k]);
  return opts;
}

function reduce(x: Tensor, reduction: Reduction): Tensor {
  return reduction === 'mean' ? x.mean() : reduction === 'sum' ? x.sum() : x;
}

/** A floating-point input and a target of its shape. */
function sameShape(op: string, a: Tensor, b: Tensor, an = 'input', bn = 'target'): void {
  checkFloatInput(op, a, an);
  checkTensor(op, bn, b);
  if (!shapesEqual(a.shape, b.shape)) throw new ShapeError(`${op}: ${an} ${fmtShape(a.shape)} and ${bn} ${fmtShape(b.shape)} must have the same shape`);
}

/** Options of `nllLoss` (PyTorch's `weight`, `ignore_index`, `reduction`). */
export interface NllLossOptions {
  /** Per-class weight [C] (default: all 1). */
  weight?: Tensor | null;
  /** Target value that contributes nothing, neither to the loss nor to the 'mean' divisor (default −100). */
  ignoreIndex?: number;
  /** Default 'mean'. */
  reduction?: Reduction;
}

/** Negative log-likelihood of int32 targets [N] under log-probabilities [N, C] (or [C] with a
 *  scalar target). 'mean' divides by the summed weights of non-ignored targets, as PyTorch. */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  lossOptions('nllLoss', opts, ['weight', 'ignoreIndex']);
  checkFloatInput('nllLoss', logProbs, 'logProbs');
  if (checkTensor('nllLoss', 'target', target).dtype !== 'int32') throw new DTypeError(`nllLoss: target must hold int32 class indices, got ${target.dtype}`);
  const ignoreIndex = checkInt('nllLoss', 'ignoreIndex', opts.ignoreIndex === undefined ? -100 : opts.ignoreIndex);
  const reduction = opts.reduction ?? 'mean';
  if (logProbs.ndim === 1 && target.ndim === 0) {
    return tidy(() => nllLoss(logProbs.unsqueeze(0), target.unsqueeze(0), opts).reshape([]));
  }
  if (logProbs.ndim !== 2 || target.ndim !== 1 || target.shape[0] !== logProbs.shape[0]) {
    throw new ShapeError(`nllLoss: expected input [N, C] and target [N], got ${fmtShape(logProbs.shape)} and ${fmtShape(target.shape)}`);
  }
  return tidy(() => {
    [logProbs] = autocastInputs('nllLoss', logProbs);
    const valid = target.ne(ignoreIndex); // (N)
    const safe = where(valid, target, 0); // (N)
    const picked = gather(logProbs, 1, safe.unsqueeze(1)).squeeze(1); // (N)
    let w = valid.to(logProbs.dtype); // (N)
    if (opts.weight) w = w.mul(opts.weight.indexSelect(0, safe));
    const losses = picked.neg().mul(w);
    if (reduction === 'mean') return losses.sum().div(w.sum());
    return reduce(losses, reduction);
  });
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  lossOptions('mseLoss', opts, []);
  sameShape('mseLoss', input, target);
  return tidy(() => {
    const [x, t] = autocastInputs('mseLoss', input, target);
    return reduce(x.sub(t).square(), opts.reduction ?? 'mean');
  });
}

/** Mean absolute error. */
export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  lossOptions('l1Loss', opts, []);
  sameShape('l1Loss', input, target);
  return tidy(() => {
    const [x, t] = autocastInputs('l1Loss', input, target);
    return reduce(x.sub(t).abs(), opts.reduction ?? 'mean');
  });
}

/** Binary cross-entropy of probabilities p against targets y in [0, 1]:
 *  −w·(y·log p + (1−y)·log(1−p)), each log clamped at −100 as PyTorch does. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  lossOptions('binaryCrossEntropy', opts, ['weight']);
  sameShape('binaryCrossEntropy', input, target);
  return tidy(() => {
    [input, target] = autocastInputs('binaryCrossEntropy', input, target);
    const logP = input.log().clamp(-100, null);
    const log1mP = input.neg().add(1).log().clamp(-100, null);
    let l = target.mul(logP).add(target.neg().add(1).mul(log1mP)).neg();
    if (opts.weight) l = l.mul(opts.weight);
    return reduce(l, opts.reduction ?? 'mean');
  });
}

/** Options of `bceWithLogits` (PyTorch's `weight`, `pos_weight`, `reduction`). */
export interface BceWithLogitsOptions {
  /** Weight of each element, broadcast to the input's shape (default: all 1). */
  weight?: Tensor | null;
  /** Weight of positive examples, broadcast over the last dim (per class). */
  posWeight?: Tensor | null;
  /** Default 'mean'. */
  reduction?: Reduction;
}

/** Binary cross-entropy on logits, computed stably:
 *  max(x, 0) − x·y + log(1 + exp(−|x|)); with posWeight p and l = 1 + (p − 1)·y:
 *  (1 − y)·x + l·(log(1 + exp(−|x|)) + max(−x, 0)). */
export function bceWithLogits(input: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  lossOptions('bceWithLogits', opts, ['weight', 'posWeight']);
  sameShape('bceWithLogits', input, target);
  return tidy(() => {
    [input, target] = autocastInputs('bceWithLogits', input, target);
    const softplusNegAbs = input.abs().neg().exp().log1p(); // log(1 + exp(−|x|))
    let l: Tensor;
    if (opts.posWeight) {
      const lw = opts.posWeight.sub(1).mul(target).add(1);
      l = target.neg().add(1).mul(input).add(lw.mul(softplusNegAbs.add(maximum(input.neg(), 0))));
    } else {
      l = maximum(input, 0).sub(input.mul(target)).add(softplusNegAbs);
    }
    if (opts.weight) l = l.mul(opts.weight);
    return reduce(l, opts.reduction ?? 'mean');
  });
}

/** PyTorch's F.kl_div: `input` holds log-probabilities, `target` probabilities (or
 *  log-probabilities with `logTarget`). Pointwise: t·(log t − input), 0 where t = 0.
 *  'batchmean' divides the sum by the batch size (the mathematically correct KL); 'mean' by the
 *  number of elements (PyTorch's default). */
export function klDiv(input: Tensor, target: Tensor, opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  lossOptions('klDiv', opts, ['logTarget'], [...REDUCTIONS, 'batchmean']);
  if (opts.logTarget !== undefined) checkBool('klDiv', 'logTarget', opts.logTarget);
  sameShape('klDiv', input, target);
  const reduction = opts.reduction ?? 'mean';
  return tidy(() => {
    [input, target] = autocastInputs('klDiv', input, target);
    let l: Tensor;
    if (opts.logTarget) {
      l = target.exp().mul(target.sub(input));
    } else {
      const pos = target.gt(0);
      const tLogT = where(pos, target.mul(where(pos, target, 1).log()), 0);
      l = tLogT.sub(target.mul(input));
    }
    if (reduction === 'batchmean') return l.sum().div(input.ndim > 0 ? input.shape[0]! : 1);
    return reduce(l, reduction);
  });
}

/** Cosine similarity along `dim`: x1·x2 / (max(‖x1‖, eps)·max(‖x2‖, eps)). */
export function cosineSimilarity(x1: Tensor, x2: Tensor, opts: { dim?: number; eps?: number } = {}): Tensor {
  checkOptions('cosineSimilarity', opts, ['dim', 'eps']);
  checkFloatInput('cosineSimilarity', x1, 'x1');
  checkFloatInput('cosineSimilarity', x2, 'x2');
  const dim = checkInt('cosineSimilarity', 'dim', opts.dim === undefined ? 1 : opts.dim);
  const eps = checkRange('cosineSimilarity', 'eps', opts.eps === undefined ? 1e-8 : opts.eps, 0, Infinity);
  return tidy(() => {
    const n1 = x1.square().sum(dim, { keepdim: true }).sqrt().clamp(eps, null);
    const n2 = x2.square().sum(dim, { keepdim: true }).sqrt().clamp(eps, null);
    return x1.div(n1).mul(x2.div(n2)).sum(dim);
  });
}

/** Options of `sequenceLogProbs`. */
export interface SequenceLogProbsOptions {
  /** 'sum' (default): Σₜ mask·log p(labelₜ) per sequence → [B]; 'mean': that sum over the number of
   *  unmasked positions → [B]; 'none': the masked per-token log-probs → [B, T]. */
  reduction?: 'sum' | 'mean' | 'none';
}

/**
 * Per-sequence log-likelihood of `labels` under `logits`.
 * logits [B, T, V] (float), labels [B, T] int32, mask [B, T] (bool or float; null: every position).
 * A position counts when the mask is nonzero and its label is ≥ 0: labels of masked-out positions
 * may be anything negative (e.g. −100) and are never used as indices. Labels are not shifted: align
 * logits[:, t] with the token it predicts before calling.
 */
export function sequenceLogProbs(logits: Tensor, labels: Tensor, mask: Tensor | null = null, opts: SequenceLogProbsOptions = {}): Tensor {
  lossOptions('sequenceLogProbs', opts, [], ['sum', 'mean', 'none']);
  checkFloatInput('sequenceLogProbs', logits, 'logits');
  if (checkTensor('sequenceLogProbs', 'labels', labels).dtype !== 'int32') throw new DTypeError(`sequenceLogProbs: labels must hold int32 token ids, got ${labels.dtype}`);
  if (mask !== null) checkTensor('sequenceLogProbs', 'mask', mask);
  if (logits.ndim !== 3 || labels.ndim !== 2 || logits.shape[0] !== labels.shape[0] || logits.shape[1] !== labels.shape[1]) {
    throw new ShapeError(`sequenceLogProbs: expected logits [B, T, V] and labels [B, T], got ${fmtShape(logits.shape)} and ${fmtShape(labels.shape)}`);
  }
  if (mask && !shapesEqual(mask.shape, labels.shape)) {
    throw new ShapeError(`sequenceLogProbs: mask ${fmtShape(mask.shape)} must match labels ${fmtShape(labels.shape)}`);
  }
  const reduction = opts.reduction ?? 'sum';
  return tidy(() => {
    let valid = labels.ge(0); // (B, T) bool
    if (mask) valid = valid.logicalAnd(mask.ne(0));
    const safe = where(valid, labels, 0); // (B, T), every index in range
    const picked = gather(logits, 2, safe.unsqueeze(2)).squeeze(2); // (B, T)
    const lse = logsumexp(logits, -1); // (B, T)
    const w = valid.to(logits.dtype); // (B, T)
    const tokenLogp = picked.sub(lse).mul(w); // (B, T)
    switch (reduction) {
      case 'none': return tokenLogp;
      case 'sum': return tokenLogp.sum(1); // (B)
      default: return tokenLogp.sum(1).div(w.sum(1).clamp(1, null)); // 'mean', (B)
    }
  });
}
