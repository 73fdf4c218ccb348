// Unstructured pruning (torch.nn.utils.prune's l1_unstructured, random_unstructured and
// global_unstructured): individual entries go, chosen by magnitude (or at random), per parameter
// or across several parameters at once. As in PyTorch, pruning an already pruned parameter prunes
// `amount` of the entries that are still unpruned, and the new mask is the product with the old.
import { checkInt, checkTensor, fmtShape, seededRandom, shapesEqual, type Tensor } from '@webgrad/core';
import type { Module } from '@webgrad/nn';
import { checkAmount, countNonzero, lowestK, pruneCount, type AmountOptions } from './amount.js';
import { checkModule, checkPairs, checkParam, PruningError, readMask, setMask } from './masks.js';

/** Options of `l1Unstructured`: how much, and optionally scores to rank by instead of |weight|. */
export interface L1UnstructuredOptions extends AmountOptions {
  /** Scores of the parameter's shape; the lowest go (default: the weight's absolute values). */
  importanceScores?: Tensor;
}

/** Prune the `amount` (fraction) or `count` entries of `module[name]` of smallest |value|
 *  (torch's `prune.l1_unstructured`). Ties: the lower flat index goes first. Returns the module. */
export async function l1Unstructured(module: Module, name: string, opts: L1UnstructuredOptions): Promise<Module> {
  const op = 'l1Unstructured';
  checkModule(op, 'module', module);
  const p = checkParam(op, module, name);
  const amount = checkAmount(op, opts, ['importanceScores']);
  const scoresT = opts.importanceScores;
  if (scoresT !== undefined) {
    checkTensor(op, 'importanceScores', scoresT);
    if (!shapesEqual(scoresT.shape, p.shape)) throw new PruningError(`${op}: importanceScores has shape ${fmtShape(scoresT.shape)}, parameter '${name}' has ${fmtShape(p.shape)}`);
  }
  const scores = Float64Array.from(await (scoresT ?? p).data(), Math.abs);
  await pruneByScores(op, module, name, p, scores, amount);
  return module;
}

/** Options of `randomUnstructured`. */
export interface RandomUnstructuredOptions extends AmountOptions {
  /** Seed of the draw (default 0): the same seed prunes the same entries. */
  seed?: number;
}

/** Prune `amount` (fraction) or `count` entries of `module[name]` chosen uniformly at random
 *  among the unpruned ones (torch's `prune.random_unstructured`, seeded). Returns the module. */
export async function randomUnstructured(module: Module, name: string, opts: RandomUnstructuredOptions): Promise<Module> {
  const op = 'randomUnstructured';
  checkModule(op, 'module', module);
  const p = checkParam(op, module, name);
  const amount = checkAmount(op, opts, ['seed']);
  const rand = seededRandom(checkInt(op, 'seed', opts.seed === undefined ? 0 : opts.seed, { min: 0, max: 2 ** 32 - 1 }));
  const scores = new Float64Array(p.size);
  for (let i = 0; i < scores.length; i++) scores[i] = rand();
  await pruneByScores(op, module, name, p, scores, amount);
  return module;
}

async function pruneByScores(op: string, module: Module, name: string, p: Tensor, scores: Float64Array, amount: ReturnType<typeof checkAmount>): Promise<void> {
  const mask = await readMask(module, name, p);
  const available = countNonzero(mask);
  const k = pruneCount(op, amount, available, `entries of '${name}'`);
  for (const i of lowestK(scores, mask, k)) mask[i] = 0;
  setMask(module, name, p, mask);
}

/**
 * Prune the `amount` (fraction) or `count` entries of smallest |value| across every listed
 * parameter together (torch's `prune.global_unstructured` with L1Unstructured): one threshold
 * for all, so layers end up with different sparsities. Ties: earlier in the list, then lower
 * flat index, goes first. `params` is a list of [module, parameterName].
 */
export async function globalUnstructured(params: readonly (readonly [Module, string])[], opts: AmountOptions): Promise<void> {
  const op = 'globalUnstructured';
  const pairs = checkPairs(op, 'params', params);
  const amount = checkAmount(op, opts);
  const masks = await Promise.all(pairs.map(([m, n, p]) => readMask(m, n, p)));
  const values = await Promise.all(pairs.map(([, , p]) => p.data()));
  const total = pairs.reduce((s, [, , p]) => s + p.size, 0);
  const scores = new Float64Array(total);
  const eligible = new Uint8Array(total);
  let at = 0;
  pairs.forEach((_, j) => {
    const v = values[j]!, m = masks[j]!;
    for (let i = 0; i < v.length; i++) { scores[at + i] = Math.abs(v[i]!); eligible[at + i] = m[i] !== 0 ? 1 : 0; }
    at += v.length;
  });
  const available = eligible.reduce((s, e) => s + e, 0);
  const k = pruneCount(op, amount, available, 'entries of the listed parameters');
  const offsets = pairs.map((_, j) => pairs.slice(0, j).reduce((s, [, , p]) => s + p.size, 0));
  for (const g of lowestK(scores, eligible, k)) {
    let j = offsets.length - 1;
    while (offsets[j]! > g) j--;
    masks[j]![g - offsets[j]!] = 0;
  }
  pairs.forEach(([m, n, p], j) => setMask(m, n, p, masks[j]!));
}
