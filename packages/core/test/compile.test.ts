// compile(step): compiled calls give the eager values (trace, replay, fusion), and what a replay
// cannot repeat falls back to eager mode with one warning (a CompileError under fullgraph).
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CompileError, IndexError, checkpoint, compile, dropout, embedding, hostAction, manualSeed, memory, noGrad, notTraceable, randn, replayedCheck, tensor, tidy, type DeviceName, type Tensor,
} from '@webgrad/core';
import { expectClose, randomArray, testDevices } from './helpers.js';

afterEach(() => { vi.restoreAllMocks(); });

/** A linear least-squares model trained by hand-written SGD: the step the tests compile. */
function model(device: DeviceName) {
  const w = tensor(randomArray(12, 3), { shape: [4, 3], device }).requiresGrad_();
  const b = tensor(randomArray(3, 4), { shape: [3], device }).requiresGrad_();
  const step = (x: Tensor, y: Tensor): Tensor => {
    for (const p of [w, b]) { p.grad?.dispose(); p.grad = null; }
    const loss = x.matmul(w).add(b).sub(y).square().mean();
    loss.backward();
    noGrad(() => { w.sub_(w.grad!.mul(0.1)); b.sub_(b.grad!.mul(0.1)); });
    return loss;
  };
  return { w, b, step };
}

const batch = (i: number, device: DeviceName) => [
  tensor(randomArray(20, 10 + i), { shape: [5, 4], device }),
  tensor(randomArray(15, 30 + i), { shape: [5, 3], device }),
] as const;

