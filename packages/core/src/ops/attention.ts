// Scaled dot-product attention through the backend's attention kernels, saving the output and the
// per-row log-sum-exp; the backward recomputes the probabilities from them. (Vaswani et al. 2017;
// Dao et al. 2022.) Where the backend says so for the size (`attentionSavesProbs`: WebGPU up to
// 2^22 scores, 16 MiB), the forward also saves the probabilities P [B, H, Tq, Tk] as float32 — held
// until the backward, B·H·Tq·Tk·4 bytes per call — and the backward reads them instead.
import { isFloat, requireFloat } from '../dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { View } from '@webgrad/kernels';
import type { Tensor } from '../tensor.js';
import { broadcastView, empty } from './alloc.js';
import { cast, contiguous } from './cast.js';
import { apply, defineOp } from './define.js';
import { matmul } from './matmul.js';
import { softmax } from './softmax.js';
import { narrow, permute, reshape, transpose } from './views.js';
import { backwardThroughDecomposition, recordingBackward } from '../autograd/decomposition_backward.js';
import { full } from './creation.js';
import { triu } from './shape_ops.js';
import { tidy } from '../memory.js';
import { checkBool, checkFinite, checkOptions, checkRank, checkSize, checkTensor } from '../validate.js';
import { add, mulScalar } from './elementwise.js';
import { where } from './where.js';
import { autocastInput, autocastInputs } from '../autocast.js';

/** Options of `scaledDotProductAttention` (torch.nn.functional.scaled_dot_product_attention's). */
export interface AttentionOptions {
  /** Additive float mask broadcastable to (B, H, Tq, Tk), or a bool mask where true = may attend (PyTorch's convention). */
  mask?: Tensor | null;
  /** Query i may see keys j ≤ i + (Tk − Tq). */
  isCausal?: boolean;
  /** Defaults to 1/√D. */
  scale?: number;
}

interface AttnAttrs { scale: number; causal: boolean }
interface AttnSaved { q: Tensor; k: Tensor; v: Tensor; mask: Tensor; out: Tensor; lse: Tensor; probs: Tensor }

/** Whether a backend has both fused kernels (the backward reads the forward's output and log-sum-exp). */
const hasFused = (k: Tensor['backend']['kernels']) => k.attention !== undefined && k.attentionBackward !== undefined;

/**
 * The float32 [B, H, Tq, Tk] tensor the forward fills with the probabilities for the backward, where
 * a gradient will be wanted and the backend keeps them at this size; else null.
 */
function probsToSave(like: Tensor, wanted: boolean, B: number, H: number, Tq: number, Tk: number): Tensor | null {
  return wanted && like.backend.kernels.attentionSavesProbs?.(B, H, Tq, Tk) ? empty([B, H, Tq, Tk], 'float32', like.backend) : null;
}

/** The probabilities the forward saved, if it did (reading a name it did not save is an error, so ask first). */
const savedProbs = (saved: Partial<AttnSaved>) => (Object.hasOwn(saved, 'probs') ? saved.probs?.kernelView() ?? null : null);

/** Attention options, validated: `scale` undefined means 1/√D. */
function attentionOptions(op: string, opts: AttentionOptions | undefined): { mask: Tensor | null; isCausal: boolean; scale: number | undefined } {
  const o = checkOptions(op, opts, ['mask', 'isCausal', 'scale']);
  return {
    mask: o.mask == null ? null : checkTensor(op, 'mask', o.mask),
    isCausal: o.isCausal === undefined ? false : checkBool(op, 'isCausal', o.isCausal),
    scale: o.scale === undefined ? undefined : checkFinite(op, 'scale', o.scale),
  };
}

