// Views: ops that return a tensor sharing the input's storage (no copy): reshape, permute,
// transpose, expand, squeeze, unsqueeze, flatten, slice/narrow. Their backward maps the gradient
// back through the inverse view.
import { broadcastStrides } from '@webgrad/kernels';
import { IndexError, ShapeError, fmtShape } from '../errors.js';
import { contiguousStrides, normDim, normDims, numel, shapesEqual, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkInt, checkRank, checkShapeArg, checkSize, checkTensor, fmtValue } from '../validate.js';
import { zerosOn } from './alloc.js';
import { contiguous } from './cast.js';
import { apply, defineOp, type OpDef } from './define.js';

function makeView(x: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.storage.retain(), shape, x.dtype, { strides, offset });
}

function notAView(x: Tensor, shape: Shape): never {
  throw new ShapeError(`reshape: shape ${fmtShape(shape)} cannot view the tensor of shape ${fmtShape(x.shape)} and strides ${fmtShape(x.strides)}`);
}

/** Resolve a single -1 and check the element count. */
export function inferShape(op: string, from: Shape, shape: Shape): number[] {
  const out = [...checkShapeArg(op, 'shape', shape, -1)];
  const neg = out.indexOf(-1);
  if (neg !== out.lastIndexOf(-1)) throw new ShapeError(`${op}: only one dimension can be -1, got ${fmtShape(shape)}`);
  const known = out.reduce((a, d, i) => (i === neg ? a : a * d), 1);
  if (neg >= 0) {
    if (known === 0 || numel(from) % known !== 0) throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${numel(from)} elements) into ${fmtShape(shape)}`);
    out[neg] = numel(from) / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || numel(out) !== numel(from)) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${numel(from)} elements) into ${fmtShape(shape)}`);
  }
  return out;
}

/**
 * Strides under which `shape` walks the elements of a tensor (oldShape, oldStrides) in row-major
 * order without moving them, or null when no strides can (then reshaping must copy). The old dims
 * fall into runs that are contiguous with each other (stride[d] = stride[d+1]·size[d+1]); each run
 * can be re-cut into new dims whose sizes multiply to the run's size, and a new dim may not span two
 * runs. E.g. a [B, T, 3C] tensor's [B, T, C] slice (row stride 3C) reshapes to [B, T, H, C/H] as a
 * view, while its transpose cannot be flattened.
 */
export function viewStrides(oldShape: Shape, oldStrides: readonly number[], shape: Shape): number[] | null {
  if (oldShape.length === 0 || numel(oldShape) === 0) return contiguousStrides(shape);
  const strides = new Array<number>(shape.length);
  let nd = shape.length - 1;
  let base = oldStrides[oldShape.length - 1]; // stride of the innermost dim of the current run
  let runSize = 1, newSize = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    runSize *= oldShape[d];
    const runEnds = d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== runSize * base);
    if (!runEnds) continue;
    while (nd >= 0 && (newSize < runSize || shape[nd] === 1)) {
      strides[nd] = newSize * base;
      newSize *= shape[nd];
      nd--;
    }
    if (newSize !== runSize) return null;
    if (d > 0) { base = oldStrides[d - 1]; runSize = 1; newSize = 1; }
  }
  return nd === -1 ? strides : null;
}

export const RESHAPE = defineOp<[Tensor], { shape: number[] }>({
  name: 'reshape',
  // Callers check that the strides allow the view (`reshape` copies first where they do not).
  forward: ([x], { shape }) => makeView(x, shape, (x.isContiguous() ? contiguousStrides(shape) : viewStrides(x.shape, x.strides, shape)) ?? notAView(x, shape), x.offset),
  backward: (g, { inputs: [x] }) => [reshape(g, x.shape)],
  gradcheck: [
    { inputs: [{ shape: [2, 6] }], call: (x) => reshape(x, [3, -1]) },
    { inputs: [{ shape: [2, 3, 6] }], call: (x) => reshape(narrow(x, 2, 1, 4), [2, 3, 2, 2]), label: 'strided view' },
  ],
});

/** Same data, new shape (one dim may be -1): a view when the strides allow (always for a
 *  contiguous tensor), else a copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = inferShape('reshape', checkTensor('reshape', 'input', x).shape, shape);
  if (x.isContiguous() || viewStrides(x.shape, x.strides, s)) return apply(RESHAPE, [x], { shape: s });
  const c = contiguous(x);
  const out = apply(RESHAPE, [c], { shape: s });
  c.dispose();
  return out;
}

/** Like reshape, but never copies: a shape the strides cannot express is a ShapeError. */
export function view(x: Tensor, shape: Shape): Tensor {
  const s = inferShape('view', checkTensor('view', 'input', x).shape, shape);
  if (!x.isContiguous() && !viewStrides(x.shape, x.strides, s)) {
    throw new ShapeError(`view: shape ${fmtShape(s)} is not compatible with the tensor of shape ${fmtShape(x.shape)} and strides ${fmtShape(x.strides)}; use reshape() or contiguous() first`);
  }
  return apply(RESHAPE, [x], { shape: s });
}

