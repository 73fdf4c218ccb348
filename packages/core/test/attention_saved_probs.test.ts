// Attention that keeps its probabilities for the backward (the backend's `attentionSavesProbs`,
// WebGPU's matmul path up to 2^22 scores): the gradients equal those of the backward that recomputes
// P from q, k and lse — bit for bit with float32 storage, where the recompute runs the forward's own
// arithmetic; with 16-bit storage the recompute reads lse rounded to 16 bits, so within rounding —
// on odd shapes, Tq ≠ Tk both ways, length 1, causal (with fully masked rows), additive and bool
// masks, and the packed op. The backward then issues one matmul and one `attention.probs` fewer, P
// is released with the graph (or kept for a retained one, and read again unchanged), and
// `checkpoint` and `compile` give the eager gradients. The cpu device does not keep P.
import { describe, expect, it } from 'vitest';
import {
  checkpoint, compile, getBackend, hasDevice, memory, packedSelfAttention, scaledDotProductAttention, tensor, webgpuRuntime,
  type DType, type Tensor,
} from '@webgrad/core';
import { randomArray } from './helpers.js';

type SavesProbs = (B: number, H: number, Tq: number, Tk: number) => boolean;
interface ProbsKernels { attentionSavesProbs?: SavesProbs }

/** Runs `f` with the webgpu kernels' `attentionSavesProbs` replaced by `fn` (undefined: as it is). */
function withSaves<T>(fn: SavesProbs | undefined, f: () => T): T {
  const kernels = getBackend('webgpu').kernels as ProbsKernels;
  const orig = kernels.attentionSavesProbs;
  if (fn) kernels.attentionSavesProbs = fn;
  try { return f(); } finally { kernels.attentionSavesProbs = orig; }
}
const never: SavesProbs = () => false;

/** Dispatch labels issued while `f` runs. */
function dispatches(f: () => void): Map<string, number> {
  const rt = webgpuRuntime()!;
  const seen = new Map<string, number>();
  const orig = rt.dispatch.bind(rt);
  (rt as { dispatch: typeof rt.dispatch }).dispatch = (p, b, u, w, label) => {
    const k = label ?? p.key;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    orig(p, b, u, w, label);
  };
  try { f(); } finally { (rt as { dispatch: typeof rt.dispatch }).dispatch = orig; }
  return seen;
}
const count = (m: Map<string, number>, re: RegExp) => [...m].filter(([k]) => re.test(k)).reduce((s, [, n]) => s + n, 0);

interface Case {
  name: string; B: number; H: number; Tq: number; Tk: number; D: number; Dv?: number;
  causal?: boolean; mask?: 'additive' | 'bool'; dtype?: DType;
}

const CASES: Case[] = [
  { name: 'Tq < Tk, odd sizes', B: 2, H: 3, Tq: 5, Tk: 7, D: 3 },
  { name: 'length 1', B: 1, H: 1, Tq: 1, Tk: 1, D: 1 },
  { name: 'one query, Dv ≠ D', B: 3, H: 1, Tq: 1, Tk: 6, D: 5, Dv: 2 },
  { name: 'causal, Tq > Tk (fully masked rows)', B: 1, H: 2, Tq: 7, Tk: 4, D: 3, causal: true },
  { name: 'causal, Tq < Tk', B: 2, H: 1, Tq: 4, Tk: 9, D: 4, causal: true },
  { name: 'additive mask with -∞ entries', B: 2, H: 2, Tq: 3, Tk: 5, D: 3, mask: 'additive' },
  { name: 'bool mask, causal', B: 1, H: 3, Tq: 6, Tk: 6, D: 2, mask: 'bool', causal: true },
  { name: 'float16, causal', B: 2, H: 2, Tq: 5, Tk: 5, D: 4, causal: true, dtype: 'float16' },
  { name: 'bfloat16, masked, Tq > Tk', B: 1, H: 2, Tq: 6, Tk: 3, D: 3, mask: 'additive', dtype: 'bfloat16' },
];

interface Run { out: number[]; dq: number[]; dk: number[]; dv: number[]; backward: Map<string, number> }

