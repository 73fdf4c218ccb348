// LoRA (Hu et al. 2021) on a tiny GPT: unchanged output at init, PEFT-style names, only adapter
// parameters trainable, merge/unmerge equivalence, adapter-only safetensors round trip, dropout on
// the LoRA path, and the trainable-parameter report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, noGrad, randint, randn, tidy, type Tensor } from '@webgrad/core';
import { GPT, Linear, ReLU, Sequential } from '@webgrad/nn';
import {
  AdamW, applyLora, loadLoraAdapter, LoraError, LoraLinear, loraStateDict, mergeAndUnloadLora, mergeLora, printTrainableParameters,
  saveLoraAdapter, setLoraEnabled, trainableParameters, unmergeLora,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'webgrad-lora-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cfg = { vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0 };
const makeGpt = () => { manualSeed(7); return new GPT(cfg); };
const logitsOf = (m: GPT, idx: Tensor) => noGrad(() => m.forward(idx).logits);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

async function trainSome(model: GPT, idx: Tensor, steps = 5) {
  const opt = new AdamW(model.parameters().filter((p) => p.requiresGrad), { lr: 0.05, weightDecay: 0 });
  for (let s = 0; s < steps; s++) {
    tidy(() => model.forward(idx, idx).loss!.backward());
    opt.step();
    opt.zeroGrad();
  }
  opt.dispose();
}

describe('applyLora', () => {
  it('leaves the output unchanged at init, names adapters PEFT-style, freezes the rest', async () => {
    const model = makeGpt();
    model.eval();
    manualSeed(1);
    const idx = randint(0, 13, [2, 6]);
    const before = await logitsOf(model, idx).data();
    const layers = applyLora(model, { r: 2, alpha: 4, targetModules: ['cAttn', 'cProj'] });
    expect([...layers.keys()]).toEqual(['h.0.attn.cAttn', 'h.0.attn.cProj', 'h.0.mlp.cProj', 'h.1.attn.cAttn', 'h.1.attn.cProj', 'h.1.mlp.cProj']);
    const l = layers.get('h.0.attn.cAttn')!;
    expect(l).toBeInstanceOf(LoraLinear);
    expect(l.scaling).toBe(2);
    expect(l.lora_A.weight.shape).toEqual([2, 8]);
    expect(l.lora_B.weight.shape).toEqual([24, 2]);
    expect([...(await l.lora_B.weight.data())].every((v) => v === 0)).toBe(true);
    // A ~ U(−1/√in, 1/√in) (kaiming_uniform with a=√5, as PEFT).
    const a = await l.lora_A.weight.data();
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(a.some((v) => v !== 0)).toBe(true);
    expect(await logitsOf(model, idx).data()).toEqual(before);

    const trainable = [...model.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n);
    expect(trainable.length).toBe(12);
    expect(trainable.every((n) => /\.lora_[AB]\.weight$/.test(n))).toBe(true);
    expect(trainable).toContain('h.0.attn.cAttn.lora_A.weight');
    expect(Object.keys(model.stateDict())).toContain('h.0.attn.cAttn.weight'); // base name unchanged
    expect(Object.keys(loraStateDict(model)).sort()).toEqual([...trainable].sort());

    // Gradients reach the adapters only.
    tidy(() => model.forward(idx, idx).loss!.backward());
    expect(l.weight.grad).toBeNull();
    expect(l.lora_B.weight.grad).not.toBeNull();
    model.zeroGrad();

    const report = trainableParameters(model);
    // per block: cAttn 2·8 + 24·2, attn.cProj 2·8 + 8·2, mlp.cProj (32 → 8) 2·32 + 8·2
    const adapterCount = 2 * ((2 * 8 + 24 * 2) + (2 * 8 + 8 * 2) + (2 * 32 + 8 * 2));
    expect(report.trainable).toBe(adapterCount);
    expect(report.total).toBe(model.numParameters());
    expect(report.percent).toBeCloseTo((100 * adapterCount) / report.total, 10);
    const lines: string[] = [];
    printTrainableParameters(model, (s) => lines.push(s));
    expect(lines[0]).toMatch(/^trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: \d+\.\d{4}$/);
    model.dispose();
  });

  it('merge equals unmerged within tolerance; unmerge restores the base weight', async () => {
    const model = makeGpt();
    model.eval();
    manualSeed(2);
    const idx = randint(0, 13, [2, 6]);
    applyLora(model, { r: 4, alpha: 8, targetModules: /h\.\d+\.(attn\.cAttn|mlp\.cFc)/ });
    const baseW = await (model.h.at(0) as unknown as { attn: { cAttn: Linear } }).attn.cAttn.weight.data();
    await trainSome(model, idx);
    const unmerged = await logitsOf(model, idx).data();
    expect(maxDiff(unmerged, await (makeGpt().eval(), logitsOf(makeGpt(), idx)).data())).toBeGreaterThan(1e-3); // adapters learned something
    mergeLora(model);
    const cAttn = (model.h.at(0) as unknown as { attn: { cAttn: LoraLinear } }).attn.cAttn;
    expect(cAttn.merged).toBe(true);
    expect(maxDiff(await logitsOf(model, idx).data(), unmerged)).toBeLessThan(1e-5);
    unmergeLora(model);
    expect(maxDiff(await cAttn.weight.data(), baseW)).toBeLessThan(1e-6);
    expect(maxDiff(await logitsOf(model, idx).data(), unmerged)).toBeLessThan(1e-5);
    setLoraEnabled(model, false);
    const base = makeGpt().eval();
    expect(maxDiff(await logitsOf(model, idx).data(), await logitsOf(base, idx).data())).toBeLessThan(1e-6);
    setLoraEnabled(model, true);
    mergeAndUnloadLora(model);
    expect(cAttn).not.toBeInstanceOf(LoraLinear);
    expect(cAttn).toBeInstanceOf(Linear);
    expect(Object.keys(loraStateDict(model))).toEqual([]);
    expect(maxDiff(await logitsOf(model, idx).data(), unmerged)).toBeLessThan(1e-5);
    model.dispose();
    base.dispose();
  });

  it('saves and loads only the adapter weights (safetensors round trip)', async () => {
    const model = makeGpt().eval();
    manualSeed(3);
    const idx = randint(0, 13, [1, 8]);
    applyLora(model, { r: 2, alpha: 2, targetModules: ['cAttn'] });
    await trainSome(model, idx, 3);
    const path = join(dir, 'adapter.safetensors');
    await saveLoraAdapter(path, model);
    const want = await logitsOf(model, idx).data();

    const fresh = makeGpt().eval();
    applyLora(fresh, { r: 2, alpha: 2, targetModules: ['cAttn'] });
    expect(maxDiff(await logitsOf(fresh, idx).data(), want)).toBeGreaterThan(1e-4);
    await loadLoraAdapter(path, fresh);
    expect(await logitsOf(fresh, idx).data()).toEqual(want);
    for (const [k, t] of Object.entries(loraStateDict(fresh))) expect(await t.data()).toEqual(await loraStateDict(model)[k]!.data());

    const other = makeGpt();
    applyLora(other, { r: 2, alpha: 2, targetModules: ['cProj'] });
    await expect(loadLoraAdapter(path, other)).rejects.toThrow(/missing .*cProj.lora_A.weight.*unexpected .*cAttn/);
    const wrongRank = makeGpt();
    applyLora(wrongRank, { r: 3, targetModules: ['cAttn'] });
    await expect(loadLoraAdapter(path, wrongRank)).rejects.toThrow(LoraError);
    for (const m of [model, fresh, other, wrongRank]) m.dispose();
  });

  it('works on Linear layers inside Sequential; dropout acts on the LoRA path only', async () => {
    manualSeed(4);
    const net = new Sequential(new Linear(4, 6), new ReLU(), new Linear(6, 3));
    const x = randn([5, 4]);
    const before = await noGrad(() => net.forward(x)).data();
    applyLora(net, { r: 2, alpha: 2, dropout: 0.5, targetModules: ['0', '2'] });
    expect(await noGrad(() => net.forward(x)).data()).toEqual(before); // B = 0: dropout has nothing to drop
    const l2 = net.at(2) as LoraLinear;
    noGrad(() => { l2.lora_B.weight.fill_(0.3); });
    net.eval();
    const evalA = await noGrad(() => net.forward(x)).data();
    const evalB = await noGrad(() => net.forward(x)).data();
    expect(evalA).toEqual(evalB);
    net.train();
    const trainOut = await noGrad(() => net.forward(x)).data();
    expect(maxDiff(trainOut, evalA)).toBeGreaterThan(1e-4);
    expect(() => applyLora(net, { r: 2, targetModules: ['0'] })).toThrow(/already has a LoRA adapter/);
    expect(() => applyLora(net, { r: 2, targetModules: ['nope'] })).toThrow(/no Linear layer matches/);
    expect(() => applyLora(new Sequential(new Linear(2, 2)), { r: 0, targetModules: ['0'] })).toThrow(/r must be/);
    const direct = new LoraLinear(4, 3, { r: 2, alpha: 1 });
    expect([...direct.namedParameters()].map(([n]) => n)).toEqual(['weight', 'bias', 'lora_A.weight', 'lora_B.weight']);
    expect(direct.scaling).toBe(0.5);
    expect(direct.toString()).toContain('r=2');
    direct.dispose();
    net.dispose();
  });
});
