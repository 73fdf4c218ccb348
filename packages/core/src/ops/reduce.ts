// Reductions over one or several dims: sum, prod, max, min, argmax, argmin, and the composites
// mean, logsumexp, var, std. The kernel writes a keepdim-shaped result; dropping dims is a view.
import type { ReduceOp } from '@webgrad/kernels';
import { isFloat } from '../dtype.js';
import { ValueError, fmtShape } from '../errors.js';
import { normDim, normDims } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty } from './alloc.js';
import { cast } from './cast.js';
import { apply, checkInputs, defineOp, type OpDef } from './define.js';
import { expand, reshape } from './views.js';
import { noGrad } from '../autograd/grad_mode.js';
import { tidy } from '../memory.js';
import { checkBool, checkFinite, checkOptions, checkTensor } from '../validate.js';
import { add, div, eq, mul, sub, mulScalar, exp, log, sqrt } from './elementwise.js';
import { where } from './where.js';
import { autocastInput } from '../autocast.js';

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep each reduced dimension with size 1 (default false). */
  keepdim?: boolean;
}
type Dims = number | readonly number[] | undefined;

interface ReduceAttrs { op: ReduceOp; axes: number[] }

/** The reduced axes and keepdim of a public reduction, validated under its name. */
function reduceArgs(op: string, x: Tensor, dims: Dims, opts: VarOptions | undefined, keys: readonly string[] = ['keepdim']): { axes: number[]; keepdim: boolean } {
  checkTensor(op, 'input', x);
  const axes = normDims(op, dims, x.ndim);
  const o = checkOptions(op, opts, keys);
  const keepdim = o.keepdim === undefined ? false : checkBool(op, 'keepdim', o.keepdim);
  if (o.correction !== undefined && checkFinite(op, 'correction', o.correction) < 0) {
    throw new ValueError(`${op}: correction must be >= 0, got ${o.correction}`);
  }
  return { axes, keepdim };
}

const keepShape = (shape: readonly number[], axes: number[]) => shape.map((d, i) => (axes.includes(i) ? 1 : d));

export const REDUCE: OpDef<[Tensor], ReduceAttrs, { x: Tensor; y: Tensor }> = defineOp<[Tensor], ReduceAttrs, { x: Tensor; y: Tensor }>({
  name: 'reduce',
  forward: ([x], { op, axes }, save) => {
    const out = empty(keepShape(x.shape, axes), x.dtype, x.backend);
    x.backend.kernels.reduce(op, x.kernelView(), axes, out.kernelView());
    if (op !== 'sum') { save('x', x); save('y', out); }
    return out;
  },
  backward: (g, { saved, attrs: { op, axes }, inputs: [x] }) => {
    // g and y arrive keepdim-shaped; broadcast them over the reduced axes.
    const gx = expand(g, x.shape);
    if (op === 'sum') return [gx];
    if (op === 'prod') return [div(mul(gx, saved.y), saved.x)];
    // max/min: the gradient is shared evenly among the elements equal to the extremum.
    const mask = cast(eq(saved.x, saved.y), g.dtype);
    const count = apply(REDUCE, [mask], { op: 'sum', axes });
    return [div(mul(gx, mask), count)];
  },
  gradcheck: [
    { inputs: [{ shape: [3, 4] }], call: (x) => sum(x, 1), label: 'sum' },
    { inputs: [{ shape: [2, 3, 4] }], call: (x) => max(x, [0, 2]), label: 'max' },
    { inputs: [{ shape: [3, 4] }], call: (x) => min(x), label: 'min' },
    { inputs: [{ shape: [3, 2] }], call: (x) => prod(x, 0), label: 'prod' },
  ],
});

function reduce(op: ReduceOp, x: Tensor, dims: Dims, opts: ReduceOptions): Tensor {
  const name = op;
  const { axes, keepdim } = reduceArgs(name, x, dims, opts);
  checkInputs(name, [x]);
  if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
    throw new ValueError(`${name}: cannot reduce over an empty dimension (shape ${fmtShape(x.shape)}, dims ${fmtShape(axes)})`);
  }
  // Integer sums accumulate in int32; bool is counted as int32 (PyTorch gives int64).
  const input = x.dtype === 'bool' ? cast(x, 'int32') : autocastInput(name, x);
  const kept = apply(REDUCE, [input], { op, axes });
  if (input !== x) input.dispose();
  if (keepdim) return kept;
  const out = reshape(kept, x.shape.filter((_, i) => !axes.includes(i)));
  kept.dispose();
  return out;
}

/** Sum over `dims` (default: all) (torch.sum); bool and integer inputs sum as int32. */
export const sum = (x: Tensor, dims?: Dims, opts: ReduceOptions = {}) => reduce('sum', x, dims, opts);
/** Product over `dims` (default: all) (torch.prod). */
export const prod = (x: Tensor, dims?: Dims, opts: ReduceOptions = {}) => reduce('prod', x, dims, opts);
/** Maximum over `dims` (default: all) (torch.amax); the gradient is shared equally among tied maxima. */
export const max = (x: Tensor, dims?: Dims, opts: ReduceOptions = {}) => reduce('max', x, dims, opts);
/** Minimum over `dims` (default: all) (torch.amin); the gradient is shared equally among tied minima. */
export const min = (x: Tensor, dims?: Dims, opts: ReduceOptions = {}) => reduce('min', x, dims, opts);