/** Forward (under `saves`), then backward of Σ out·w; values as float32 numbers. */
async function run(c: Case, saves: SavesProbs | undefined, seed: number): Promise<Run> {
  const device = 'webgpu', dtype = c.dtype ?? 'float32', Dv = c.Dv ?? c.D;
  const make = (shape: number[], s: number) => tensor(randomArray(shape.reduce((a, b) => a * b, 1), s), { shape, device, dtype });
  const q = make([c.B, c.H, c.Tq, c.D], seed).requiresGrad_();
  const k = make([c.B, c.H, c.Tk, c.D], seed + 1).requiresGrad_();
  const v = make([c.B, c.H, c.Tk, Dv], seed + 2).requiresGrad_();
  const w = make([c.B, c.H, c.Tq, Dv], seed + 3);
  const maskData = randomArray(c.Tq * c.Tk, seed + 4).map((x, i) => (i % 4 === 1 || (i >= c.Tk && i < 2 * c.Tk) ? -Infinity : x));
  const mask = c.mask === 'additive' ? tensor(maskData, { shape: [1, 1, c.Tq, c.Tk], device, dtype })
    : c.mask === 'bool' ? tensor(maskData.map((x) => x > -0.5), { shape: [c.Tq, c.Tk], device }) : null;
  const out = withSaves(saves, () => scaledDotProductAttention(q, k, v, { mask, isCausal: c.causal ?? false }));
  const loss = out.mul(w).sum();
  const backward = dispatches(() => loss.backward());
  const data = async (t: Tensor) => Array.from(await t.float().data());
  const r = { out: await data(out), dq: await data(q.grad!), dk: await data(k.grad!), dv: await data(v.grad!), backward };
  for (const t of [q, k, v, w, mask, out, loss, q.grad, k.grad, v.grad]) t?.dispose();
  return r;
}

