// compile joins an embedding's backward (indexAdd into zeros) and the float32 add that accumulates
// another gradient of the same weight onto it (tied weights: a lookup and a matmul with one table)
// into one indexAdd launch with an addend, and a lookup (indexSelect) with the add of positions
// broadcast over the batch into one indexSelect launch (fuse_index.ts). The tape loses the adds,
// and a compiled step's results equal the eager ones bit for bit, call after call with different
// ids, on each device.
import { describe, expect, it } from 'vitest';
import { compile, gradients, indexSelect, matmul, reshape, tensor, tidy, type DeviceName, type Tensor } from '@webgrad/core';
import { Arena } from '../src/compile/arena.js';
import { fuseIndexEpilogues } from '../src/compile/fuse_index.js';
import type { KernelEntry } from '../src/compile/tape.js';
import { Tracer } from '../src/compile/trace.js';
import { randomArray, testDevices } from './helpers.js';

const V = 7, D = 5, N = 9, M = 4;
const bits = async (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(await t.data() as Float32Array).buffer));

function tied(device: DeviceName) {
  const w = tensor(randomArray(V * D, 1, -1, 1), { shape: [V, D], device }).requiresGrad_();
  const c = tensor(randomArray(N * D, 2, -1, 1), { shape: [N, D], device });
  const d = tensor(randomArray(M * V, 3, -1, 1), { shape: [M, V], device });
  // The lookup's gradient reaches w after the matmul's, so the accumulating add reads the indexAdd's result next.
  const step = (ids: Tensor, x: Tensor): Tensor => tidy(() => {
    const l = indexSelect(w, 0, ids).mul(c).sum().add(matmul(x, w.transpose(0, 1)).mul(d).sum());
    return gradients(l, [w])[0]!;
  });
  return { w, c, d, step, dispose: () => { for (const t of [w, c, d]) t.dispose(); } };
}

const idsOf = (device: DeviceName, seed: number) => tensor(Array.from({ length: N }, (_, i) => (i * 3 + seed) % V === 6 ? 2 : (i * 3 + seed) % V), { shape: [N], dtype: 'int32', device });

const kernelsOf = (tape: { entries: readonly { kind: string }[] }): KernelEntry[] => tape.entries.filter((e): e is KernelEntry => e.kind === 'kernel');
const addKernels = (ks: readonly KernelEntry[]): number => ks.filter((e) => e.name === 'binary' && e.args[0] === 'add').length;

/** Traces `run` on `inputs` and fuses the tape's index epilogues: its kernels after, its add kernels before, and run's outputs. */
function traceAndFuse(inputs: Tensor[], run: () => Tensor | Tensor[]): { fused: KernelEntry[]; addsBefore: number; outputs: Tensor[] } {
  const tr = new Tracer(new Arena(), inputs);
  tr.start();
  const out = run();
  tr.stop();
  const tape = tr.finish(tr.outputOf(out)!)!;
  const addsBefore = addKernels(kernelsOf(tape));
  fuseIndexEpilogues(tape);
  tr.unwatch();
  return { fused: kernelsOf(tape), addsBefore, outputs: Array.isArray(out) ? out : [out] };
}

describe.each(testDevices())('compile: indexAdd with the add of a tied gradient on %s', (device) => {
  it('the traced add is joined into the indexAdd', () => {
    const m = tied(device);
    const ids = idsOf(device, 1), x = tensor(randomArray(M * D, 4, -1, 1), { shape: [M, D], device });
    const { fused, addsBefore, outputs } = traceAndFuse([ids, x], () => m.step(ids, x));
    const indexAdds = fused.filter((e) => e.name === 'indexAdd');
    expect(indexAdds.length).toBe(1);
    expect(indexAdds[0]!.args[5], 'the indexAdd has an addend').toBeTruthy();
    expect(addKernels(fused)).toBe(addsBefore - 1);
    for (const t of [ids, x, ...outputs]) t.dispose();
    m.dispose();
  });

  it('a compiled step\'s gradient equals the eager one bit for bit', async () => {
    const m = tied(device);
    const f = compile(m.step);
    for (let call = 0; call < 6; call++) {
      const ids = idsOf(device, call), x = tensor(randomArray(M * D, 10 + call, -1, 1), { shape: [M, D], device });
      const gc = f(ids, x), ge = m.step(ids, x);
      expect(await bits(gc), `call ${call}`).toEqual(await bits(ge));
      for (const t of [ids, x, gc, ge]) t.dispose();
    }
    expect(f.stats().replays).toBeGreaterThan(0);
    expect(f.stats().fallbacks).toBe(0);
    f.reset();
    m.dispose();
  });
});

describe.each(testDevices())('compile: indexSelect with the add of positions on %s', (device) => {
  const B = 3, T = 3; // N = B·T ids
  const setup = () => {
    const w = tensor(randomArray(V * D, 5, -1, 1), { shape: [V, D], device }).requiresGrad_();
    const p = tensor(randomArray(T * D, 6, -1, 1), { shape: [T, D], device }).requiresGrad_();
    const c = tensor(randomArray(N * D, 7, -1, 1), { shape: [B, T, D], device });
    const step = (ids: Tensor): Tensor[] => tidy(() => {
      const h = reshape(indexSelect(w, 0, ids), [B, T, D]).add(p);
      const [gw, gp] = gradients(h.mul(c).sum(), [w, p]);
      return [h, gw!, gp!];
    });
    return { step, dispose: () => { for (const t of [w, p, c]) t.dispose(); } };
  };

  it('the traced add is joined into the indexSelect', () => {
    const m = setup();
    const ids = idsOf(device, 2);
    const { fused, addsBefore, outputs } = traceAndFuse([ids], () => m.step(ids));
    const selects = fused.filter((e) => e.name === 'indexSelect');
    expect(selects.length).toBe(1);
    expect(selects[0]!.args[4], 'the indexSelect has an addend').toBeTruthy();
    expect(addKernels(fused)).toBe(addsBefore - 1);
    for (const t of [ids, ...outputs]) t.dispose();
    m.dispose();
  });

  it('a compiled step\'s output and gradients equal the eager ones bit for bit', async () => {
    const m = setup();
    const f = compile(m.step);
    for (let call = 0; call < 6; call++) {
      const ids = idsOf(device, call);
      const rc = f(ids), re = m.step(ids);
      for (const [k, t] of rc.entries()) expect(await bits(t), `call ${call}, result ${k}`).toEqual(await bits(re[k]!));
      for (const t of [ids, ...rc, ...re]) t.dispose();
    }
    expect(f.stats().replays).toBeGreaterThan(0);
    expect(f.stats().fallbacks).toBe(0);
    f.reset();
    m.dispose();
  });
});