/** q [B, H, Tq, D], k and v [B, H, Tk, D] contiguous, an additive mask broadcastable to [B, H, Tq, Tk] or none. */
export const ATTENTION = defineOp<[q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null], AttnAttrs, AttnSaved>({
  name: 'scaledDotProductAttention',
  forward: ([q, k, v, mask], a, save, needs) => {
    const kernels = q.backend.kernels;
    save('q', q); save('k', k); save('v', v); if (mask) save('mask', mask);
    if (!hasFused(kernels) || !kernels.attention) return attentionDecomposed(q, k, v, { mask, isCausal: a.causal, scale: a.scale });
    const [B, H, Tq] = q.shape;
    const Tk = k.shape[2];
    const out = empty([B, H, Tq, v.shape[3]], q.dtype, q.backend);
    const lse = empty([B, H, Tq], q.dtype, q.backend);
    const probs = probsToSave(q, needs[0] || needs[1] || needs[2], B, H, Tq, Tk);
    const mv = mask ? broadcastView(mask, [B, H, Tq, Tk]) : null;
    kernels.attention(q.kernelView(), k.kernelView(), v.kernelView(), mv, a, out.kernelView(), lse.kernelView(), probs?.kernelView() ?? null);
    save('out', out); save('lse', lse);
    lse.dispose();
    if (probs) { save('probs', probs); probs.dispose(); }
    return out;
  },
  // The fused backward kernel; a recorded backward (or a backend without the fused kernels)
  // differentiates the decomposition.
  backward: (g, { saved, attrs: a, needs, inputs: [, , , m] }) => {
    const { q, k, v } = saved;
    const mask = m ? saved.mask : null;
    const kernels = q.backend.kernels;
    if (recordingBackward() || !hasFused(kernels) || !kernels.attentionBackward) {
      const [dq, dk, dv] = backwardThroughDecomposition(g, [q, k, v, mask], [needs[0], needs[1], needs[2], false],
        (q, k, v, m) => attentionDecomposed(q, k, v, { mask: m, isCausal: a.causal, scale: a.scale }));
      return [dq, dk, dv, null];
    }
    const dout = contiguous(g);
    const dq = empty(q.shape, q.dtype, q.backend);
    const dk = empty(k.shape, k.dtype, k.backend);
    const dv = empty(v.shape, v.dtype, v.backend);
    const [B, H, Tq] = q.shape;
    const mv = mask ? broadcastView(mask, [B, H, Tq, k.shape[2]]) : null;
    kernels.attentionBackward(q.kernelView(), k.kernelView(), v.kernelView(), mv, a,
      saved.out.kernelView(), saved.lse.kernelView(), dout.kernelView(), dq.kernelView(), dk.kernelView(), dv.kernelView(), savedProbs(saved));
    if (dout !== g) dout.dispose();
    return [dq, dk, dv, null];
  },
  gradcheck: [
    { inputs: [{ shape: [1, 2, 3, 4] }, { shape: [1, 2, 5, 4] }, { shape: [1, 2, 5, 4] }], call: (q, k, v) => scaledDotProductAttention(q, k, v), label: 'cross' },
    { inputs: [{ shape: [2, 1, 4, 4] }, { shape: [2, 1, 4, 4] }, { shape: [2, 1, 4, 4] }], call: (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true }), label: 'causal' },
  ],
});

/** The additive form of an attention mask: bool (true = may attend) → 0 / -∞, else cast to `dtype`. */
function additiveMask(mask: Tensor | null | undefined, dtype: Tensor['dtype']): Tensor | null {
  if (!mask) return null;
  return mask.dtype === 'bool' ? where(mask, 0, -Infinity) : cast(mask, dtype);
}

// ---- attention over a packed q/k/v projection ---------------------------------------------------

interface PackedAttrs { nHead: number; scale: number; causal: boolean }

/**
 * The [B, H, T, D] view of the H heads of width D that start at column `col` of a contiguous
 * [B, T, W] tensor: head h of row t is columns col + h·D … col + h·D + D − 1. No copy.
 */
function headView(t: Tensor, H: number, col: number, D: number): View<unknown> {
  const [B, T, W] = t.shape;
  const v = t.kernelView();
  return { ...v, shape: [B, H, T, D], strides: [T * W, D, W, 1], offset: v.offset + col };
}

/**
 * Self-attention over the output of one fused projection, qkv = x·[Wq; Wk; Wv]ᵀ [B, T, 3C], with
 * the heads merged in the result [B, T, C]: the same as splitting qkv into q, k, v, moving heads
 * to dim 1, scaledDotProductAttention and merging the heads back — but the kernels read q, k, v
 * and write the output and the gradient d(qkv) through head views, so none of the copies, zero
 * fills and gradient sums of that chain happen.
 */
