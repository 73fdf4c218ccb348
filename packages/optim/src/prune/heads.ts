// Attention-head pruning (Michel et al. 2019, "Are Sixteen Heads Really Better than One?"): a
// pruned head's query, key and value projections and its slice of the output projection are
// masked, so it adds exactly nothing to the layer's output.
//
// Layout, for E = embedding width, H heads of D = E/H: the packed input projection is [3E, E]
// with rows q (0..E), k (E..2E), v (2E..3E), and head h owns rows s·E + h·D .. s·E + (h+1)·D of
// each part s (and those bias entries); the output projection [E, E] reads head h from columns
// h·D .. (h+1)·D. MultiheadAttention packs them as inProjWeight/inProjBias and outProj;
// the GPT's CausalSelfAttention as cAttn (a Linear) and cProj.
import { checkInt, checkOptions, fmtValue, type Tensor, type TypedArray } from '@webgrad/core';
import { CausalSelfAttention, MultiheadAttention, type Module } from '@webgrad/nn';
import { checkAmount, lowestK, pruneCount } from './amount.js';
import { checkModule, getMask, PruningError, readMask, setMask } from './masks.js';
import { checkNormOrder } from './structured.js';

/** Options of `pruneHeads`: exactly one of `amount`, `count` or `heads`. */
export interface PruneHeadsOptions {
  /** Fraction in [0, 1] of the unpruned heads to prune, those of lowest score. */
  amount?: number;
  /** Number of unpruned heads to prune, those of lowest score. */
  count?: number;
  /** The heads to prune, by index. */
  heads?: readonly number[];
  /** One score per head (higher = more important; e.g. a gradient-based importance). Default:
   *  the Ln norm of each head's q/k/v rows and output-projection columns together. */
  scores?: readonly number[];
  /** Order of that norm (default 2). */
  n?: number;
}

interface HeadLayout {
  numHeads: number;
  embed: number;
  /** The packed projection [3E, E] and its bias, and the output projection [E, E]: module and parameter name. */
  inW: [Module, string];
  inB: [Module, string] | null;
  outW: [Module, string];
}

function layoutOf(op: string, attn: unknown): HeadLayout {
  if (attn instanceof MultiheadAttention) {
    return { numHeads: attn.numHeads, embed: attn.embedDim, inW: [attn, 'inProjWeight'], inB: attn.inProjBias ? [attn, 'inProjBias'] : null, outW: [attn.outProj, 'weight'] };
  }
  if (attn instanceof CausalSelfAttention) {
    return { numHeads: attn.nHead, embed: attn.nEmbd, inW: [attn.cAttn, 'weight'], inB: attn.cAttn.bias ? [attn.cAttn, 'bias'] : null, outW: [attn.cProj, 'weight'] };
  }
  checkModule(op, 'attn', attn);
  throw new PruningError(`${op}: attn must be a MultiheadAttention or a GPT CausalSelfAttention, got ${(attn as Module).constructor.name}`);
}

const param = ([m, n]: [Module, string]): Tensor => m.getParameter(n)!;

/** The head of flat entry i of the [3E, E] projection (row-major): its row within its q, k or v part. */
const inHead = (E: number, D: number) => (i: number): number => Math.floor((Math.floor(i / E) % E) / D);
/** The head of flat entry i of the [E, E] output projection (its column). */
const outHead = (E: number, D: number) => (i: number): number => Math.floor((i % E) / D);
/** The head of entry i of the [3E] bias. */
const biasHead = (E: number, D: number) => (i: number): number => Math.floor((i % E) / D);

/**
 * Prune whole attention heads of a MultiheadAttention or a GPT attention layer: the heads given,
 * or the `amount`/`count` unpruned heads of lowest score. A head counts as pruned when all of its
 * output-projection columns are masked. Returns every pruned head of the layer, ascending.
 */
