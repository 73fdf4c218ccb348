// N:M semi-structured sparsity (2:4 by default, what NVIDIA's sparse tensor cores run; Mishra et
// al. 2021, "Accelerating Sparse Deep Neural Networks"): in every group of M consecutive weights
// along the input dim, at most N are nonzero — here the N of largest magnitude are kept.
//
// Groups: for a Linear weight [out, in] the input dim is 1, so a group is M neighbours in a row;
// for a Conv2d weight [out, in, kh, kw] (dim 1 as well) a group is M consecutive input channels at
// one (out, kh, kw) position, as NVIDIA's ASP groups them. On a contiguous weight read to the
// host, the entries of a group along `dim` are `stride` apart, stride = product of sizes after dim.
import { checkDim, checkOptions, checkSize, checkTensor, fmtShape, type Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import { lowestK } from './amount.js';
import { checkModule, checkParam, PruningError, readMask, setMask } from './masks.js';

/** N and M of an N:M pattern and the dim its groups run along. */
export interface NMOptions {
  /** Nonzeros kept per group (default 2). */
  n?: number;
  /** Group size (default 4). */
  m?: number;
  /** The dim along which groups of M run (default 1, the input dim of Linear and Conv weights; 0 for a vector). */
  dim?: number;
}

function checkNM(op: string, shape: readonly number[], opts: NMOptions, what: string): { n: number; m: number; dim: number } {
  checkOptions(op, opts, ['n', 'm', 'dim']);
  const n = checkSize(op, 'n', opts.n === undefined ? 2 : opts.n);
  const m = checkSize(op, 'm', opts.m === undefined ? 4 : opts.m, 1);
  if (n > m) throw new PruningError(`${op}: n (${n}) must be <= m (${m}): a group of ${m} cannot keep ${n}`);
  if (shape.length === 0) throw new PruningError(`${op}: ${what} is a scalar; N:M groups need at least one dim`);
  const dim = checkDim(op, 'dim', opts.dim === undefined ? (shape.length >= 2 ? 1 : 0) : opts.dim, shape.length);
  if (shape[dim]! % m !== 0) throw new PruningError(`${op}: ${what} has shape ${fmtShape(shape)}; its size ${shape[dim]} along dim ${dim} is not a multiple of m = ${m}`);
  return { n, m, dim };
}

/** Calls `fn(indices)` with the flat indices of every group of M (contiguous layout of `shape`). */
function forEachGroup(shape: readonly number[], dim: number, m: number, fn: (idx: number[]) => void): void {
  const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, dim).reduce((a, b) => a * b, 1);
  const size = shape[dim]!;
  const idx = new Array<number>(m);
  for (let o = 0; o < outer; o++) {
    for (let g = 0; g < size; g += m) {
      for (let s = 0; s < stride; s++) {
        const base = (o * size + g) * stride + s;
        for (let j = 0; j < m; j++) idx[j] = base + j * stride;
        fn(idx);
      }
    }
  }
}

/**
 * Prune `module[name]` to the N:M pattern: in each group of M along `dim` keep the N entries of
 * largest |value| that are still unpruned (entries already masked go first; among equal
 * magnitudes the lower index goes first). The new mask is the product with any old one.
 */
export async function nmStructured(module: Module, name: string, opts: NMOptions = {}): Promise<Module> {
  const op = 'nmStructured';
  checkModule(op, 'module', module);
  const p = checkParam(op, module, name);
  const { n, m, dim } = checkNM(op, p.shape, opts, `parameter '${name}'`);
  const mask = await readMask(module, name, p);
  const values = await p.data();
  const scores = new Float64Array(m);
  const all = new Uint8Array(m).fill(1);
  forEachGroup(p.shape, dim, m, (idx) => {
    idx.forEach((i, j) => { scores[j] = mask[i] === 0 ? -1 : Math.abs(values[i]!); });
    for (const j of lowestK(scores, all, m - n)) mask[idx[j]!] = 0;
  });
  setMask(module, name, p, mask);
  return module;
}

/** Whether `t` (a weight or a mask) has at most N nonzeros in every group of M along `dim`. */
export async function satisfiesNM(t: Tensor, opts: NMOptions = {}): Promise<boolean> {
  const op = 'satisfiesNM';
  checkTensor(op, 't', t);
  const { n, m, dim } = checkNM(op, t.shape, opts, 't');
  const v = await t.data();
  let ok = true;
  forEachGroup(t.shape, dim, m, (idx) => {
    if (ok && idx.reduce((c, i) => c + (v[i] !== 0 ? 1 : 0), 0) > n) ok = false;
  });
  return ok;
}
