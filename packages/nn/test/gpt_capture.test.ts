// A whole model through Backend.captureCommands: a tiny GPT's forward pass (embedding gathers,
// attention, layer norms, matmuls, with temporaries disposed along the way) captured once on
// WebGPU and replayed on new token ids gives exactly the logits an eager forward gives.
import { describe, expect, it } from 'vitest';
import { getBackend, hasDevice, manualSeed, noGrad, randint, type DeviceName, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';

const cfg = { vocabSize: 23, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0, bias: true };

describe('a GPT forward captured and replayed', () => {
  const devices: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
  for (const device of devices) {
    const backend = getBackend(device);
    if (device !== 'webgpu') {
      it(`${device}: has no captureCommands (compile replays its tape there)`, () => {
        expect(backend.captureCommands).toBeUndefined();
      });
      continue;
    }

    it('webgpu: replays give the eager logits for new ids, bit for bit', async () => {
      manualSeed(11);
      const model = new GPT({ ...cfg, device });
      model.eval();
      const idx = randint(0, cfg.vocabSize, [3, cfg.blockSize], { dtype: 'int32', device });
      let logits: Tensor | null = null;
      const cap = backend.captureCommands!(() => { logits = noGrad(() => model.forward(idx).logits); });
      expect(cap.commands).toBeGreaterThan(20);
      for (let k = 0; k < 3; k++) {
        const ids = randint(0, cfg.vocabSize, [3, cfg.blockSize], { dtype: 'int32' });
        backend.upload(idx.storage.buffer, await ids.data(), 'int32');
        cap.replay();
        const eager = noGrad(() => model.forward(idx).logits);
        expect(Array.from(await logits!.data())).toEqual(Array.from(await eager.data()));
        eager.dispose(); ids.dispose();
      }
      cap.dispose();
      logits!.dispose(); idx.dispose();
    });
  }
});