for (const device of testDevices()) {
  describe(`compile on ${device}`, () => {
    it('replays a training step with the eager losses and parameters', async () => {
      const eager = model(device), comp = model(device);
      const step = compile(comp.step);
      for (let i = 0; i < 7; i++) {
        const [x, y] = batch(i, device);
        const le = eager.step(x, y), lc = step(x, y);
        await expectClose(lc, Array.from(await le.data()), 1e-5);
        le.dispose(); lc.dispose(); x.dispose(); y.dispose();
        // The user freeing a grad the trace made: its buffer stays the arena's, the replays go on.
        if (i === 4) comp.b.grad!.dispose();
      }
      await expectClose(comp.w, Array.from(await eager.w.data()), 1e-5);
      await expectClose(comp.b, Array.from(await eager.b.data()), 1e-5);
      await expectClose(comp.w.grad!, Array.from(await eager.w.grad!.data()), 1e-5);
      const s = step.stats();
      expect(s).toMatchObject({ calls: 7, eagerCalls: 1, traces: 2, replays: 4, fallbacks: 0 });
      expect(s.arenaBytes).toBeGreaterThan(0);
      step.reset();
      expect(step.stats().arenaBytes).toBe(0);
    });

    it('takes non-contiguous inputs and returns a record of copies', async () => {
      const w = tensor(randomArray(6, 5), { shape: [3, 2], device });
      const f = compile((x: Tensor) => ({ y: x.matmul(w).relu(), s: x.sum() }));
      for (let i = 0; i < 5; i++) {
        const xt = tensor(randomArray(12, 40 + i), { shape: [3, 4], device }).transpose(0, 1); // [4, 3], strides [1, 4]
        const { y, s } = f(xt);
        await expectClose(y, Array.from(await xt.matmul(w).relu().data()), 1e-5);
        await expectClose(s, Array.from(await xt.sum().data()), 1e-5);
      }
      expect(f.stats().replays).toBe(2);
    });

    it('keeps a returned value when later calls replay', async () => {
      const x = tensor([1, 2, 3], { device });
      let k = 0;
      const f = compile((a: Tensor) => a.mul(2));
      const outs = [1, 2, 3, 4, 5].map(() => f(x.add(k++)));
      for (let i = 0; i < outs.length; i++) await expectClose(outs[i]!, [2 * (1 + i), 2 * (2 + i), 2 * (3 + i)]);
      outs[4]!.dispose(); // a user freeing an output does not disturb the next replay
      await expectClose(f(x), [2, 4, 6]);
    });

    it('fuses the 1,000-add chain and gives the eager sum', async () => {
      const a = tensor(randomArray(64, 7), { device }), c = tensor(randomArray(64, 8), { device });
      const chain = (x: Tensor, y: Tensor): Tensor => tidy(() => {
        let s = x;
        for (let i = 0; i < 1000; i++) s = s.add(y);
        return s;
      });
      const f = compile(chain);
      const want = Array.from(await chain(a, c).data());
      for (let i = 0; i < 5; i++) await expectClose(f(a, c), want, 1e-5);
      const s = f.stats();
      expect(s.kernelsBeforeFusion).toBe(1000);
      if (a.backend.kernels.fusedElementwise) expect(s.kernelsAfterFusion).toBe(1);
      else expect(s.kernelsAfterFusion).toBe(1000);
    });

    it('fuses a chain whose intermediates are also needed later (extra outputs)', async () => {
      const x = tensor(randomArray(30, 9), { shape: [5, 6], device });
      const g = (t: Tensor) => {
        const u = t.mul(3).add(1);
        const v = u.exp().neg();
        return [v, u.sum(1)];
      };
      const f = compile(g);
      const [ve, se] = g(x) as Tensor[];
      for (let i = 0; i < 4; i++) {
        const [v, s] = f(x) as Tensor[];
        await expectClose(v!, Array.from(await ve!.data()), 1e-5);
        await expectClose(s!, Array.from(await se!.data()), 1e-5);
      }
    });

    it('draws a fresh dropout mask at every replay, the same as eager from the same seed', async () => {
      const x = tensor(randomArray(40, 11), { shape: [5, 8], device });
      const g = (t: Tensor) => dropout(t, 0.5).sum(1);
      const f = compile(g);
      manualSeed(5);
      const eager = [];
      for (let i = 0; i < 6; i++) eager.push(Array.from(await g(x).data()));
      manualSeed(5);
      for (let i = 0; i < 6; i++) await expectClose(f(x), eager[i]!, 1e-5);
      expect(eager[4]).not.toEqual(eager[5]);
      expect(f.stats().replays).toBe(3);
    });

    it('leaves memory flat over 50 replays', async () => {
      const m = model(device);
      const step = compile(m.step);
      const [x, y] = batch(0, device);
      for (let i = 0; i < 5; i++) step(x, y).dispose();
      const before = memory();
      for (let i = 0; i < 50; i++) step(x, y).dispose();
      const after = memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.bytes).toBe(before.bytes);
      expect(step.stats().replays).toBe(52);
    });

    it('retraces a new shape as a new signature', async () => {
      const f = compile((t: Tensor) => t.mul(2).sum());
      for (const n of [3, 3, 3, 3, 5, 5, 5, 5]) await expectClose(f(tensor(randomArray(n, n), { device })), randomArray(n, n).reduce((p, v) => p + Math.fround(2 * v), 0), 1e-4);
      expect(f.stats()).toMatchObject({ signatures: 2, traces: 4, replays: 2, eagerCalls: 2 });
    });

    it('replays a sliding slice of a larger tensor under one signature', async () => {
      const data = tensor(randomArray(40, 81), { shape: [10, 4], device });
      const w = tensor(randomArray(8, 82), { shape: [4, 2], device });
      const f = compile((x: Tensor) => x.matmul(w).sum(0));
      for (let i = 0; i < 7; i++) {
        const x = data.narrow(0, i, 3);
        await expectClose(f(x), Array.from(await x.matmul(w).sum(0).data()), 1e-5);
      }
      expect(f.stats()).toMatchObject({ signatures: 1, replays: 4 });
    });

    it('runs calls beyond 8 input signatures eagerly, warning once', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const f = compile(function manyShapes(t: Tensor) { return t.mul(2); });
      for (let n = 1; n <= 10; n++) for (let k = 0; k < 2; k++) await expectClose(f(tensor(randomArray(n, n), { device })), randomArray(n, n).map((v) => 2 * Math.fround(v)), 1e-6);
      expect(f.stats()).toMatchObject({ signatures: 8, eagerCalls: 8 + 4 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/compile\(manyShapes\): more than 8 input signatures/);
    });

    it('falls back on a host read inside the step, warning once', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const f = compile(function readsHost(t: Tensor) {
        const s = t.sum();
        if (device === 'cpu') s.dataSync(); else void s.data();
        return s;
      });
      const x = tensor([1, 2, 3], { device, dtype: 'float32' });
      for (let i = 0; i < 5; i++) await expectClose(f(x), 6);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/compile\(readsHost\): the step reads a float32 tensor of 1 element on the host/);
      expect(f.stats()).toMatchObject({ fallbacks: 1, replays: 0 });
    });

    it('falls back when a scalar changes between calls, naming the op and the values', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      let scale = 1;
      const f = compile(function step(t: Tensor) { scale /= 2; return t.mul(scale); });
      const x = tensor([1, 2], { device });
      for (let i = 0; i < 5; i++) await expectClose(f(x), [0.5 ** (i + 1), 2 * 0.5 ** (i + 1)]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toContain('the scalar argument of binaryScalar(mul) changed between calls (0.25 → 0.125); pass it as a tensor');
    });

    it('falls back on state carried by rebinding a tensor, and throws under fullgraph', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const make = () => {
        const st = { buf: tensor([1, 1], { device }) };
        return (t: Tensor) => { const old = st.buf; st.buf = old.mul(0.5).add(t); old.dispose(); return st.buf.sum(); };
      };
      const f = compile(make(), { name: 'ema' });
      const g = make();
      const x = tensor([1, 2], { device });
      for (let i = 0; i < 5; i++) await expectClose(f(x), Array.from(await g(x).data()));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/compile\(ema\): a tensor the step reads was freed during the call — state carried by rebinding/);
      const h = compile(make(), { fullgraph: true, name: 'ema' });
      h(x); // eager
      expect(() => h(x)).toThrow(CompileError);
      expect(() => h(x)).toThrow(/rebinding/);
    });

    it('retraces when a buffer the tape uses is freed between calls', async () => {
      let w = tensor([1, 2, 3], { device });
      const f = compile((t: Tensor) => t.mul(w));
      const x = tensor([2, 2, 2], { device });
      for (let i = 0; i < 4; i++) await expectClose(f(x), [2, 4, 6]);
      w.dispose();
      w = tensor([3, 3, 3], { device });
      for (let i = 0; i < 4; i++) await expectClose(f(x), [6, 6, 6]);
      expect(f.stats()).toMatchObject({ retraces: 1, traces: 4, replays: 3 });
    });

    it('fuses in-place updates of an outside buffer and broadcast inputs', async () => {
      const make = () => {
        const p = tensor(randomArray(12, 21), { shape: [3, 4], device });
        const bias = tensor(randomArray(4, 22), { shape: [4], device });
        return { p, step: (g: Tensor) => { noGrad(() => p.mul_(0.9).add_(g.mul(0.1).add(bias)).sub_(0.01)); return p.sum(0); } };
      };
      const e = make(), c = make();
      const f = compile(c.step);
      for (let i = 0; i < 6; i++) {
        const g = tensor(randomArray(12, 30 + i), { shape: [3, 4], device });
        await expectClose(f(g), Array.from(await e.step(g).data()), 1e-5);
      }
      await expectClose(c.p, Array.from(await e.p.data()), 1e-5);
      const s = f.stats();
      if (c.p.backend.kernels.fusedElementwise) expect(s.kernelsAfterFusion).toBeLessThan(s.kernelsBeforeFusion);
    });

    it('uploads a constant made inside the step at every replay', async () => {
      const f = compile((t: Tensor) => t.mul(tensor([1, 2, 3], { device, dtype: 'float32' })));
      const x = tensor([2, 2, 2], { device, dtype: 'float32' });
      for (let i = 0; i < 5; i++) await expectClose(f(x), [2, 4, 6]);
      expect(f.stats().replays).toBe(2);
    });

    it('repeats host actions at every replay, and a compiled call inside a trace joins it', async () => {
      let count = 0;
      const acc = tensor([0, 0], { device, dtype: 'float32' });
      const inner = compile((t: Tensor) => t.mul(2));
      const f = compile((t: Tensor) => {
        hostAction('count', () => { count++; });
        noGrad(() => acc.add_(inner(t)));
        return acc.sum();
      });
      const x = tensor([1, 2], { device, dtype: 'float32' });
      for (let i = 0; i < 6; i++) await expectClose(f(x), 6 * (i + 1));
      expect(count).toBe(6);
      expect(f.stats()).toMatchObject({ replays: 3, hostActions: 1 });
      expect(inner.stats().calls).toBe(1); // only the eager first call ran it as a compiled function
    });

    it('throws a CompileError for a host read under fullgraph', async () => {
      const f = compile((t: Tensor) => { const s = t.sum(); void s.data(); return s; }, { fullgraph: true, name: 'reader' });
      const x = tensor([1, 2], { device, dtype: 'float32' });
      f(x);
      expect(() => f(x)).toThrow(CompileError);
      expect(() => f(x)).toThrow(/compile\(reader\): the step reads a float32 tensor/);
    });

    it('repeats a checkpointed block\'s dropout mask in its recompute, as eager does', async () => {
      const make = () => {
        const w = tensor(randomArray(12, 61), { shape: [4, 3], device }).requiresGrad_();
        const step = (x: Tensor): Tensor => tidy(() => {
          w.grad?.dispose();
          w.grad = null;
          const l = checkpoint((h: Tensor) => dropout(h.matmul(w), 0.5).square().sum(), x);
          l.backward();
          noGrad(() => w.sub_(w.grad!.mul(0.05)));
          return l;
        });
        return { w, step };
      };
      const x = tensor(randomArray(20, 62), { shape: [5, 4], device });
      const e = make(), c = make();
      const f = compile(c.step);
      manualSeed(3);
      const el = [];
      for (let i = 0; i < 6; i++) el.push(Array.from(await e.step(x).data()));
      manualSeed(3);
      for (let i = 0; i < 6; i++) await expectClose(f(x), el[i]!, 1e-5);
      await expectClose(c.w, Array.from(await e.w.data()), 1e-5);
      expect(f.stats().replays).toBe(3);
    });

    it('checks the indices of every replay: an out-of-range id raises an IndexError as in eager mode', async () => {
      const table = tensor(randomArray(12, 71), { shape: [4, 3], device });
      const f = compile((ids: Tensor) => embedding(table, ids).sum(0));
      const ids = (v: number[]) => tensor(v, { device, dtype: 'int32' });
      for (let i = 0; i < 5; i++) await expectClose(f(ids([i % 4, 1])), Array.from(await embedding(table, ids([i % 4, 1])).sum(0).data()), 1e-6);
      expect(f.stats().replays).toBe(2);
      if (device === 'cpu') expect(() => f(ids([1, 4]))).toThrow(IndexError);
      else await expect(f(ids([1, 4])).data()).rejects.toThrow(IndexError);
      expect(f.stats().replays).toBe(3);
    });

    it('re-draws randn at replay and matches eager from the same seed', async () => {
      const g = () => randn([4], { device }).mul(2);
      const f = compile(g);
      manualSeed(9);
      const eager = [];
      for (let i = 0; i < 5; i++) eager.push(Array.from(await g().data()));
      manualSeed(9);
      for (let i = 0; i < 5; i++) await expectClose(f(), eager[i]!, 1e-5);
    });
  });
}

