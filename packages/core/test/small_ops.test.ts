// Long runs of small ops on every device: results stay right while buffers are released and
// handed to new tensors (bind groups are reused across dispatches on WebGPU), and ops with a JS
// number operand (passed to the kernel as a value) match the same op with a 0-d tensor operand,
// gradients included.
import { describe, expect, it } from 'vitest';
import { binary, memory, tensor, type Tensor } from '@webgrad/core';
import { rng, testDevices } from './helpers.js';

describe('small ops', () => {
  for (const device of testDevices()) {
    it(`1000 small ops with interleaved disposes stay correct (${device})`, async () => {
      const before = memory().devices[device]?.tensors ?? 0;
      const r = rng(3);
      const n = 37;
      const ref = Array.from({ length: 4 }, () => Array.from({ length: n }, () => Math.round(r() * 8)));
      const live: Tensor[] = ref.map((v) => tensor(v, { device, dtype: 'float32' }));
      for (let i = 0; i < 1000; i++) {
        const j = i % 4, k = (i * 7 + 1) % 4;
        const op = i % 3;
        let y: Tensor;
        if (op === 0) y = live[j]!.add(live[k]!);
        else if (op === 1) y = live[j]!.sub(live[k]!);
        else { const h = live[j]!.mul(0.5); y = h.add(1); h.dispose(); }
        const want = ref[j]!.map((a, e) => (op === 0 ? a + ref[k]![e]! : op === 1 ? a - ref[k]![e]! : Math.fround(a * 0.5) + 1));
        // Replace a tensor other than an operand: its buffer goes back to the pool while in flight.
        const victim = (j + 2) % 4 === k ? (j + 3) % 4 : (j + 2) % 4;
        live[victim]!.dispose();
        live[victim] = y;
        ref[victim] = want.map(Math.fround);
        if (i % 97 === 0) expect(Array.from(await y.data())).toEqual(ref[victim]);
      }
      for (let j = 0; j < 4; j++) expect(Array.from(await live[j]!.data())).toEqual(ref[j]);
      for (const t of live) t.dispose();
      expect(memory().devices[device]?.tensors ?? 0).toBe(before);
    });

    it(`scalar operands match 0-d tensor operands, values and gradients (${device})`, async () => {
      const xs = [0.5, -1.25, 2, 3];
      for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod', 'lt', 'eq'] as const) {
        for (const s of [2, -0.5, 0.5]) {
          for (const first of [false, true]) {
            if (op === 'pow' && first && s < 0) continue;
            const data = op === 'pow' && !first ? xs.map(Math.abs) : [...xs, s];
            const x1 = tensor(data, { device, requiresGrad: true });
            const x2 = tensor(data, { device, requiresGrad: true });
            const k = tensor(s, { device, dtype: 'float32' });
            const a = first ? binary(op, s, x1) : binary(op, x1, s);
            const b = first ? binary(op, k, x2) : binary(op, x2, k);
            expect(a.gradFn?.op).toBe(b.gradFn?.op);
            expect(a.dtype).toBe(b.dtype);
            expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
            if (a.requiresGrad) {
              a.sum().backward();
              b.sum().backward();
              expect(Array.from(await x1.grad!.data())).toEqual(Array.from(await x2.grad!.data()));
            }
            for (const t of [x1, x2, k, a, b]) t.dispose();
          }
        }
      }
      // int32 and bool tensors with number operands: promotion and conversion as with 0-d tensors.
      const i = tensor([1, -2, 3, 7], { device, dtype: 'int32' });
      for (const [op, s] of [['add', 2], ['mul', 2.5], ['div', 2], ['mod', -3], ['lt', 2.5]] as const) {
        const a = binary(op, i, s), b0 = tensor(s, { device }), b = binary(op, i, b0);
        expect(a.dtype).toBe(b.dtype);
        expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
        for (const t of [a, b0, b]) t.dispose();
      }
      i.dispose();
    });
  }
});
