// 2-D convolution as im2col + matmul (the unfolded patches times the flattened filters), and
// max/avg pooling. im2col's adjoint col2im is its backward, so conv2d is differentiable end to end
// through ops that are each checked on their own.
import type { Conv2dGeometry } from '@webgrad/kernels';
import { requireFloat } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { empty } from './alloc.js';
import { contiguous } from './cast.js';
import { apply, defineOp, type OpDef } from './define.js';
import { gather } from './indexing.js';
import { matmul } from './matmul.js';
import { cat } from './shape_ops.js';
import { expand, narrow, reshape } from './views.js';
import { tidy } from '../memory.js';
import { checkNumel, checkOptions, checkPair, checkSize, checkTensor } from '../validate.js';
import { add, ge } from './elementwise.js';
import { where } from './where.js';
import { autocastInputs } from '../autocast.js';

type Pair = number | [number, number];

/** Options of `conv2d` (torch.nn.functional.conv2d's); a Pair is one number for both axes or [h, w]. */
export interface Conv2dOptions {
  /** Step between windows (default 1). */ stride?: Pair;
  /** Zeros added on each side (default 0). */ padding?: Pair;
  /** Spacing between kernel taps (default 1). */ dilation?: Pair;
  /** Channel groups: input and output channels split into `groups` independent convolutions (default 1). */ groups?: number;
}
/** `stride` defaults to the kernel size (also when null, PyTorch's None). */
export interface Pool2dOptions {
  /** Step between windows (default: the kernel size). */ stride?: Pair | null;
  /** Implicit padding on each side (default 0): −∞ for max, zeros for avg. */ padding?: Pair;
}