describe('compile arguments', () => {
  it('refuses an async function and a non-JSON argument with a CompileError naming them', () => {
    expect(() => compile(async function loadStep() { return undefined; })).toThrow(/compile\(loadStep\): loadStep is an async function/);
    const f = compile((_m: unknown) => undefined, { name: 'step' });
    expect(() => f(new Map())).toThrow(CompileError);
    expect(() => f(new Map())).toThrow(/compile\(step\): argument 0 is/);
    expect(() => compile((() => undefined) as never, { bogus: 1 } as never)).toThrow(/bogus/);
  });

  it('falls back when a function returns a non-tensor', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const f = compile(() => 3);
    for (let i = 0; i < 4; i++) expect(f()).toBe(3);
    expect(String(warn.mock.calls[0]![0])).toMatch(/returned a number/);
  });
});

describe('the hooks for library code check their arguments', () => {
  it('hostAction, notTraceable and replayedCheck raise typed errors on bad calls', () => {
    expect(() => hostAction('', () => 1)).toThrow(/hostAction: name must be a non-empty string/);
    expect(() => hostAction('step', 3 as never)).toThrow(/hostAction: fn must be a function/);
    expect(() => hostAction('step', () => 1, 'no' as never)).toThrow(/hostAction: dispose must be a function/);
    expect(hostAction('step', () => 7)).toBe(7);
    expect(() => notTraceable(undefined as never)).toThrow(/notTraceable: cause must be a non-empty string/);
    expect(() => replayedCheck([{}] as never, () => {})).toThrow(/replayedCheck: views must be an array of kernel views/);
    expect(() => replayedCheck([], null as never)).toThrow(/replayedCheck: check must be a function/);
  });
});