export async function pruneHeads(attn: Module, opts: PruneHeadsOptions): Promise<number[]> {
  const op = 'pruneHeads';
  const L = layoutOf(op, attn);
  const H = L.numHeads, E = L.embed, D = E / H;
  checkOptions(op, opts, ['amount', 'count', 'heads', 'scores', 'n']);
  const given = [opts.amount, opts.count, opts.heads].filter((v) => v !== undefined).length;
  if (given !== 1) throw new PruningError(`${op}: give exactly one of amount, count or heads, got ${given}`);
  const n = checkNormOrder(op, opts.n === undefined ? 2 : opts.n);
  if (opts.scores !== undefined) {
    if (opts.heads !== undefined) throw new PruningError(`${op}: scores rank heads for amount or count; with heads the pruned heads are given`);
    if (!Array.isArray(opts.scores) || opts.scores.length !== H || !opts.scores.every((s) => typeof s === 'number' && Number.isFinite(s))) {
      throw new PruningError(`${op}: scores must be ${H} finite numbers (one per head), got ${fmtValue(opts.scores)}`);
    }
  }
  const wIn = param(L.inW), wOut = param(L.outW);
  const mIn = await readMask(...L.inW, wIn);
  const mOut = await readMask(...L.outW, wOut);
  const headIn = inHead(E, D), headOut = outHead(E, D);
  const live = new Uint8Array(H);
  for (let i = 0; i < mOut.length; i++) if (mOut[i] !== 0) live[headOut(i)] = 1;

  let gone: number[];
  if (opts.heads !== undefined) {
    if (!Array.isArray(opts.heads)) throw new PruningError(`${op}: heads must be an array of head indices, got ${fmtValue(opts.heads)}`);
    gone = opts.heads.map((h, i) => checkInt(op, `heads[${i}]`, h, { min: 0, max: H - 1 }));
  } else {
    const amount = checkAmount(op, { amount: opts.amount, count: opts.count });
    const k = pruneCount(op, amount, live.reduce((s, e) => s + e, 0), 'heads');
    let scores: ArrayLike<number>;
    if (opts.scores) scores = opts.scores;
    else {
      const acc = new Float64Array(H);
      const add = (h: number, v: number) => { const a = Math.abs(v); acc[h] = n === Infinity ? Math.max(acc[h]!, a) : acc[h]! + a ** n; };
      const vin = await wIn.data(), vout = await wOut.data();
      for (let i = 0; i < vin.length; i++) add(headIn(i), vin[i]!);
      for (let i = 0; i < vout.length; i++) add(headOut(i), vout[i]!);
      scores = n === Infinity ? acc : acc.map((s) => s ** (1 / n));
    }
    gone = lowestK(scores, live, k);
  }
  const drop = new Uint8Array(H);
  for (const h of gone) drop[h] = 1;
  const zero = (mask: TypedArray, head: (i: number) => number) => { for (let i = 0; i < mask.length; i++) if (drop[head(i)]) mask[i] = 0; };
  zero(mIn, headIn);
  zero(mOut, headOut);
  setMask(...L.inW, wIn, mIn);
  setMask(...L.outW, wOut, mOut);
  if (L.inB) {
    const b = param(L.inB);
    const mB = await readMask(...L.inB, b);
    zero(mB, biasHead(E, D));
    if (gone.length > 0 || getMask(...L.inB)) setMask(...L.inB, b, mB);
  }
  const all: number[] = [];
  for (let h = 0; h < H; h++) if (!live[h] || drop[h]) all.push(h);
  return all;
}

/** The heads of `attn` whose output-projection columns are all masked. */
export async function prunedHeads(attn: Module): Promise<number[]> {
  const L = layoutOf('prunedHeads', attn);
  const D = L.embed / L.numHeads;
  const m = getMask(...L.outW);
  if (!m) return [];
  const live = new Uint8Array(L.numHeads);
  const v = await m.data();
  const head = outHead(L.embed, D);
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) live[head(i)] = 1;
  return [...live.keys()].filter((h) => !live[h]);
}

