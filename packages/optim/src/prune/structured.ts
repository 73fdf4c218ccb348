// Structured pruning: whole slices along one dim go, ranked by their Ln norm (torch's
// `prune.ln_structured`). Along dim 0 of a Linear weight [out, in] a slice is an output neuron
// (a row), along dim 1 an input feature (a column); along dim 0 of a Conv2d weight
// [out, in, kh, kw] it is a filter. `pruneChannels` also masks the bias entries of the pruned
// output channels, so a pruned neuron or filter outputs exactly zero.
//
// Layout: a contiguous weight read to the host, entry i lies in slice ⌊i / inner⌋ mod size(dim),
// where inner is the product of the sizes after `dim`.
import { checkDim, checkNumber, fmtValue, type Tensor, type TypedArray } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import { checkAmount, lowestK, pruneCount, type Amount, type AmountOptions } from './amount.js';
import { checkModule, checkParam, getMask, PruningError, readMask, setMask } from './masks.js';

/** Options of `lnStructured`: how much, the norm order and the dim whose slices are pruned. */
export interface LnStructuredOptions extends AmountOptions {
  /** Order of the norm: a number > 0 or Infinity (default 2). */
  n?: number;
  /** The dim whose slices are pruned (negative counts from the end). */
  dim: number;
}

/** Which slice along `dim` each flat index of a contiguous `shape` belongs to. */
export function sliceOf(shape: readonly number[], dim: number): (i: number) => number {
  const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const size = shape[dim]!;
  return (i) => Math.floor(i / inner) % size;
}

/** Ln norm of each slice along `dim` of `values` (a contiguous tensor of `shape`). */
export function sliceNorms(values: ArrayLike<number>, shape: readonly number[], dim: number, n: number): Float64Array {
  const slice = sliceOf(shape, dim);
  const acc = new Float64Array(shape[dim]!);
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    const c = slice(i);
    acc[c] = n === Infinity ? Math.max(acc[c]!, a) : acc[c]! + a ** n;
  }
  return n === Infinity ? acc : acc.map((s) => s ** (1 / n));
}

/** Slices along `dim` with at least one unpruned entry. */
export function liveSlices(mask: ArrayLike<number>, shape: readonly number[], dim: number): Uint8Array {
  const slice = sliceOf(shape, dim);
  const live = new Uint8Array(shape[dim]!);
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) live[slice(i)] = 1;
  return live;
}

/** Zero every entry of `mask` that lies in a slice listed in `gone`. */
export function dropSlices(mask: TypedArray, shape: readonly number[], dim: number, gone: Iterable<number>): void {
  const drop = new Uint8Array(shape[dim]!);
  for (const c of gone) drop[c] = 1;
  const slice = sliceOf(shape, dim);
  for (let i = 0; i < mask.length; i++) if (drop[slice(i)]) mask[i] = 0;
}

export function checkNormOrder(op: string, n: unknown): number {
  const v = checkNumber(op, 'n', n);
  if (!(v > 0)) throw new PruningError(`${op}: n (the norm order) must be a number > 0 or Infinity, got ${fmtValue(n)}`);
  return v;
}

/** Slices of `p` along `dim` to prune now: the k of smallest norm among those still live. */
async function slicesToPrune(op: string, module: Module, name: string, p: Tensor, dim: number, n: number, amount: Amount): Promise<{ mask: TypedArray; gone: number[] }> {
  const mask = await readMask(module, name, p);
  const norms = sliceNorms(await p.data(), p.shape, dim, n);
  const live = liveSlices(mask, p.shape, dim);
  const k = pruneCount(op, amount, live.reduce((s, e) => s + e, 0), `slices of '${name}' along dim ${dim}`);
  return { mask, gone: lowestK(norms, live, k) };
}

/**
 * Prune the `amount` (fraction) or `count` slices along `dim` of `module[name]` with the smallest
 * Ln norm (torch's `prune.ln_structured`), counted among slices not yet wholly pruned. Ties: the
 * lower index goes first. Returns the module.
 */
export async function lnStructured(module: Module, name: string, opts: LnStructuredOptions): Promise<Module> {
  const op = 'lnStructured';
  checkModule(op, 'module', module);
  const p = checkParam(op, module, name);
  const amount = checkAmount(op, opts, ['n', 'dim']);
  const n = checkNormOrder(op, opts.n === undefined ? 2 : opts.n);
  if (p.ndim === 0) throw new PruningError(`${op}: parameter '${name}' is a scalar; it has no slices to prune`);
  const dim = checkDim(op, 'dim', opts.dim, p.ndim);
  const { mask, gone } = await slicesToPrune(op, module, name, p, dim, n, amount);
  dropSlices(mask, p.shape, dim, gone);
  setMask(module, name, p, mask);
  return module;
}

/** Options of `pruneChannels`. */
export interface PruneChannelsOptions extends AmountOptions {
  /** Order of the norm ranking the channels (default 2). */
  n?: number;
}

/**
 * Prune whole output channels of a layer with a `weight` whose dim 0 is its output (Linear
 * neurons, Conv1d/Conv2d filters) by the Ln norm of their weights, counted among the channels not
 * yet wholly masked, and mask the `bias` entries of every wholly masked channel. Returns every
 * output channel whose weights are now all masked, ascending (those pruned before included).
 */
export async function pruneChannels(module: Module, opts: PruneChannelsOptions): Promise<number[]> {
  const op = 'pruneChannels';
  checkModule(op, 'module', module);
  if (!module.getParameter('weight')) throw new PruningError(`${op}: module (${module.constructor.name}) has no 'weight' parameter whose dim 0 is its output channels`);
  const p = checkParam(op, module, 'weight');
  const amount = checkAmount(op, opts, ['n']);
  const n = checkNormOrder(op, opts.n === undefined ? 2 : opts.n);
  if (p.ndim < 2) throw new PruningError(`${op}: ${module.constructor.name}.weight has shape [${p.shape.join(', ')}]; channels need a weight of rank >= 2 (output channels first)`);
  const bias = module.getParameter('bias');
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== p.shape[0])) throw new PruningError(`${op}: ${module.constructor.name}.bias has shape [${bias.shape.join(', ')}], not [${p.shape[0]}] (one entry per output channel)`);
  const { mask, gone } = await slicesToPrune(op, module, 'weight', p, 0, n, amount);
  dropSlices(mask, p.shape, 0, gone);
  setMask(module, 'weight', p, mask);
  const dead = [...liveSlices(mask, p.shape, 0)].flatMap((live, c) => (live ? [] : [c]));
  if (bias) {
    const bm = await readMask(module, 'bias', bias);
    for (const c of dead) bm[c] = 0;
    if (dead.length > 0 || getMask(module, 'bias')) setMask(module, 'bias', bias, bm);
  }
  return dead;
}
