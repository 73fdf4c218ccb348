// QLoRA: LoRA adapters in float32 on a frozen NF4 base. applyLora on QuantLinear layers gives
// QLoraLinear; after backward only lora_A/lora_B have gradients; training steps leave the codes
// and scales bit for bit unchanged and lower the loss; the adapter saves and loads alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backward, manualSeed, randint, type Tensor } from '@webgrad/core';
import { GPT, QuantLinear, quantize } from '@webgrad/nn';
import { AdamW, LoraError, LoraLinear, QLoraLinear, applyLora, loadLoraAdapter, loraStateDict, mergeLora, saveLoraAdapter, trainableParameters } from '@webgrad/optim';

const dir = mkdtempSync(join(tmpdir(), 'qlora-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CFG = { vocabSize: 17, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 32 };

async function qloraModel(): Promise<GPT> {
  manualSeed(3);
  const m = new GPT(CFG);
  await quantize(m, { scheme: 'nf4' });
  applyLora(m, { r: 4, alpha: 8, targetModules: ['cAttn', 'cFc'] });
  return m;
}

async function arrays(ts: Tensor[]): Promise<number[][]> {
  return Promise.all(ts.map(async (t) => Array.from(await t.data())));
}

describe('QLoRA', () => {
  it('applyLora on QuantLinear layers: outputs unchanged at step 0, gradients only in the adapters', async () => {
    manualSeed(3);
    const plain = new GPT(CFG);
    await quantize(plain, { scheme: 'nf4' });
    const m = await qloraModel();
    const idx = randint(0, 17, [2, 10]);
    const [a, b] = await arrays([plain.forward(idx).logits, m.forward(idx).logits]);
    expect(b).toEqual(a); // B = 0: the adapters start as the identity
    const layer = [...m.h][0]!.attn.cAttn;
    expect(layer).toBeInstanceOf(QLoraLinear);
    expect(layer).toBeInstanceOf(LoraLinear);
    expect([...m.h][0]!.attn.cProj).toBeInstanceOf(QuantLinear); // quantized, no adapter
    // Quantized base weights count by their elements: the same total as LoRA on the float base.
    const { total, trainable } = trainableParameters(m);
    expect(trainable).toBe(2 * (4 * (32 + 96) + 4 * (32 + 128)));
    manualSeed(3);
    const f32 = new GPT(CFG);
    applyLora(f32, { r: 4, alpha: 8, targetModules: ['cAttn', 'cFc'] });
    expect(total).toBe(trainableParameters(f32).total);
    const { loss } = m.forward(idx, randint(0, 17, [2, 10]));
    backward(loss!);
    const withGrad = Object.entries(Object.fromEntries(m.namedParameters())).filter(([, p]) => p.grad !== null).map(([n]) => n);
    expect(withGrad.length).toBe(8);
    expect(withGrad.every((n) => /\.lora_[AB]\.weight$/.test(n))).toBe(true);
    for (const t of Object.values(m.stateDict())) if (t.dtype === 'int32') expect(t.grad).toBeNull();
  });

  it('training moves the adapters only: codes and scales are unchanged after steps and the loss falls', async () => {
    const m = await qloraModel();
    const frozen = Object.entries(m.stateDict()).filter(([k]) => !/lora_/.test(k));
    const before = await arrays(frozen.map(([, t]) => t));
    const opt = new AdamW(m.parameters().filter((p) => p.requiresGrad), { lr: 1e-2 });
    manualSeed(9);
    const idx = randint(0, 17, [4, 12]);
    const tgt = randint(0, 17, [4, 12]);
    const losses: number[] = [];
    for (let step = 0; step < 15; step++) {
      opt.zeroGrad();
      const { loss } = m.forward(idx, tgt);
      losses.push(await loss!.item());
      backward(loss!);
      opt.step();
    }
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! - 0.1);
    expect(await arrays(frozen.map(([, t]) => t))).toEqual(before);
    const qdata = frozen.filter(([k]) => k.endsWith('.qdata'));
    expect(qdata.length).toBe(8);
    // The adapter file holds the adapters alone and loads into a fresh QLoRA model.
    const path = join(dir, 'adapter.safetensors');
    await saveLoraAdapter(path, m);
    const fresh = await qloraModel();
    await loadLoraAdapter(path, fresh);
    const [a, b] = await arrays([m.forward(idx).logits, fresh.forward(idx).logits]);
    expect(b).toEqual(a);
    expect(Object.keys(loraStateDict(m)).length).toBe(8);
    expect(() => mergeLora(m)).toThrow(LoraError);
  });
});
