// What the autograd graph keeps alive. Every op saves only what its backward reads: generated over
// the op table, each saved tensor of the op under test is replaced, as its backward reads it, by a
// poisoned copy (NaN, or an out-of-range index); a gradient that comes out unchanged means the
// tensor was kept for nothing. And the bytes a GPT's graph holds after forward are measured.
import { afterEach, describe, expect, it } from 'vitest';
import {
  OP_TABLE, full, gradients, logicalNot, manualSeed, memory, noGrad, randint, tidy, type Tensor,
} from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { setUnpackHook } from '../src/autograd/node.js';
import { drawSample } from './helpers.js';

const samples = [...OP_TABLE.values()].flatMap((def) => (def.gradcheck ?? []).map((s, i) => ({ op: def.name, s, i })));

/** Two replacements for a saved tensor: NaN (or an out-of-range index, or the negation of a mask), and a shifted mirror image (comparisons flip). */
function poisoned(t: Tensor, kind: number): Tensor {
  return noGrad(() => {
    if (t.dtype === 'bool') return logicalNot(t);
    if (t.dtype === 'int32') return full([...t.shape], kind === 0 ? -7 : 1 << 20, { dtype: t.dtype, device: t.device });
    return kind === 0 ? full([...t.shape], NaN, { dtype: t.dtype, device: t.device }) : t.mul(-1).add(0.37);
  });
}

const sameArrays = (a: number[][], b: number[][]) =>
  a.length === b.length && a.every((x, i) => x.length === b[i]!.length && x.every((v, j) => Object.is(v, b[i]![j])));

afterEach(() => setUnpackHook(null));

describe('every saved tensor is read by its backward', () => {
  for (const { op, s, i } of samples) {
    it(`${op}${s.label ? ` (${s.label})` : ` #${i}`}`, () => {
      const xs = s.inputs.map((spec, k) => drawSample(spec, 1000 * (i + 1) + 17 * k + op.length));
      const targets = xs.filter((_, k) => !s.inputs[k]!.int && !s.inputs[k]!.constant);
      for (const x of targets) x.requiresGrad_(true);
      const w = tidy(() => drawSample({ shape: [...noGrad(() => s.call(...xs)).shape] }, 7));

      let slots = 0;
      const grads = (poison: number | null, kind = 0): number[][] | 'threw' => {
        const made: Tensor[] = [];
        setUnpackHook((name, k, t) => {
          if (name !== op) return t;
          slots = Math.max(slots, k + 1);
          if (k !== poison) return t;
          const p = poisoned(t, kind);
          made.push(p);
          return p;
        });
        try {
          return tidy(() => {
            const gs = gradients(s.call(...xs).mul(w).sum(), targets, { allowUnused: true });
            const out = gs.map((g) => (g ? Array.from(g.dataSync(), Number) : []));
            for (const g of gs) g?.dispose();
            return out;
          });
        } catch {
          return 'threw';
        } finally {
          setUnpackHook(null);
          for (const p of made) p.dispose();
        }
      };

      const clean = grads(null);
      expect(clean).not.toBe('threw');
      for (let k = 0; k < slots; k++) {
        const read = [0, 1].some((kind) => {
          const got = grads(k, kind);
          return got === 'threw' || !sameArrays(got, clean as number[][]);
        });
        expect(read, `${op}: saved tensor ${k} is kept but its backward never reads it`).toBe(true);
      }
      for (const t of [...xs, w]) t.dispose();
    });
  }

  it('add and sub save nothing; mul saves only the factor the other side needs', () => {
    const before = memory().tensors;
    tidy(() => {
      const x = drawSample({ shape: [4] }, 1).requiresGrad_(true);
      const c = drawSample({ shape: [4] }, 2);
      expect(x.add(c).gradFn!.savedCount).toBe(0);
      expect(x.sub(c).gradFn!.savedCount).toBe(0);
      expect(x.mul(c).gradFn!.savedCount).toBe(1);
      expect(x.mul(x).gradFn!.savedCount).toBe(2);
      expect(x.add(1).gradFn!.savedCount).toBe(0);
      expect(x.mul(3).gradFn!.savedCount).toBe(0);
      const x2 = drawSample({ shape: [3, 4] }, 3).requiresGrad_(true);
      const m = drawSample({ shape: [4, 2] }, 4);
      expect(x2.matmul(m).gradFn!.op).toBe('matmul');
      expect(x2.matmul(m).gradFn!.savedCount).toBe(1); // m only: x2's own value is read by m's gradient, which is not wanted
      x.dispose(); x2.dispose();
    });
    expect(memory().tensors).toBe(before);
  });
});

describe('memory held by a graph', () => {
  // Bytes a 4-layer, 128-wide GPT's graph holds after forward (batch 4 × 64 tokens, cpu), measured
  // with every binary op keeping both operands and matmul both factors, and with each keeping what
  // its backward reads: 9.97 → 8.75 MB, and with dropout 0.1 (whose masks multiply) 13.5 → 9.93 MB.
  // What remains is the activations a backward needs (per block: both norms' inputs and outputs,
  // qkv, the attention output, the MLP's 4C-wide input and output).
  for (const [dropout, limit] of [[0, 9.0e6], [0.1, 10.2e6]] as const) {
    it(`a GPT's graph holds its activations and no more (dropout ${dropout})`, () => {
      manualSeed(0);
      const model = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, bias: false, dropout });
      const idx = randint(0, 65, [4, 64]);
      const targets = randint(0, 65, [4, 64]);
      const before = memory().bytes;
      const { logits, loss } = model.forward(idx, targets);
      expect(memory().bytes - before).toBeLessThan(limit);
      loss!.backward();
      for (const t of [logits, loss!]) t.dispose();
      expect(memory().bytes - before, 'backward frees what the graph held').toBeLessThanOrEqual(
        model.parameters().reduce((n, p) => n + (p.grad ? p.grad.size * 4 : 0), 0));
      for (const t of [idx, targets]) t.dispose();
      for (const p of model.parameters()) { p.grad?.dispose(); p.grad = null; }
    });
  }
});