/** How many elements each output of a reduction over `axes` combines (1 for a 0-d tensor's dim 0). */
const reducedCount = (shape: readonly number[], axes: number[]): number => axes.reduce((a, d) => a * (shape[d] ?? 1), 1);

/** Mean over `dims` (default: all) (torch.mean); integer inputs give float32. */
export function mean(x: Tensor, dims?: Dims, opts: ReduceOptions = {}): Tensor {
  const { axes } = reduceArgs('mean', x, dims, opts);
  const count = reducedCount(x.shape, axes);
  const xf = isFloat(x.dtype) ? autocastInput('mean', x) : cast(x, 'float32');
  const s = sum(xf, axes, opts);
  const out = mulScalar(s, 1 / count);
  s.dispose();
  if (xf !== x) xf.dispose();
  return out;
}

/** log Σ exp(x), stable: the max is subtracted first (and treated as a constant for gradients). */
export function logsumexp(x: Tensor, dims?: Dims, opts: ReduceOptions = {}): Tensor {
  const { axes } = reduceArgs('logsumexp', x, dims, opts);
  const noTerms = axes.some((d) => x.shape[d] === 0); // a sum over nothing: log 0 = -inf, as in PyTorch
  return tidy(() => {
    x = autocastInput('logsumexp', x);
    const m = noTerms ? 0 : noGrad(() => {
      const mx = max(x, axes, { keepdim: true });
      return where(eq(sub(mx, mx), 0), mx, 0); // 0 where the max is ±inf or NaN
    });
    const kept = add(log(sum(exp(sub(x, m)), axes, { keepdim: true })), m);
    return opts.keepdim ? kept : reshape(kept, x.shape.filter((_, i) => !axes.includes(i)));
  });
}

/** Options of `variance` and `std`. */
export interface VarOptions extends ReduceOptions {
  /** Bessel's correction: divide by N − correction (default 1, unbiased, as in PyTorch). */
  correction?: number;
}
const VAR_KEYS = ['keepdim', 'correction'];

/** Variance over `dims` (default: all) with Bessel's `correction` (default 1) (torch.var). */
export function variance(x: Tensor, dims?: Dims, opts: VarOptions = {}): Tensor {
  const { axes } = reduceArgs('var', x, dims, opts, VAR_KEYS);
  const n = reducedCount(x.shape, axes);
  return tidy(() => {
    x = autocastInput('var', x);
    const d = sub(x, mean(x, axes, { keepdim: true }));
    return mulScalar(sum(mul(d, d), axes, { keepdim: opts.keepdim }), 1 / Math.max(n - (opts.correction ?? 1), 0));
  });
}

/** Standard deviation over `dims` (default: all): √variance, with the same options (torch.std). */
export function std(x: Tensor, dims?: Dims, opts: VarOptions = {}): Tensor {
  reduceArgs('std', x, dims, opts, VAR_KEYS);
  return tidy(() => sqrt(variance(autocastInput('std', x), dims, opts)));
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, opts: ReduceOptions): Tensor {
  reduceArgs(op, x, dim === undefined ? undefined : [dim], opts);
  if (dim === undefined) {
    if (x.size === 0) throw new ValueError(`${op}: cannot reduce over an empty dimension (shape ${fmtShape(x.shape)}, all dims)`);
    const flat = reshape(x, [-1]);
    const r = argReduce(op, flat, 0, {});
    flat.dispose();
    if (!opts.keepdim) return r;
    const out = reshape(r, x.shape.map(() => 1));
    r.dispose();
    return out;
  }
  const d = normDim(op, dim, x.ndim);
  if (x.shape[d] === 0) throw new ValueError(`${op}: cannot reduce over an empty dimension (shape ${fmtShape(x.shape)}, dim ${dim})`);
  const kept = empty(keepShape(x.shape, [d]), 'int32', x.backend);
  x.backend.kernels.argReduce(op, x.kernelView(), d, kept.kernelView());
  if (opts.keepdim) return kept;
  const out = reshape(kept, x.shape.filter((_, i) => i !== d));
  kept.dispose();
  return out;
}

/** Index of the largest value along `dim` (default: of the flattened tensor) as int32, the first on ties (torch.argmax). */
export const argmax = (x: Tensor, dim?: number, opts: ReduceOptions = {}) => argReduce('argmax', x, dim, opts);
/** Index of the smallest value along `dim` (default: of the flattened tensor) as int32, the first on ties (torch.argmin). */
export const argmin = (x: Tensor, dim?: number, opts: ReduceOptions = {}) => argReduce('argmin', x, dim, opts);

/** This file's Tensor methods: `x.sum(1)` is `sum(x, 1)`; `x.var()` is `variance(x)`. */
export const REDUCE_METHODS = { sum, mean, prod, max, min, argmax, argmin, logsumexp, var: variance, std };