/** Output length of a convolution or pooling along one axis: ⌊(size + 2p − d(k − 1) − 1)/s⌋ + 1 for kernel k, stride s, padding p, dilation d; a ValueError names a bad argument. */
export function convOutSize(size: number, k: number, s: number, p: number, d: number): number {
  checkSize('convOutSize', 'size', size);
  checkSize('convOutSize', 'kernel', k, 1);
  checkSize('convOutSize', 'stride', s, 1);
  checkSize('convOutSize', 'padding', p);
  checkSize('convOutSize', 'dilation', d, 1);
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

interface GeomAttrs { g: Conv2dGeometry; inShape: number[] }

function outHW(x: readonly number[], g: Conv2dGeometry): [number, number] {
  return [convOutSize(x[2], g.kernel[0], g.stride[0], g.padding[0], g.dilation[0]), convOutSize(x[3], g.kernel[1], g.stride[1], g.padding[1], g.dilation[1])];
}

export const IM2COL: OpDef<[Tensor], GeomAttrs> = defineOp<[Tensor], GeomAttrs>({
  name: 'im2col',
  forward: ([x], { g }) => {
    const [N, C] = x.shape;
    const [Ho, Wo] = outHW(x.shape, g);
    const cols = empty([N, C * g.kernel[0] * g.kernel[1], Ho * Wo], x.dtype, x.backend);
    x.backend.kernels.im2col(x.kernelView(), g, cols.kernelView());
    return cols;
  },
  backward: (gr, { attrs }) => [apply(COL2IM, [contiguous(gr)], attrs)],
  gradcheck: [{ inputs: [{ shape: [1, 2, 4, 5] }], call: (x) => apply(IM2COL, [x], { g: geometry([2, 3], { stride: [1, 2], padding: 1 }), inShape: [1, 2, 4, 5] }) }],
});

const COL2IM: OpDef<[Tensor], GeomAttrs> = defineOp<[Tensor], GeomAttrs>({
  name: 'col2im',
  forward: ([cols], { g, inShape }) => {
    const dx = empty(inShape, cols.dtype, cols.backend); // col2im writes every element
    cols.backend.kernels.col2im(cols.kernelView(), g, dx.kernelView());
    return dx;
  },
  backward: (gr, { attrs }) => [apply(IM2COL, [contiguous(gr)], attrs)],
  gradcheck: [{ inputs: [{ shape: [1, 12, 15] }], call: (c) => apply(COL2IM, [c], { g: geometry([2, 3], { stride: [1, 2], padding: 1 }), inShape: [1, 2, 4, 5] }) }],
});

/** The geometry of a convolution: stride and dilation integers >= 1, padding >= 0 (or pairs of them). */
function geometry(kernel: [number, number], o: Conv2dOptions, op = 'conv2d'): Conv2dGeometry {
  return {
    kernel,
    stride: checkPair(op, 'stride', o.stride === undefined ? 1 : o.stride, 1),
    padding: checkPair(op, 'padding', o.padding === undefined ? 0 : o.padding, 0),
    dilation: checkPair(op, 'dilation', o.dilation === undefined ? 1 : o.dilation, 1),
  };
}

/** x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O) → (N, O, Ho, Wo), like torch's F.conv2d. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkTensor('conv2d', 'input', x);
  checkTensor('conv2d', 'weight', weight);
  if (bias != null) checkTensor('conv2d', 'bias', bias);
  const o = checkOptions('conv2d', opts, ['stride', 'padding', 'dilation', 'groups']);
  const groups = o.groups === undefined ? 1 : checkSize('conv2d', 'groups', o.groups, 1);
  if (x.ndim !== 4 || weight.ndim !== 4) throw new ShapeError(`conv2d: expected input (N, C, H, W) and weight (O, C/groups, kh, kw), got ${fmtShape(x.shape)} and ${fmtShape(weight.shape)}`);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = weight.shape as [number, number, number, number];
  if (C % groups !== 0 || O % groups !== 0 || Cg !== C / groups) {
    throw new ShapeError(`conv2d: input ${fmtShape(x.shape)} and weight ${fmtShape(weight.shape)} do not fit groups=${groups} (need C/groups = weight dim 1)`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) throw new ShapeError(`conv2d: bias must have shape [${O}], got ${fmtShape(bias.shape)}`);
  const g = geometry([kh, kw], o);
  const [Ho, Wo] = outHW(x.shape, g);
  if (Ho <= 0 || Wo <= 0) throw new ShapeError(`conv2d: kernel ${kh}×${kw} (dilation ${g.dilation}) does not fit input ${H}×${W} with padding ${g.padding}`);
  checkNumel('conv2d', [N, Cg * kh * kw, Ho * Wo]);
  checkNumel('conv2d', [N, O, Ho, Wo]);
  return tidy(() => {
    [x, weight, bias] = autocastInputs('conv2d', x, weight, bias);
    const xc = contiguous(x);
    const outs: Tensor[] = [];
    for (let gi = 0; gi < groups; gi++) {
      const xg = groups === 1 ? xc : contiguous(narrow(xc, 1, gi * Cg, Cg));
      const cols = apply(IM2COL, [xg], { g, inShape: [N, Cg, H, W] });          // (N, Cg·kh·kw, Ho·Wo)
      const wg = groups === 1 ? weight : narrow(weight, 0, gi * (O / groups), O / groups);
      const wm = reshape(wg, [O / groups, Cg * kh * kw]);                        // (O/g, Cg·kh·kw)
      outs.push(matmul(wm, cols));                                                // (N, O/g, Ho·Wo)
    }
    let y = groups === 1 ? outs[0] : cat(outs, 1);                              // (N, O, Ho·Wo)
    // The bias repeated per image, (N, O, 1): each (n, o) row of y then adds one value of a
    // contiguous column (a row-broadcast add), where (O, 1) would broadcast over two dims.
    if (bias) y = add(y, contiguous(expand(reshape(bias, [1, O, 1]), [N, O, 1])));
    return reshape(y, [N, O, Ho, Wo]);
  });
}

interface PoolAttrs { op: 'max' | 'avg'; g: Conv2dGeometry }

export const POOL2D: OpDef<[Tensor], PoolAttrs, { argmax: Tensor }> = defineOp<[Tensor], PoolAttrs, { argmax: Tensor }>({
  name: 'pool2d',
  forward: ([x], { op, g }, save) => {
    const [N, C] = x.shape;
    const [Ho, Wo] = outHW(x.shape, g);
    const out = empty([N, C, Ho, Wo], x.dtype, x.backend);
    const arg = op === 'max' ? empty([N, C, Ho, Wo], 'int32', x.backend) : null;
    x.backend.kernels.pool2d(op, x.kernelView(), g, out.kernelView(), arg?.kernelView() ?? null);
    if (arg) { save('argmax', arg); arg.dispose(); }
    return out;
  },
  backward: (gr, { saved, attrs: { op, g }, inputs: [x] }) =>
    [apply(POOL2D_BACKWARD, [contiguous(gr), op === 'max' ? saved.argmax : null], { op, g, inShape: [...x.shape] })],
  gradcheck: [
    { inputs: [{ shape: [1, 2, 5, 5] }], call: (x) => maxPool2d(x, 2, { stride: 2, padding: 1 }), label: 'max' },
    { inputs: [{ shape: [1, 2, 5, 4] }], call: (x) => avgPool2d(x, 3, { stride: 1, padding: 1 }), label: 'avg' },
  ],
});

/**
 * Pooling's backward as an op of its own, so that it is differentiable too (double backward,
 * gradient penalties): it is linear in dy, and its adjoint reads back what it spread — the
 * gradient at each window's argmax for max pooling, the window average for avg pooling.
 */
const POOL2D_BACKWARD: OpDef<[dy: Tensor, argmax: Tensor | null], PoolAttrs & { inShape: number[] }, { argmax: Tensor }> = {
  name: 'pool2dBackward',
  forward: ([dy, arg], { op, g, inShape }, save) => {
    const dx = empty(inShape, dy.dtype, dy.backend); // pool2dBackward writes every element
    dy.backend.kernels.pool2dBackward(op, dy.kernelView(), arg?.kernelView() ?? null, g, dx.kernelView());
    if (arg) save('argmax', arg);
    return dx;
  },
  backward: (gg, { saved, attrs: { op, g } }) => {
    if (op === 'avg') return [apply(POOL2D, [contiguous(gg)], { op, g }), null];
    const arg = saved.argmax;
    const [N, C, H, W] = gg.shape;
    const planes = reshape(gg, [N, C, H * W]);
    // A window wholly in the padding has argmax −1 and sent nothing.
    const idx = reshape(arg, [N, C, -1]);
    const valid = ge(idx, 0);
    const picked = gather(planes, 2, where(valid, idx, 0));
    return [reshape(where(valid, picked, 0), arg.shape), null];
  },
};

function pool(op: 'max' | 'avg', x: Tensor, kernel: Pair, opts: Pool2dOptions): Tensor {
  const name = op === 'max' ? 'maxPool2d' : 'avgPool2d';
  checkTensor(name, 'input', x);
  const o = checkOptions(name, opts, ['stride', 'padding']);
  if (x.ndim !== 4) throw new ShapeError(`${name}: expected input (N, C, H, W), got ${fmtShape(x.shape)}`);
  requireFloat(name, x); // max pooling of integers is refused too, as in PyTorch
  const k = checkPair(name, 'kernelSize', kernel, 1);
  const g: Conv2dGeometry = { ...geometry(k, { stride: o.stride ?? k, padding: o.padding }, name), dilation: [1, 1] };
  if (g.padding[0] * 2 > k[0] || g.padding[1] * 2 > k[1]) throw new ValueError(`${name}: padding ${g.padding} must be at most half the kernel ${k}`);
  const [Ho, Wo] = outHW(x.shape, g);
  if (Ho <= 0 || Wo <= 0) throw new ShapeError(`${name}: kernel ${k} does not fit input ${fmtShape(x.shape)}`);
  return tidy(() => apply(POOL2D, [contiguous(x)], { op, g }));
}

/** 2-D max pooling of an (N, C, H, W) tensor over `kernel` windows (torch.nn.functional.max_pool2d); the gradient goes to each window's maximum. */
export const maxPool2d = (x: Tensor, kernel: Pair, opts: Pool2dOptions = {}) => pool('max', x, kernel, opts);
/** 2-D average pooling of an (N, C, H, W) tensor over `kernel` windows, padding counted as zeros in the average (torch.nn.functional.avg_pool2d). */
export const avgPool2d = (x: Tensor, kernel: Pair, opts: Pool2dOptions = {}) => pool('avg', x, kernel, opts);