export const PERMUTE = defineOp<[Tensor], { dims: number[] }>({
  name: 'permute',
  forward: ([x], { dims }) => makeView(x, dims.map((d) => x.shape[d]), dims.map((d) => x.strides[d]), x.offset),
  backward: (g, { attrs: { dims } }) => {
    const inv = new Array<number>(dims.length);
    dims.forEach((d, i) => { inv[d] = i; });
    return [permute(g, inv)];
  },
  gradcheck: [{ inputs: [{ shape: [2, 3, 4] }], call: (x) => permute(x, [2, 0, 1]) }],
});

/** A view with the dimensions reordered: output dim i is input dim `dims[i]` (torch.permute). Wrong length or a repeated dim raise a ShapeError/IndexError. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor('permute', 'input', x);
  if (!Array.isArray(dims)) throw new IndexError(`permute: dims must be an array of dims, got ${fmtValue(dims)}`);
  if (dims.length !== x.ndim) throw new ShapeError(`permute: got ${dims.length} dims ${fmtShape(dims)} for a tensor of rank ${x.ndim} (shape ${fmtShape(x.shape)})`);
  const d = dims.map((v) => normDim('permute', v, x.ndim));
  if (new Set(d).size !== d.length) throw new IndexError(`permute: dims ${fmtShape(dims)} repeat a dimension`);
  return apply(PERMUTE, [x], { dims: d });
}

/** A view with dims `d0` and `d1` swapped (default: the last two) (torch.transpose). */
export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  checkTensor('transpose', 'input', x);
  if (x.ndim < 2 && d0 === -2 && d1 === -1) return permute(x, x.shape.map((_, i) => i));
  const a = normDim('transpose', d0, x.ndim, 'dim0');
  const b = normDim('transpose', d1, x.ndim, 'dim1');
  const dims = x.shape.map((_, i) => i);
  if (x.ndim > 0) { dims[a] = b; dims[b] = a; }
  return apply(PERMUTE, [x], { dims });
}

export const EXPAND = defineOp<[Tensor], { shape: number[] }>({
  name: 'expand',
  forward: ([x], { shape }) => makeView(x, shape, broadcastStrides(x.shape, x.strides, shape), x.offset),
  // The engine sums the gradient back to the input's shape.
  backward: (g) => [g],
  gradcheck: [{ inputs: [{ shape: [3, 1] }], call: (x) => expand(x, [2, 3, 4]) }],
});

/** Broadcast to a larger shape without copying (-1 keeps a size). */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkTensor('expand', 'input', x);
  checkShapeArg('expand', 'shape', shape, -1);
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new ShapeError(`expand: target ${fmtShape(shape)} has fewer dims than the tensor's ${fmtShape(x.shape)}`);
  const s = shape.map((d, i) => {
    const src = i < lead ? 1 : x.shape[i - lead];
    const t = d === -1 ? src : d;
    if (i < lead && d === -1) throw new ShapeError(`expand: -1 is not allowed for a new leading dim (target ${fmtShape(shape)})`);
    if (src !== 1 && src !== t) throw new ShapeError(`expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dim ${i}: ${src} vs ${t})`);
    return t;
  });
  if (shapesEqual(s, x.shape)) return apply(RESHAPE, [x], { shape: s });
  return apply(EXPAND, [x], { shape: s });
}

/** A view with a size-1 dimension inserted at `dim`, in [−ndim−1, ndim] (torch.unsqueeze). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor('unsqueeze', 'input', x);
  const d = normDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return apply(STRIDED_VIEW, [x], { shape, strides, offset: x.offset });
}

/** A view without the size-1 dimensions: all of them, or those among `dim` (torch.squeeze). */
export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  checkTensor('squeeze', 'input', x);
  const dims = dim === undefined ? x.shape.map((_, i) => i).filter((i) => x.shape[i] === 1)
    : normDims('squeeze', dim, x.ndim).filter((d) => x.shape[d] === 1);
  const keep = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
  return apply(STRIDED_VIEW, [x], { shape: keep.map((i) => x.shape[i]), strides: keep.map((i) => x.strides[i]), offset: x.offset });
}

/** A view with explicit geometry whose backward reshapes (only for geometry-preserving views). */
const STRIDED_VIEW = defineOp<[Tensor], { shape: number[]; strides: number[]; offset: number }>({
  name: 'stridedView',
  forward: ([x], a) => makeView(x, a.shape, a.strides, a.offset),
  backward: (g, { inputs: [x] }) => [reshape(g, x.shape)],
  gradcheck: [{ inputs: [{ shape: [3, 1, 4] }], call: (x) => squeeze(x, 1), label: 'squeeze' }],
});

