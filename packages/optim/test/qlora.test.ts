// QLoRA: LoRA adapters in float32 on a frozen NF4 base. applyLora on QuantLinear layers gives
// QLoraLinear; after backward only lora_A/lora_B have gradients; training steps leave the codes
// and scales bit for bit unchanged and lower the loss; the adapter saves and loads alone. Merging
// (int8, int4, nf4 bases; cpu and webgpu) gives W = dequant(codes) + (α/r)·B·A and the adapted
// model's logits, as a merged LoraLinear, a plain Linear, or re-quantized with the base's scheme.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backward, hasDevice, manualSeed, noGrad, randint, randn, type DeviceName, type Tensor } from '@webgrad/core';
import { dequantizeWeight, quantizeWeight, type QuantizeOptions } from '@webgrad/kernels';
import { GPT, Linear, QuantLinear, quantize } from '@webgrad/nn';
import {
  AdamW, LoraLinear, QLoraLinear, applyLora, loadLoraAdapter, loraStateDict, mergeAndRequantizeLora, mergeAndUnloadLora, mergeLora,
  saveLoraAdapter, trainableParameters, unmergeLora,
} from '@webgrad/optim';

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
  });
});

const DEVICES: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];
const BASES: QuantizeOptions[] = [{ scheme: 'int8' }, { scheme: 'int4', groupSize: 32 }, { scheme: 'nf4' }, { scheme: 'nf4', doubleQuant: false }];
const label = (c: QuantizeOptions) => `${c.scheme}${c.groupSize ? ` g${c.groupSize}` : ''}${c.doubleQuant === false ? ' no double quant' : ''}`;

/** A QLoRA GPT on `device` whose adapters are non-zero (B drawn at random), so merging changes W. */
async function trainedQlora(base: QuantizeOptions, device: DeviceName): Promise<GPT> {
  manualSeed(5);
  const m = new GPT({ ...CFG, nEmbd: 40 }); // in = 40, 160: not multiples of the groups
  await quantize(m, { ...base, skipModules: [] });
  m.to(device);
  applyLora(m, { r: 4, alpha: 8, targetModules: ['cAttn', 'cFc'] });
  noGrad(() => { for (const [, l] of loraLayersOf(m)) l.lora_B.weight.copy_(randn(l.lora_B.weight.shape, { device }).mul(0.05)); });
  return m;
}
const loraLayersOf = (m: GPT): [string, LoraLinear][] => [...m.namedModules()].filter((e): e is [string, LoraLinear] => e[1] instanceof LoraLinear);

async function maxDiff(a: Tensor, b: Tensor): Promise<number> {
  const [x, y] = await arrays([a, b]);
  let d = 0;
  for (let i = 0; i < x!.length; i++) d = Math.max(d, Math.abs(x![i]! - y![i]!));
  return d;
}

describe('QLoRA merge', () => {
  for (const device of DEVICES) {
    for (const base of BASES) {
      it(`${device} ${label(base)}: merge gives W = dequant(codes) + (α/r)·B·A and the adapted logits; unload and re-quantize`, async () => {
        const m = await trainedQlora(base, device);
        m.eval();
        const idx = randint(0, 17, [2, 10]).to(device);
        const adapted = m.forward(idx).logits;
        // The merged weight of one layer, against the host-side dequantization plus B·A in float64.
        const layer = [...m.h][0]!.mlp.cFc as unknown as QLoraLinear;
        expect(layer).toBeInstanceOf(QLoraLinear);
        const q = await (QuantLinear.prototype.quantized.call(layer as unknown as QuantLinear));
        const [A, B] = await arrays([layer.lora_A.weight, layer.lora_B.weight]);
        const dq = dequantizeWeight(q), r = 4, K = layer.inFeatures, N = layer.outFeatures;
        const want = Array.from({ length: N * K }, (_, i) => {
          const n = Math.floor(i / K), k = i % K;
          let s = 0;
          for (let j = 0; j < r; j++) s += B![n * r + j]! * A![j * K + k]!;
          return dq[i]! + layer.scaling * s;
        });
        mergeLora(m);
        expect(layer).toBeInstanceOf(LoraLinear);
        expect(layer).not.toBeInstanceOf(QLoraLinear);
        expect(layer.merged).toBe(true);
        expect((layer as unknown as Record<string, unknown>).qdata).toBeUndefined();
        expect(Object.keys(m.stateDict()).some((k) => k.endsWith('.qdata') && /cFc|cAttn/.test(k))).toBe(false);
        expect(layer.weight.requiresGrad).toBe(false);
        const got = await layer.weight.data();
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-6 * (1 + Math.abs(want[i]!)));
        expect(await maxDiff(m.forward(idx).logits, adapted)).toBeLessThan(2e-5);
        // unmerge leaves the dequantized base exactly; merging again restores the merged weight.
        unmergeLora(m);
        const base0 = await layer.weight.data();
        for (let i = 0; i < dq.length; i++) expect(Math.abs(base0[i]! - dq[i]!)).toBeLessThan(1e-6);
        mergeLora(m);
        // Unloaded: plain Linear layers with the merged weights, same logits.
        mergeAndUnloadLora(m);
        expect(layer).toBeInstanceOf(Linear);
        expect(layer).not.toBeInstanceOf(LoraLinear);
        expect(await maxDiff(m.forward(idx).logits, adapted)).toBeLessThan(2e-5);
      });

      it(`${device} ${label(base)}: mergeAndRequantizeLora quantizes the merged weight with the base's scheme`, async () => {
        const m = await trainedQlora(base, device);
        m.eval();
        const idx = randint(0, 17, [2, 10]).to(device);
        const adapted = m.forward(idx).logits;
        const layer = [...m.h][1]!.attn.cAttn as unknown as QLoraLinear;
        const merged = await layer.mergedWeight().data();
        const layers = await mergeAndRequantizeLora(m);
        expect([...layers.keys()].sort()).toEqual(['h.0.attn.cAttn', 'h.0.mlp.cFc', 'h.1.attn.cAttn', 'h.1.mlp.cFc']);
        const ql = layers.get('h.1.attn.cAttn')!;
        expect(ql).toBe(layer as unknown);
        expect(ql).toBeInstanceOf(QuantLinear);
        expect([ql.scheme, ql.groupSize, ql.absmax_q !== null]).toEqual([base.scheme, base.scheme === 'int8' ? ql.inFeatures : base.groupSize ?? 64, base.scheme === 'nf4' && base.doubleQuant !== false]);
        const want = quantizeWeight(merged, ql.outFeatures, ql.inFeatures, base);
        expect(Array.from(await ql.qdata.data())).toEqual(Array.from(want.qdata));
        expect(Array.from(await ql.scales.data())).toEqual(Array.from(want.scales));
        // Re-quantization moves the logits by its rounding only.
        expect(await maxDiff(m.forward(idx).logits, adapted)).toBeLessThan(base.scheme === 'int8' ? 0.05 : 0.5);
      });
    }
  }
});