export const PACKED_ATTENTION = defineOp<[qkv: Tensor, mask: Tensor | null], PackedAttrs, Omit<AttnSaved, 'q' | 'k' | 'v'> & { qkv: Tensor }>({
  name: 'packedSelfAttention',
  forward: ([qkv, mask], a, save, needs) => {
    const kernels = qkv.backend.kernels;
    save('qkv', qkv); if (mask) save('mask', mask);
    if (!hasFused(kernels) || !kernels.attention) return packedDecomposed(qkv, a, mask);
    const [B, T, W] = qkv.shape;
    const H = a.nHead, C = W / 3, D = C / H;
    const out = empty([B, T, C], qkv.dtype, qkv.backend);
    const lse = empty([B, H, T], qkv.dtype, qkv.backend);
    const probs = probsToSave(qkv, needs[0], B, H, T, T);
    const mv = mask ? broadcastView(mask, [B, H, T, T]) : null;
    kernels.attention(headView(qkv, H, 0, D), headView(qkv, H, C, D), headView(qkv, H, 2 * C, D), mv,
      { scale: a.scale, causal: a.causal }, headView(out, H, 0, D), lse.kernelView(), probs?.kernelView() ?? null);
    save('out', out); save('lse', lse);
    lse.dispose();
    if (probs) { save('probs', probs); probs.dispose(); }
    return out;
  },
  backward: (g, { saved, attrs: a, needs, inputs: [, m] }) => {
    const qkv = saved.qkv;
    const mask = m ? saved.mask : null;
    const kernels = qkv.backend.kernels;
    if (recordingBackward() || !hasFused(kernels) || !kernels.attentionBackward) {
      const [dqkv] = backwardThroughDecomposition(g, [qkv, mask], [needs[0], false], (x, mk) => packedDecomposed(x, a, mk));
      return [dqkv, null];
    }
    const [B, T, W] = qkv.shape;
    const H = a.nHead, C = W / 3, D = C / H;
    const dout = contiguous(g);
    const dqkv = empty(qkv.shape, qkv.dtype, qkv.backend);
    const mv = mask ? broadcastView(mask, [B, H, T, T]) : null;
    kernels.attentionBackward(headView(qkv, H, 0, D), headView(qkv, H, C, D), headView(qkv, H, 2 * C, D), mv,
      { scale: a.scale, causal: a.causal }, headView(saved.out, H, 0, D), saved.lse.kernelView(), headView(dout, H, 0, D),
      headView(dqkv, H, 0, D), headView(dqkv, H, C, D), headView(dqkv, H, 2 * C, D), savedProbs(saved));
    if (dout !== g) dout.dispose();
    return [dqkv, null];
  },
  gradcheck: [
    { inputs: [{ shape: [2, 4, 12] }], call: (qkv) => packedSelfAttention(qkv, 2, { isCausal: true }), label: 'causal, 2 heads' },
    { inputs: [{ shape: [1, 3, 6] }], call: (qkv) => packedSelfAttention(qkv, 1), label: 'full, 1 head' },
    { inputs: [{ shape: [2, 3, 12] }, { shape: [2, 1, 1, 3], constant: true }], call: (qkv, m) => packedSelfAttention(qkv, 2, { mask: m }), label: 'additive mask' },
  ],
});

/** packedSelfAttention from split heads and attentionDecomposed. */
function packedDecomposed(qkv: Tensor, a: PackedAttrs, mask: Tensor | null): Tensor {
  const [B, T, W] = qkv.shape;
  const C = W / 3, H = a.nHead, D = C / H;
  const heads = (col: number) => permute(reshape(narrow(qkv, 2, col, C), [B, T, H, D]), [0, 2, 1, 3]); // (B, H, T, D)
  const y = attentionDecomposed(heads(0), heads(C), heads(2 * C), { mask, isCausal: a.causal, scale: a.scale });
  return reshape(contiguous(permute(y, [0, 2, 1, 3])), [B, T, C]); // (B, T, C)
}

/**
 * Causal (or full) multi-head self-attention on a packed projection qkv [B, T, 3·C] — q, k, v
 * side by side in the last dim, each holding nHead heads of C / nHead — returning [B, T, C] with
 * the heads merged; `mask` as in scaledDotProductAttention (additive, or bool with true = may
 * attend), broadcastable to (B, nHead, T, T). Equal to `scaledDotProductAttention(q, k, v)` on
 * the split, head-major q, k, v, merged back; faster.
 */
