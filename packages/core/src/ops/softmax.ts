// softmax and logSoftmax along a dim, as one fused row kernel (max-subtracted, numerically stable).
// Their decompositions into primitive ops are exported as the reference the fused kernels are
// tested against.
import { requireFloat } from '../dtype.js';
import { normDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty } from './alloc.js';
import { contiguous } from './cast.js';
import { apply, defineOp } from './define.js';
import { transpose } from './views.js';
import { recordingBackward } from '../autograd/decomposition_backward.js';
import { logsumexp, max, sum } from './reduce.js';
import { noGrad } from '../autograd/grad_mode.js';
import { tidy } from '../memory.js';
import { checkTensor } from '../validate.js';
import { div, mul, sub, exp } from './elementwise.js';
import { autocastInput } from '../autocast.js';

export const SOFTMAX = defineOp<[Tensor], { log: boolean }, { y: Tensor }>({
  name: 'softmax',
  // The fused row kernel, or (on a backend without it) the decomposition over the last dim.
  forward: ([x], { log }, save) => {
    const kernels = x.backend.kernels;
    let out: Tensor;
    if (kernels.softmax) {
      out = empty(x.shape, x.dtype, x.backend);
      kernels.softmax(x.kernelView(), out.kernelView(), log);
    } else out = log ? logSoftmaxDecomposed(x, -1) : softmaxDecomposed(x, -1);
    save('y', out);
    return out;
  },
  // The fused kernel when the backward is not recorded and the backend has it; otherwise the same
  // formula in ops, which refer back to y (this node's output), so it differentiates again through this op.
  backward: (g, { saved: { y }, attrs: { log } }) => {
    const kernels = y.backend.kernels;
    if (recordingBackward() || !kernels.softmaxBackward) {
      return [log ? sub(g, mul(exp(y), sum(g, -1, { keepdim: true }))) : mul(y, sub(g, sum(mul(g, y), -1, { keepdim: true })))];
    }
    const dy = contiguous(g);
    const dx = empty(y.shape, y.dtype, y.backend);
    kernels.softmaxBackward(y.kernelView(), dy.kernelView(), dx.kernelView(), log);
    if (dy !== g) dy.dispose();
    return [dx];
  },
  gradcheck: [
    { inputs: [{ shape: [3, 5] }], call: (x) => softmax(x, -1), label: 'softmax' },
    { inputs: [{ shape: [4, 3] }], call: (x) => logSoftmax(x, 0), label: 'logSoftmax dim 0' },
  ],
});

function rowwise(x: Tensor, dim: number, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  const d = normDim(op, dim, checkTensor(op, 'input', x).ndim);
  requireFloat(op, x); // as PyTorch: no softmax of integers (cast with .float())
  return tidy(() => {
    const xf = autocastInput(op, x);
    if (xf.ndim === 0) return apply(SOFTMAX, [contiguous(xf.reshape([1]))], { log }).reshape([]);
    const last = d === xf.ndim - 1;
    const input = contiguous(last ? xf : transpose(xf, d, -1));
    const y = apply(SOFTMAX, [input], { log });
    return last ? y : transpose(y, d, -1);
  });
}

/** exp(x)/Σexp(x) along `dim` (default −1), computed with the row maximum subtracted (torch.softmax). */
export const softmax = (x: Tensor, dim = -1) => rowwise(x, dim, false);
/** log(softmax(x)) along `dim` (default −1), computed stably (torch.log_softmax). */
export const logSoftmax = (x: Tensor, dim = -1) => rowwise(x, dim, true);

/** softmax from primitives: exp(x − max) / Σ exp(x − max). */
export function softmaxDecomposed(x: Tensor, dim = -1): Tensor {
  normDim('softmaxDecomposed', dim, checkTensor('softmaxDecomposed', 'input', x).ndim);
  return tidy(() => {
    const m = noGrad(() => max(x, dim, { keepdim: true }));
    const e = exp(sub(x, m));
    return div(e, sum(e, dim, { keepdim: true }));
  });
}

/** logSoftmax from primitives: x − logsumexp(x). */
export function logSoftmaxDecomposed(x: Tensor, dim = -1): Tensor {
  normDim('logSoftmaxDecomposed', dim, checkTensor('logSoftmaxDecomposed', 'input', x).ndim);
  return tidy(() => sub(x, logsumexp(x, dim, { keepdim: true })));
}

/** This file's Tensor methods: `x.softmax(d)` is `softmax(x, d)`. */
export const SOFTMAX_METHODS = { softmax, logSoftmax };
