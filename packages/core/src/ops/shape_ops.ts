// Ops that build new tensors from pieces: cat, stack, split, chunk, pad, tril, triu.
import { promoteTypes } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { contiguousStrides, normDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty } from './alloc.js';
import { cast } from './cast.js';
import { apply, defineOp } from './define.js';
import { narrow, unsqueeze } from './views.js';
import { arange } from './creation.js';
import { tidy } from '../memory.js';
import { checkInt, checkNumber, checkNumel, checkRank, checkSize, checkTensor, fmtValue } from '../validate.js';
import { le, ge, sub } from './elementwise.js';
import { where } from './where.js';

/** A non-empty array of tensors. */
function checkTensorList(op: string, xs: unknown): readonly Tensor[] {
  if (!Array.isArray(xs)) throw new ValueError(`${op}: expected an array of tensors, got ${fmtValue(xs)}`);
  if (xs.length === 0) throw new ValueError(`${op}: expected a non-empty list of tensors`);
  xs.forEach((x, i) => checkTensor(op, `tensors[${i}]`, x));
  return xs;
}

export const CAT = defineOp<Tensor[], { dim: number }>({
  name: 'cat',
  forward: (xs, { dim }) => {
    const first = xs[0];
    const shape = [...first.shape];
    shape[dim] = xs.reduce((a, x) => a + x.shape[dim], 0);
    const out = empty(shape, first.dtype, first.backend);
    const strides = contiguousStrides(shape);
    let off = 0;
    for (const x of xs) {
      if (x.shape[dim] > 0 && x.size > 0) {
        x.backend.kernels.copy(x.kernelView(), { buffer: out.storage.buffer, dtype: out.dtype, shape: x.shape, strides, offset: off * strides[dim] });
      }
      off += x.shape[dim];
    }
    return out;
  },
  backward: (g, { attrs: { dim }, needs, inputs }) => {
    let off = 0;
    return inputs.map((x, i) => {
      const len = x.shape[dim];
      const r = needs[i] ? narrow(g, dim, off, len) : null;
      off += len;
      return r;
    });
  },
  gradcheck: [{ inputs: [{ shape: [2, 3] }, { shape: [2, 1] }], call: (a, b) => cat([a, b], 1) }],
});

/** Concatenate along an existing dim. */
export function cat(xs: readonly Tensor[], dim = 0): Tensor {
  checkTensorList('cat', xs).forEach((x, i) => checkRank('cat', `tensors[${i}]`, x, 1));
  // As in PyTorch, 1-D empty tensors are left out (they still take part in the result dtype).
  const isBlank = (x: Tensor) => x.ndim === 1 && x.shape[0] === 0;
  const parts = xs.every(isBlank) ? xs : xs.filter((x) => !isBlank(x));
  const d = normDim('cat', dim, parts[0].ndim);
  for (const x of parts) {
    if (x.ndim !== parts[0].ndim || x.shape.some((s, i) => i !== d && s !== parts[0].shape[i])) {
      throw new ShapeError(`cat: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} must match except in dim ${dim}`);
    }
  }
  const t = xs.map((x) => x.dtype).reduce(promoteTypes);
  return tidy(() => apply(CAT, parts.map((x) => cast(x, t)), { dim: d }));
}

/** Join along a new dim. */
export function stack(xs: readonly Tensor[], dim = 0): Tensor {
  checkTensorList('stack', xs);
  for (const x of xs) {
    if (x.ndim !== xs[0].ndim || x.shape.some((s, i) => s !== xs[0].shape[i])) {
      throw new ShapeError(`stack: all tensors must have the same shape, got ${xs.map((t) => fmtShape(t.shape)).join(', ')}`);
    }
  }
  const d = normDim('stack', dim, xs[0].ndim + 1);
  return tidy(() => cat(xs.map((x) => unsqueeze(x, d)), d));
}

/** Split into pieces of `size` (the last may be smaller), or of the listed sizes. Views. */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  return splitAs('split', x, sizes, dim);
}