export function packedSelfAttention(qkv: Tensor, nHead: number, opts: { isCausal?: boolean; scale?: number; mask?: Tensor | null } = {}): Tensor {
  checkTensor('packedSelfAttention', 'qkv', qkv);
  checkSize('packedSelfAttention', 'nHead', nHead, 1);
  const o = attentionOptions('packedSelfAttention', opts);
  if (qkv.ndim !== 3) throw new ShapeError(`packedSelfAttention: expected qkv of shape (B, T, 3·C), got ${fmtShape(qkv.shape)}`);
  const W = qkv.shape[2];
  if (W % (3 * nHead) !== 0) {
    throw new ShapeError(`packedSelfAttention: the last dim of qkv ${fmtShape(qkv.shape)} must be 3 × nHead × head size (nHead ${nHead})`);
  }
  if (!isFloat(qkv.dtype)) {
    throw new DTypeError(`packedSelfAttention: expected a float tensor, got ${qkv.dtype} (shape ${fmtShape(qkv.shape)})`);
  }
  const T = qkv.shape[1];
  if (o.mask) broadcastShapes('packedSelfAttention mask', o.mask.shape, [qkv.shape[0], nHead, T, T]);
  const scale = o.scale ?? 1 / Math.sqrt(W / 3 / nHead);
  return tidy(() => {
    const x = autocastInput('packedSelfAttention', qkv);
    const mask = additiveMask(o.mask, x.dtype);
    return apply(PACKED_ATTENTION, [contiguous(x), mask], { nHead, scale, causal: o.isCausal });
  });
}

function checkAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null | undefined): void {
  checkTensor('scaledDotProductAttention', 'q', q);
  checkTensor('scaledDotProductAttention', 'k', k);
  checkTensor('scaledDotProductAttention', 'v', v);
  const shapes = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) throw new ShapeError(`scaledDotProductAttention: expected (B, H, T, D) tensors, got ${shapes}`);
  if (q.shape[0] !== k.shape[0] || q.shape[1] !== k.shape[1] || k.shape[0] !== v.shape[0] || k.shape[1] !== v.shape[1]) {
    throw new ShapeError(`scaledDotProductAttention: batch and head dims must match: ${shapes}`);
  }
  if (q.shape[3] !== k.shape[3] || k.shape[2] !== v.shape[2]) {
    throw new ShapeError(`scaledDotProductAttention: q and k need the same head size and k and v the same length: ${shapes}`);
  }
  if (q.dtype !== k.dtype || q.dtype !== v.dtype) throw new DTypeError(`scaledDotProductAttention: q, k, v dtypes differ (${q.dtype}, ${k.dtype}, ${v.dtype})`);
  requireFloat('scaledDotProductAttention', q, 'q');
  if (mask) broadcastShapes('scaledDotProductAttention mask', mask.shape, [q.shape[0], q.shape[1], q.shape[2], k.shape[2]]);
}

/**
 * Attention over (B, H, T, D) tensors, like torch's F.scaled_dot_product_attention. Memory kept for
 * the backward: q, k, v, the mask, the output and a log-sum-exp per query; on WebGPU, where
 * B·H·Tq·Tk ≤ 2^22, also the float32 probabilities (B·H·Tq·Tk·4 bytes), so the backward need not
 * recompute them. packedSelfAttention keeps the same.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const o = attentionOptions('scaledDotProductAttention', opts);
  checkAttention(q, k, v, o.mask);
  const scale = o.scale ?? 1 / Math.sqrt(q.shape[3]);
  return tidy(() => {
    [q, k, v] = autocastInputs('scaledDotProductAttention', q, k, v);
    const mask = additiveMask(o.mask, q.dtype);
    return apply(ATTENTION, [contiguous(q), contiguous(k), contiguous(v), mask], { scale, causal: o.isCausal });
  });
}

/** Attention from primitives (matmul, mask, softmax, matmul) — the fused op's reference. */
export function attentionDecomposed(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const o = attentionOptions('attentionDecomposed', opts);
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) checkRank('attentionDecomposed', name, checkTensor('attentionDecomposed', name, t), 2);
  const scale = o.scale ?? 1 / Math.sqrt(q.shape[q.ndim - 1]);
  return tidy(() => {
    let s = mulScalar(matmul(q, transpose(k, -2, -1)), scale);
    if (o.mask) s = o.mask.dtype === 'bool' ? where(o.mask, s, -Infinity) : add(s, o.mask);
    if (o.isCausal) {
      const Tq = q.shape[q.ndim - 2], Tk = k.shape[k.ndim - 2];
      const blocked = triu(full([Tq, Tk], 1, { device: q.device }), Tk - Tq + 1).gt(0);
      s = where(blocked, -Infinity, s);
    }
    return matmul(softmax(s, -1), v);
  });
}
