// Backend.captureCommands: the webgpu backend records the device commands of tensor ops and
// re-issues them, so replaying after new input data is uploaded recomputes the same tensors in
// place, temporaries disposed inside the captured function included. The cpu backend has no such
// method (compile replays its tape there instead).
import { describe, expect, it } from 'vitest';
import * as wg from '@webgrad/core';
import { randomArray, testDevices } from './helpers.js';

describe('Backend.captureCommands', () => {
  for (const device of testDevices()) {
    const backend = wg.getBackend(device);
    if (device !== 'webgpu') {
      it(`${device}: has none`, () => {
        expect(backend.captureCommands).toBeUndefined();
      });
      continue;
    }

    it('webgpu: replays a captured computation over a non-contiguous view, reading inputs written after the capture', async () => {
      const av = randomArray(15, 1), cv = randomArray(15, 2);
      const a = wg.tensor(av, { device, shape: [3, 5] });
      const c = wg.tensor(cv, { device, shape: [5, 3] });
      const bT = c.transpose(0, 1); // strides [1, 3]
      let y: wg.Tensor | null = null;
      const cap = backend.captureCommands!(() => {
        const s = a.add(bT);
        const t = s.mul(a);
        y = t.sub(1.5);
        s.dispose(); t.dispose(); // their storage stays with the capture
      });
      expect(cap.commands).toBe(3);
      const reference = (x: number[]) => wg.tensor(x, { shape: [3, 5] }).add(wg.tensor(cv, { shape: [5, 3] }).transpose(0, 1))
        .mul(wg.tensor(x, { shape: [3, 5] })).sub(1.5).data();
      expect(Array.from(await y!.data())).toEqual(Array.from(await reference(av)));
      // once the GPU is done with them, new tensors of the same size still cannot be given the
      // temporaries' storage while the capture lives
      await wg.webgpuRuntime()!.sync();
      const others = Array.from({ length: 6 }, (_, i) => wg.full([3, 5], 100 + i, { device }));

      for (let k = 3; k < 6; k++) {
        const next = randomArray(15, k);
        backend.upload(a.storage.buffer, Float32Array.from(next), 'float32');
        cap.replay();
        expect(Array.from(await y!.data())).toEqual(Array.from(await reference(next)));
      }
      for (const [i, o] of others.entries()) expect(Array.from(await o.data())).toEqual(new Array(15).fill(100 + i));
      cap.dispose();
      expect(() => cap.replay()).toThrow(/disposed/);
      for (const t of [a, c, y!, ...others]) t.dispose();
    });

    it('webgpu: a capture with no ops holds no commands', () => {
      const cap = backend.captureCommands!(() => {});
      expect(cap.commands).toBe(0);
      cap.replay();
      cap.dispose();
    });
  }
});
