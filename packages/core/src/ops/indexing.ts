// Indexing: gather, scatterAdd, indexSelect, embedding, oneHot. Index tensors are int32.
// Indices are validated on devices that can read them synchronously (the CPU); on the GPU the
// kernel records an out-of-range index and the error is raised when the result is read.
import { DTypeError, IndexError, ShapeError, fmtShape } from '../errors.js';
import { normDim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { empty, zerosOn } from './alloc.js';
import { cast } from './cast.js';
import { apply, defineOp, type OpDef } from './define.js';
import { reshape } from './views.js';
import { full } from './creation.js';
import { tidy } from '../memory.js';
import { checkNumel, checkRank, checkSize, checkTensor } from '../validate.js';
import { replayedCheck } from '../compile/trace.js';

/** An input with at least one dim and an index tensor, as gather, scatterAdd and indexSelect take. */
function checkIndexed(op: string, x: Tensor, index: Tensor): void {
  checkRank(op, 'input', checkTensor(op, 'input', x), 1);
  checkTensor(op, 'index', index);
}

/**
 * Indices must be int32 and, where the device reads synchronously, in [0, size) — except `ignore`.
 * Returns how many indices equal `ignore` where they were read (undefined where they were not).
 */
export function checkIndex(op: string, index: Tensor, size: number, what: string, ignore?: number): number | undefined {
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: indices must be int32, got ${index.dtype} (shape ${fmtShape(index.shape)})`);
  const backend = index.backend;
  if (!backend.readSync || index.size === 0) return undefined;
  const c = index.isContiguous() ? index : index.contiguous();
  const n = c.size;
  let ignored: number | undefined;
  try {
    // A compiled step repeats this check at every replay, on that call's indices.
    replayedCheck([c.kernelView()], ([view]) => {
      const read = backend.readSync;
      if (view === undefined || read === undefined) throw new Error(`${op}: the index check lost its index view or the backend's synchronous read`);
      const vals = read.call(backend, view.buffer, 'int32', view.offset + n).subarray(view.offset);
      let count = 0;
      for (const v of vals) {
        if (v === ignore) count++;
        else if (v < 0 || v >= size) {
          throw new IndexError(`${op}: index ${v} is out of range for ${what} of size ${size} (valid: 0..${size - 1}${ignore === undefined ? '' : `, or ${ignore} to ignore`})`);
        }
      }
      ignored = count;
    });
  } finally {
    if (c !== index) c.dispose();
  }
  return ignored;
}

type Indexed = [x: Tensor, index: Tensor];

export const GATHER = defineOp<Indexed, { dim: number }, { index: Tensor }>({
  name: 'gather',
  forward: ([x, index], { dim }, save) => {
    const out = empty(index.shape, x.dtype, x.backend);
    x.backend.kernels.gather(x.kernelView(), dim, index.kernelView(), out.kernelView());
    save('index', index);
    return out;
  },
  backward: (g, { saved: { index }, attrs: { dim }, inputs: [x] }) => [scatterAdd(zerosOf(x.shape, g), dim, index, g), null],
  gradcheck: [{ inputs: [{ shape: [3, 4] }, { shape: [3, 2], int: { high: 4 } }], call: (x, i) => gather(x, 1, i) }],
});

function zerosOf(shape: readonly number[], like: Tensor): Tensor {
  return zerosOn(shape, like.dtype, like.backend);
}