/** `x` with dims `startDim`..`endDim` (default: all) merged into one, a view where the strides allow (torch.flatten). */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor('flatten', 'input', x);
  const s = normDim('flatten', startDim, x.ndim, 'startDim');
  const e = normDim('flatten', endDim, x.ndim, 'endDim');
  if (x.ndim === 0) return reshape(x, [1]);
  if (s > e) throw new IndexError(`flatten: startDim ${startDim} comes after endDim ${endDim} for rank ${x.ndim}`);
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

// ---- slicing -----------------------------------------------------------------------------------

interface SliceAttrs { dim: number; start: number; length: number; step: number }

export const SLICE: OpDef<[Tensor], SliceAttrs> = defineOp<[Tensor], SliceAttrs>({
  name: 'slice',
  forward: ([x], { dim, start, length, step }) => {
    const shape = [...x.shape];
    shape[dim] = length;
    const strides = [...x.strides];
    strides[dim] = x.strides[dim] * step;
    return makeView(x, shape, strides, x.offset + (length > 0 ? start * x.strides[dim] : 0));
  },
  backward: (g, { attrs, inputs: [x] }) => [apply(SLICE_SCATTER, [g], { ...attrs, shape: [...x.shape] })],
  gradcheck: [{ inputs: [{ shape: [5, 3] }], call: (x) => slice(x, 0, 1, 5, 2) }],
});

/** Zeros of `shape` with the gradient written into the slice: the adjoint of `slice`. */
const SLICE_SCATTER: OpDef<[Tensor], SliceAttrs & { shape: number[] }> = defineOp<[Tensor], SliceAttrs & { shape: number[] }>({
  name: 'sliceScatter',
  forward: ([g], { shape, dim, start, length, step }) => {
    const out = zerosOn(shape, g.dtype, g.backend);
    const strides = contiguousStrides(shape);
    const vshape = [...shape];
    vshape[dim] = length;
    const vstrides = [...strides];
    vstrides[dim] = strides[dim] * step;
    if (length > 0) {
      g.backend.kernels.copy(g.kernelView(), { buffer: out.storage.buffer, dtype: out.dtype, shape: vshape, strides: vstrides, offset: start * strides[dim] });
    }
    return out;
  },
  backward: (g, { attrs }) => [apply(SLICE, [g], attrs)],
  gradcheck: [{ inputs: [{ shape: [2, 3] }], call: (x) => apply(SLICE_SCATTER, [x], { dim: 0, start: 1, length: 2, step: 2, shape: [5, 3] }) }],
});

/** Elements start, start+step, ... < end along `dim` (negative start/end count from the end; clamped like Python). */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  checkRank('slice', 'input', checkTensor('slice', 'input', x), 1);
  const d = normDim('slice', dim, x.ndim);
  const n = x.shape[d];
  checkInt('slice', 'start', start);
  if (end !== undefined) checkInt('slice', 'end', end);
  checkSize('slice', 'step', step, 1);
  const norm = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = norm(start);
  const e = end === undefined ? n : norm(end);
  const length = Math.max(0, Math.ceil((e - s) / step));
  return apply(SLICE, [x], { dim: d, start: s, length, step });
}

/** `length` elements from `start` along `dim`; out-of-range is an IndexError (unlike slice). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkRank('narrow', 'input', checkTensor('narrow', 'input', x), 1);
  const d = normDim('narrow', dim, x.ndim);
  const n = x.shape[d];
  checkInt('narrow', 'start', start);
  checkSize('narrow', 'length', length);
  const s = start < 0 ? start + n : start;
  if (s < 0 || s + length > n) {
    throw new IndexError(`narrow: start ${start} and length ${length} are out of range for dim ${dim} of size ${n} (shape ${fmtShape(x.shape)})`);
  }
  return apply(SLICE, [x], { dim: d, start: s, length, step: 1 });
}

/** The sub-tensor at `index` along `dim`, with that dim removed (like x[i] for dim 0). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  checkRank('select', 'input', checkTensor('select', 'input', x), 1);
  const d = normDim('select', dim, x.ndim);
  const n = x.shape[d];
  checkInt('select', 'index', index);
  const i = index < 0 ? index + n : index;
  if (i < 0 || i >= n) throw new IndexError(`select: index ${index} is out of range for dim ${dim} of size ${n} (shape ${fmtShape(x.shape)})`);
  const s = apply(SLICE, [x], { dim: d, start: i, length: 1, step: 1 });
  const out = squeeze(s, d);
  s.dispose();
  return out;
}

/** This file's Tensor methods: `x.reshape(s)` is `reshape(x, s)`. */
export const VIEW_METHODS = { reshape, view, transpose, permute, expand, squeeze, unsqueeze, flatten, narrow, slice, select };