/** Element-wise equal (Object.is) with tol = 0, else within tol·(1 + |want|). */
function same(got: number[], want: number[], what: string, tol: number): void {
  expect(got.length, `${what} size`).toBe(want.length);
  const i = want.findIndex((w, j) => (tol === 0 ? !Object.is(w, got[j]) : !(Math.abs(w - got[j]!) <= tol * (1 + Math.abs(w)))));
  expect(i, `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBe(-1);
}

describe.runIf(hasDevice('webgpu'))('attention keeps P for the backward on webgpu', () => {
  CASES.forEach((c, n) => {
    it(`${c.name}: the gradients with the saved P equal the recomputing backward's, with 2 dispatches fewer`, async () => {
      const saved = await run(c, undefined, 10 * n + 1);
      const recomputed = await run(c, never, 10 * n + 1);
      // 16-bit: P from an lse rounded to 8 (bfloat16) or 11 (float16) bits against the exact one.
      const tol = c.dtype === 'bfloat16' ? 3e-2 : c.dtype === 'float16' ? 4e-3 : 0;
      same(saved.out, recomputed.out, 'out', 0);
      for (const g of ['dq', 'dk', 'dv'] as const) same(saved[g], recomputed[g], g, tol);
      expect(count(recomputed.backward, /^attention\.probs/)).toBe(1);
      expect(count(saved.backward, /^attention\.probs/)).toBe(0);
      expect(count(saved.backward, /^matmul/)).toBe(count(recomputed.backward, /^matmul/) - 1);
      expect(count(saved.backward, /^attention\.ds/)).toBe(1);
    });
  });

  it('packedSelfAttention (causal and masked): the same gradients with the saved P', async () => {
    for (const [i, mask] of [null, 'additive'].entries()) {
      const grads = async (saves: SavesProbs | undefined) => {
        const x = tensor(randomArray(2 * 5 * 18, 40 + i), { shape: [2, 5, 18], device: 'webgpu' }).requiresGrad_();
        const m = mask ? tensor(randomArray(2 * 5, 50).map((z, j) => (j % 5 === 3 ? -Infinity : z)), { shape: [2, 1, 1, 5], device: 'webgpu' }) : null;
        const y = withSaves(saves, () => packedSelfAttention(x, 3, { isCausal: !mask, mask: m }));
        const loss = y.mul(y).sum();
        const backward = dispatches(() => loss.backward());
        const r = { y: Array.from(await y.data()), dx: Array.from(await x.grad!.data()), backward };
        for (const t of [x, m, y, loss, x.grad]) t?.dispose();
        return r;
      };
      const a = await grads(undefined), b = await grads(never);
      same(a.y, b.y, 'y', 0);
      same(a.dx, b.dx, 'dx', 0);
      expect(count(a.backward, /^attention\.probs/)).toBe(0);
      expect(count(b.backward, /^attention\.probs/)).toBe(1);
    }
  });

  it('keeps P exactly where the backend says so for (B, H, Tq, Tk), and only when a gradient is wanted', () => {
    const asked: number[][] = [];
    const q = tensor(randomArray(2 * 3 * 4 * 5, 7), { shape: [2, 3, 4, 5], device: 'webgpu' });
    const k = tensor(randomArray(2 * 3 * 6 * 5, 8), { shape: [2, 3, 6, 5], device: 'webgpu' });
    const live = (saves: SavesProbs, grad: boolean) => {
      q.requiresGrad_(grad);
      const before = memory().devices.webgpu!.bytes;
      const out = withSaves((...a) => { asked.push(a); return saves(...a); }, () => scaledDotProductAttention(q, k, k));
      const held = memory().devices.webgpu!.bytes - before;
      out.dispose();
      return held;
    };
    const P = 2 * 3 * 4 * 6 * 4, O = 2 * 3 * 4 * 5 * 4;
    const withP = live(() => true, true), withoutP = live(never, true);
    expect(asked).toEqual([[2, 3, 4, 6], [2, 3, 4, 6]]);
    expect(withP - withoutP).toBeGreaterThanOrEqual(P);
    expect(withoutP).toBeGreaterThanOrEqual(O);
    asked.length = 0;
    expect(live(() => true, false)).toBe(O); // no gradient wanted: only the output is held, and nothing asked
    expect(asked).toEqual([]);
    q.dispose(); k.dispose();
  });

  it('P is released after the backward (memory() back where it was), and a retained graph reads it again unchanged', async () => {
    const q = tensor(randomArray(2 * 2 * 5 * 3, 60), { shape: [2, 2, 5, 3], device: 'webgpu' }).requiresGrad_();
    const k = tensor(randomArray(2 * 2 * 7 * 3, 61), { shape: [2, 2, 7, 3], device: 'webgpu' }).requiresGrad_();
    const before = memory();
    for (const retain of [false, true]) {
      const out = scaledDotProductAttention(q, k, k, { isCausal: true });
      const sq = out.square(), loss = sq.sum();
      loss.backward(undefined, { retainGraph: retain });
      const once = Array.from(await q.grad!.data());
      if (retain) {
        loss.backward();
        same(Array.from(await q.grad!.data()), once.map((x) => x + x), 'dq after a second backward', 0);
      }
      for (const t of [out, sq, loss, q.grad, k.grad]) t?.dispose();
      q.grad = null; k.grad = null;
      const after = memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.devices.webgpu!.bytes).toBe(before.devices.webgpu!.bytes);
    }
    q.dispose(); k.dispose();
  });

  it('checkpoint() and compile() give the eager gradients with P saved', async () => {
    const make = (s: number) => tensor(randomArray(2 * 2 * 6 * 4, s), { shape: [2, 2, 6, 4], device: 'webgpu' }).requiresGrad_();
    const q = make(70), k = make(71), v = make(72);
    const attend = (a: Tensor, b: Tensor, c: Tensor) => scaledDotProductAttention(a, b, c, { isCausal: true }).tanh();
    const grads = async (step: () => Tensor) => {
      const loss = step();
      const r = [...await Promise.all([loss, q.grad!, k.grad!, v.grad!].map(async (t) => Array.from(await t.data())))];
      for (const t of [loss, q.grad, k.grad, v.grad]) t?.dispose();
      q.grad = null; k.grad = null; v.grad = null;
      return r;
    };
    const eagerStep = () => { const l = attend(q, k, v).sum(); l.backward(); return l; };
    const eager = await grads(eagerStep);
    const checkpointed = await grads(() => { const l = checkpoint(attend, q, k, v).sum(); l.backward(); return l; });
    eager.forEach((e, i) => same(checkpointed[i]!, e, `checkpoint ${i}`, 0));
    const step = compile(eagerStep);
    for (let i = 0; i < 4; i++) {
      const compiled = await grads(step);
      eager.forEach((e, j) => same(compiled[j]!, e, `compiled step ${i}, ${j}`, 0));
    }
    expect(step.stats()).toMatchObject({ fallbacks: 0 });
    expect(step.stats().replays).toBeGreaterThan(0);
    q.dispose(); k.dispose(); v.dispose();
  });
});

describe('attention on the cpu device', () => {
  it('has no saved-P kernel: its backward recomputes P as it always has', () => {
    expect((getBackend('cpu').kernels as ProbsKernels).attentionSavesProbs).toBeUndefined();
  });
});