/** out[i][j] = x[i][index[i][j]] for dim 1 (and likewise for any dim), like torch.gather. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexed('gather', x, index);
  const d = normDim('gather', dim, x.ndim);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i])) {
    throw new ShapeError(`gather: index of shape ${fmtShape(index.shape)} does not fit input ${fmtShape(x.shape)} along dim ${dim}`);
  }
  checkIndex('gather', index, x.shape[d], `dim ${dim} of input ${fmtShape(x.shape)}`);
  return apply(GATHER, [x, index], { dim: d });
}

export const SCATTER_ADD = defineOp<[x: Tensor, index: Tensor, src: Tensor], { dim: number }, { index: Tensor }>({
  name: 'scatterAdd',
  forward: ([x, index, src], { dim }, save) => {
    const out = empty(x.shape, x.dtype, x.backend);
    x.backend.kernels.copy(x.kernelView(), out.kernelView());
    x.backend.kernels.scatterAdd(out.kernelView(), dim, index.kernelView(), src.kernelView());
    save('index', index);
    return out;
  },
  backward: (g, { saved: { index }, attrs: { dim }, needs }) => [needs[0] ? g : null, null, needs[2] ? gather(g, dim, index) : null],
  gradcheck: [{ inputs: [{ shape: [3, 4] }, { shape: [3, 2], int: { high: 4 } }, { shape: [3, 2] }], call: (x, i, s) => scatterAdd(x, 1, i, s) }],
});

/** x with src added at the positions `index` names along `dim` (out of place). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkIndexed('scatterAdd', x, index);
  checkTensor('scatterAdd', 'src', src);
  const d = normDim('scatterAdd', dim, x.ndim);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim || index.shape.some((s, i) => s > src.shape[i] || (i !== d && s > x.shape[i]))) {
    throw new ShapeError(`scatterAdd: index ${fmtShape(index.shape)}, src ${fmtShape(src.shape)} and input ${fmtShape(x.shape)} are incompatible along dim ${dim}`);
  }
  checkIndex('scatterAdd', index, x.shape[d], `dim ${dim} of input ${fmtShape(x.shape)}`);
  return tidy(() => apply(SCATTER_ADD, [x, index, cast(src, x.dtype)], { dim: d }));
}

export const INDEX_SELECT = defineOp<Indexed, { dim: number }, { index: Tensor }>({
  name: 'indexSelect',
  forward: ([x, index], { dim }, save) => {
    const shape = [...x.shape];
    shape[dim] = index.shape[0];
    const out = empty(shape, x.dtype, x.backend);
    x.backend.kernels.indexSelect(x.kernelView(), dim, index.kernelView(), out.kernelView());
    save('index', index);
    return out;
  },
  backward: (g, { saved: { index }, attrs: { dim }, inputs: [x] }) => [apply(INDEX_ADD, [g, index], { dim, shape: [...x.shape] }), null],
  gradcheck: [{ inputs: [{ shape: [4, 3] }, { shape: [5], int: { high: 4 } }], call: (x, i) => indexSelect(x, 0, i) }],
});

/** Zeros of `shape` with src's slices added at `index` along `dim`: the adjoint of indexSelect. */
const INDEX_ADD: OpDef<[src: Tensor, index: Tensor], { dim: number; shape: number[] }, { index: Tensor }> = defineOp<[src: Tensor, index: Tensor], { dim: number; shape: number[] }, { index: Tensor }>({
  name: 'indexAdd',
  forward: ([src, index], { dim, shape }, save) => {
    // The kernel writes every element (zero where no slice lands): no fill before it.
    const out = empty(shape, src.dtype, src.backend);
    src.backend.kernels.indexAdd(out.kernelView(), dim, index.kernelView(), src.kernelView(), true);
    save('index', index);
    return out;
  },
  backward: (g, { saved: { index }, attrs: { dim } }) => [indexSelect(g, dim, index), null],
  gradcheck: [{ inputs: [{ shape: [4, 3] }, { shape: [4], int: { high: 5 } }], call: (src, i) => apply(INDEX_ADD, [src, i], { dim: 0, shape: [5, 3] }) }],
});

/** The slices of x along `dim` picked by the 1-D int32 `index`. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexed('indexSelect', x, index);
  const d = normDim('indexSelect', dim, x.ndim);
  if (index.ndim !== 1) throw new ShapeError(`indexSelect: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  checkIndex('indexSelect', index, x.shape[d], `dim ${dim} of input ${fmtShape(x.shape)}`);
  return apply(INDEX_SELECT, [x, index], { dim: d });
}

/** Rows of `weight` [V, D] for each id: out shape [...ids.shape, D]. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  checkTensor('embedding', 'weight', weight);
  checkTensor('embedding', 'ids', ids);
  if (weight.ndim !== 2) throw new ShapeError(`embedding: weight must be [numEmbeddings, dim], got ${fmtShape(weight.shape)}`);
  if (ids.dtype !== 'int32') throw new DTypeError(`embedding: ids must be int32, got ${ids.dtype} (shape ${fmtShape(ids.shape)})`);
  checkIndex('embedding', ids, weight.shape[0], `an embedding table ${fmtShape(weight.shape)}`);
  return tidy(() => reshape(indexSelect(weight, 0, reshape(ids, [-1])), [...ids.shape, weight.shape[1]]));
}

/** One-hot encoding of int32 ids → int32 [...ids.shape, numClasses]. */
export function oneHot(ids: Tensor, numClasses: number): Tensor {
  checkTensor('oneHot', 'ids', ids);
  checkSize('oneHot', 'numClasses', numClasses, 1);
  checkNumel('oneHot', [...ids.shape, numClasses]);
  checkIndex('oneHot', ids, numClasses, 'numClasses');
  // A 1 added at [..., id] into zeros: the scatterAdd kernel checks each id, so a device that
  // cannot check them here (WebGPU) reports a bad one, as oneHot's, when the result is read.
  const build = () => tidy(() => {
    const at = ids.unsqueeze(-1);
    const ones = full(at.shape, 1, { dtype: 'int32', device: ids.device });
    return apply(SCATTER_ADD, [zerosOn([...ids.shape, numClasses], 'int32', ids.backend), at, ones], { dim: ids.ndim });
  });
  const b = ids.backend;
  return b.reportIndexErrorsAs ? b.reportIndexErrorsAs('oneHot', 'numClasses', build) : build();
}

/** This file's Tensor methods: `x.gather(d, i)` is `gather(x, d, i)`. */
export const INDEXING_METHODS = { gather, scatterAdd, indexSelect };
