// layerNorm over the trailing `normalizedShape` dims, as one fused row kernel forward and backward
// (Ba, Kiros & Hinton 2016). Biased variance, as in PyTorch.
import { requireFloat } from '../dtype.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty } from './alloc.js';
import { contiguous } from './cast.js';
import { apply, defineOp } from './define.js';
import { reshape } from './views.js';
import { mean, sum } from './reduce.js';
import { backwardThroughDecomposition, recordingBackward } from '../autograd/decomposition_backward.js';
import { tidy } from '../memory.js';
import { checkFinite, checkShapeArg, checkTensor } from '../validate.js';
import { add, mul, sub, addScalar, rsqrt } from './elementwise.js';
import { autocastInputs } from '../autocast.js';

/** layerNorm's arguments: normalizedShape the input's trailing dims, weight and bias of as many
 *  elements (or absent), eps a finite number >= 0. */
function checkLayerNormArgs(op: string, x: Tensor, normalizedShape: readonly number[], weight: Tensor | null | undefined, bias: Tensor | null | undefined, eps: number): void {
  checkTensor(op, 'input', x);
  checkShapeArg(op, 'normalizedShape', normalizedShape);
  const k = normalizedShape.length;
  if (k === 0 || k > x.ndim || normalizedShape.some((d, i) => d !== x.shape[x.ndim - k + i])) {
    throw new ShapeError(`${op}: normalizedShape ${fmtShape(normalizedShape)} does not match the trailing dims of input ${fmtShape(x.shape)}`);
  }
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p == null) continue;
    if (numel(checkTensor(op, name, p).shape) !== numel(normalizedShape)) {
      throw new ShapeError(`${op}: ${name} of shape ${fmtShape(p.shape)} does not match normalizedShape ${fmtShape(normalizedShape)}`);
    }
  }
  if (checkFinite(op, 'eps', eps) < 0) throw new ValueError(`${op}: eps must be >= 0, got ${eps}`);
}

type LNInputs = [x: Tensor, weight: Tensor | null, bias: Tensor | null];
interface LNSaved { x: Tensor; mean: Tensor; rstd: Tensor; weight: Tensor }

/** Whether a backend has both fused layerNorm kernels (the backward reads the forward's mean and rstd). */
const hasFused = (k: Tensor['backend']['kernels']) => k.layerNorm !== undefined && k.layerNormBackward !== undefined;

/** Rows x [N, D], weight and bias [D] or absent. */
export const LAYER_NORM = defineOp<LNInputs, { eps: number }, LNSaved>({
  name: 'layerNorm',
  forward: ([x, weight, bias], { eps }, save) => {
    const kernels = x.backend.kernels;
    save('x', x);
    if (weight) save('weight', weight);
    if (!hasFused(kernels) || !kernels.layerNorm) return layerNormDecomposed(x, [x.shape[1]], weight, bias, eps);
    const rows = x.shape[0];
    const out = empty(x.shape, x.dtype, x.backend);
    const mean = empty([rows], x.dtype, x.backend);
    const rstd = empty([rows], x.dtype, x.backend);
    kernels.layerNorm(x.kernelView(), weight?.kernelView() ?? null, bias?.kernelView() ?? null, eps, out.kernelView(), mean.kernelView(), rstd.kernelView());
    save('mean', mean); save('rstd', rstd);
    mean.dispose(); rstd.dispose();
    return out;
  },
  // One kernel writes dx, dweight and dbias; a recorded backward (or a backend without the fused
  // kernels) differentiates the decomposition.
  backward: (g, { saved, attrs: { eps }, needs, inputs: [, w, b] }) => {
    const x = saved.x;
    const D = x.shape[1];
    const kernels = x.backend.kernels;
    if (recordingBackward() || !hasFused(kernels) || !kernels.layerNormBackward) {
      const [dx, dw] = backwardThroughDecomposition(g, [x, w ? saved.weight : null], [needs[0], needs[1]],
        (xs, ws) => layerNormDecomposed(xs, [D], ws, null, eps));
      return [dx, dw, b && needs[2] ? sum(g, 0) : null];
    }
    const weight = w ? saved.weight : null;
    const dy = contiguous(g);
    const dx = empty(x.shape, x.dtype, x.backend);
    const dw = w ? empty([D], x.dtype, x.backend) : null;
    const db = b ? empty([D], x.dtype, x.backend) : null;
    kernels.layerNormBackward(x.kernelView(), weight?.kernelView() ?? null, saved.mean.kernelView(), saved.rstd.kernelView(), dy.kernelView(), dx.kernelView(), dw?.kernelView() ?? null, db?.kernelView() ?? null);
    if (dy !== g) dy.dispose();
    return [dx, dw, db];
  },
  gradcheck: [
    { inputs: [{ shape: [3, 6] }, { shape: [6] }, { shape: [6] }], call: (x, w, b) => layerNorm(x, [6], w, b), label: 'affine' },
    { inputs: [{ shape: [2, 2, 3] }], call: (x) => layerNorm(x, [2, 3]), label: 'two normalized dims' },
  ],
});

/** Normalize over the last dims given by `normalizedShape`, then scale and shift. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkLayerNormArgs('layerNorm', x, normalizedShape, weight, bias, eps);
  requireFloat('layerNorm', x);
  const k = normalizedShape.length;
  const D = numel(normalizedShape);
  return tidy(() => {
    [x, weight, bias] = autocastInputs('layerNorm', x, weight, bias);
    const rows = contiguous(reshape(x, [numel(x.shape.slice(0, x.ndim - k)), D]));
    const flat = (t: Tensor | null | undefined) => (t ? contiguous(reshape(t, [D])) : null);
    const y = apply(LAYER_NORM, [rows, flat(weight), flat(bias)], { eps });
    return reshape(y, x.shape);
  });
}

/** layerNorm from primitives — the fused op's reference. */
export function layerNormDecomposed(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkLayerNormArgs('layerNormDecomposed', x, normalizedShape, weight, bias, eps);
  const dims = normalizedShape.map((_, i) => x.ndim - normalizedShape.length + i);
  return tidy(() => {
    const mu = mean(x, dims, { keepdim: true });
    const d = sub(x, mu);
    const v = mean(mul(d, d), dims, { keepdim: true });
    let y = mul(d, rsqrt(addScalar(v, eps)));
    if (weight) y = mul(y, weight);
    if (bias) y = add(y, bias);
    return y;
  });
}