function splitAs(op: string, x: Tensor, sizes: number | readonly number[], dim: number): Tensor[] {
  checkRank(op, 'input', checkTensor(op, 'input', x), 1);
  const d = normDim(op, dim, x.ndim);
  const n = x.shape[d];
  let list: number[];
  if (!Array.isArray(sizes)) {
    const size = checkSize(op, 'size', sizes);
    if (size === 0 && n > 0) throw new ValueError(`${op}: size must be a positive integer (or 0 for a dim of size 0), got 0 for dim ${dim} of size ${n}`);
    list = [];
    for (let i = 0; i < n; i += size) list.push(Math.min(size, n - i));
    if (n === 0) list.push(0); // one empty piece, as in PyTorch
  } else {
    list = sizes.map((v, i) => checkSize(op, `sizes[${i}]`, v));
    if (list.reduce((a, b) => a + b, 0) !== n) throw new ShapeError(`${op}: sizes ${fmtShape(list)} do not sum to ${n} (dim ${dim} of shape ${fmtShape(x.shape)})`);
  }
  let off = 0;
  return list.map((len) => { const v = narrow(x, d, off, len); off += len; return v; });
}

/** Split into `chunks` nearly equal pieces, like torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkRank('chunk', 'input', checkTensor('chunk', 'input', x), 1);
  const d = normDim('chunk', dim, x.ndim);
  checkSize('chunk', 'chunks', chunks, 1);
  if (x.shape[d] === 0) {
    checkNumel('chunk', [chunks]);
    return splitAs('chunk', x, new Array<number>(chunks).fill(0), d); // `chunks` empty pieces, as in PyTorch
  }
  return splitAs('chunk', x, Math.ceil(x.shape[d] / chunks), d);
}

interface PadAttrs { before: number[]; after: number[]; value: number }

export const PAD = defineOp<[Tensor], PadAttrs>({
  name: 'pad',
  forward: ([x], { before, after, value }) => {
    const shape = x.shape.map((s, i) => s + before[i] + after[i]);
    const out = empty(shape, x.dtype, x.backend);
    x.backend.kernels.fill(out.kernelView(), value);
    const strides = contiguousStrides(shape);
    if (x.size > 0) {
      const offset = before.reduce((a, b, i) => a + b * strides[i], 0);
      x.backend.kernels.copy(x.kernelView(), { buffer: out.storage.buffer, dtype: out.dtype, shape: x.shape, strides, offset });
    }
    return out;
  },
  backward: (g, { attrs: { before }, inputs: [x] }) => {
    let r = g;
    x.shape.forEach((s, i) => { if (before[i] !== 0 || s !== g.shape[i]) r = narrow(r, i, before[i], s); });
    return [r];
  },
  gradcheck: [{ inputs: [{ shape: [2, 3] }], call: (x) => pad(x, [1, 0, 0, 2], 0.5) }],
});

/** Constant padding, PyTorch's F.pad convention: `pads` lists (before, after) pairs starting from the
 *  LAST dim, e.g. [left, right, top, bottom]. Negative pads are not supported. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  checkTensor('pad', 'input', x);
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new ShapeError(`pad: expected (before, after) pairs for at most ${x.ndim} dims, got ${fmtValue(pads)} for shape ${fmtShape(x.shape)}`);
  }
  pads.forEach((p, i) => checkSize('pad', `pads[${i}]`, p));
  checkNumber('pad', 'value', value);
  const before = new Array<number>(x.ndim).fill(0);
  const after = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    before[x.ndim - 1 - i] = pads[2 * i];
    after[x.ndim - 1 - i] = pads[2 * i + 1];
  }
  checkNumel('pad', x.shape.map((s, i) => s + before[i] + after[i]));
  return apply(PAD, [x], { before, after, value });
}

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  checkTensor(op, 'input', x);
  checkInt(op, 'diagonal', diagonal);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected a tensor with at least 2 dims, got shape ${fmtShape(x.shape)}`);
  const n = x.shape[x.ndim - 2], m = x.shape[x.ndim - 1];
  return tidy(() => {
    const rows = arange(n, undefined, 1, { device: x.device }).reshape([n, 1]);
    const cols = arange(m, undefined, 1, { device: x.device });
    const diff = sub(cols, rows); // j − i
    const keep = op === 'tril' ? le(diff, diagonal) : ge(diff, diagonal);
    return where(keep, x, 0);
  });
}

/** Lower triangle (j − i ≤ diagonal), zeros elsewhere, over the last two dims. */
export const tril = (x: Tensor, diagonal = 0) => triangle('tril', x, diagonal);
/** Upper triangle (j − i ≥ diagonal). */
export const triu = (x: Tensor, diagonal = 0) => triangle('triu', x, diagonal);

/** This file's Tensor methods: `x.split(2)` is `split(x, 2)`. */
export const SHAPE_METHODS = { split, chunk, tril, triu };
