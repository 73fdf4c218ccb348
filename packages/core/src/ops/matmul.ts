// matmul with PyTorch's rules: 1-D·1-D is a dot product, a 1-D operand is promoted to a matrix
// and the added dim removed afterwards, batch dims broadcast. Transposes are never materialized:
// the backward passes gᵀ-style products as strided views and the kernel reads them in place.
import { promoteTypes } from '../dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { broadcastView, empty } from './alloc.js';
import { cast } from './cast.js';
import { apply, checkInputs, defineOp, type None } from './define.js';
import { reshape, transpose, unsqueeze, squeeze } from './views.js';
import { tidy } from '../memory.js';
import { checkTensor } from '../validate.js';
import { autocastInputs } from '../autocast.js';

export const MATMUL = defineOp<[Tensor, Tensor], None, { a: Tensor; b: Tensor }>({
  name: 'matmul',
  // Saves A only for dB, and B for either gradient (dB reads B's layout; B is most often a weight,
  // whose storage is alive anyway).
  forward: ([a, b], _attrs, save, needs) => {
    const M = a.shape[a.ndim - 2], K = a.shape[a.ndim - 1], N = b.shape[b.ndim - 1];
    const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
    const out = empty([...batch, M, N], a.dtype, a.backend);
    a.backend.kernels.matmul(broadcastView(a, [...batch, M, K]), broadcastView(b, [...batch, K, N]), out.kernelView());
    if (needs[1]) save('a', a);
    if (needs[0] || needs[1]) save('b', b);
    return out;
  },
  // dA = G·Bᵀ, dB = Aᵀ·G (batch broadcasting is summed back by the engine). When B is one matrix
  // shared by every batch of A (a Linear layer's weight), the batch sum is folded into a single
  // product over the flattened rows, [K, batch·M]·[batch·M, N], instead of one product per batch
  // followed by a sum. dB takes B's layout: for a column-major B (a Linear's weight W [N, K] used as
  // Wᵀ) it is computed as (Gᵀ·A)ᵀ, the same sums in the same order, so W's gradient arrives
  // contiguous and needs no copy.
  backward: (g, { saved, needs }) => [needs[0] ? matmul(g, transpose(saved.b, -2, -1)) : null, needs[1] ? gradOfB(g, saved.a, saved.b) : null],
  gradcheck: [
    { inputs: [{ shape: [3, 4] }, { shape: [4, 2] }], call: (a, b) => matmul(a, b), label: '2d' },
    { inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2] }], call: (a, b) => matmul(a.transpose(0, 1), b), label: 'batched × one shared matrix' },
    { inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], call: (a, b) => matmul(a, b), label: 'batched broadcast' },
    { inputs: [{ shape: [4] }, { shape: [4] }], call: (a, b) => matmul(a, b), label: 'dot' },
    { inputs: [{ shape: [3, 4] }, { shape: [4] }], call: (a, b) => matmul(a, b), label: 'matrix-vector' },
  ],
});

function gradOfB(g: Tensor, a: Tensor, b: Tensor): Tensor {
  if (b.ndim !== 2) return matmul(transpose(a, -2, -1), g);
  const A = a.ndim > 2 ? reshape(a, [-1, a.shape[a.ndim - 1]]) : a; // [rows, K]
  const G = g.ndim > 2 ? reshape(g, [-1, g.shape[g.ndim - 1]]) : g; // [rows, N]
  const columnMajor = b.shape[0] > 1 && b.shape[1] > 1 && b.strides[0] === 1 && b.strides[1] === b.shape[0];
  return columnMajor ? transpose(matmul(transpose(G, 0, 1), A), 0, 1) : matmul(transpose(A, 0, 1), G);
}

/** Matrix product with torch.matmul's rules: 1-D operands are promoted to a row/column and the added dim removed, batch dims broadcast. A 0-d operand or mismatched inner sizes raise a ShapeError, bool operands a DTypeError. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', 'input', a);
  checkTensor('matmul', 'other', b);
  checkInputs('matmul', [a, b]);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`matmul: both arguments need at least 1 dimension, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (a.dtype === 'bool' || b.dtype === 'bool') throw new DTypeError(`matmul: bool tensors are not supported (shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)})`);
  const ka = a.shape[a.ndim - 1];
  const kb = b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2];
  if (ka !== kb) {
    throw new ShapeError(`matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied (${ka} vs ${kb} in the contracted dim)`);
  }
  return tidy(() => {
    [a, b] = autocastInputs('matmul', a, b);
    const t = promoteTypes(a.dtype, b.dtype);
    const A = a.ndim === 1 ? unsqueeze(cast(a, t), 0) : cast(a, t);
    const B = b.ndim === 1 ? unsqueeze(cast(b, t), 1) : cast(b, t);
    let out = apply(MATMUL, [A, B], {});
    if (a.ndim === 1 && b.ndim === 1) return reshape(out, []);
    if (a.ndim === 1) out = squeeze(out, -2);
    if (b.ndim === 1) out = squeeze(out, -1);
    return out;
  });
}

/** This file's Tensor method: `a.matmul(b)` is `matmul(a, b)`. */
export const MATMUL_METHODS = { matmul };
