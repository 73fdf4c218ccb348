// The AdamW step of nanoGPT's CPU GPT on WebGPU (52 parameters), one multi-tensor call against one
// fused step per parameter: milliseconds per step (host and device, synced at the end) and dispatches
// (`node benchmarks/adamw_step.mjs`).
import { initWebGPU, keep, noGrad, randn, webgpuRuntime } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, type AdamWHyper, type ParamUpdate } from '@webgrad/optim';
/** AdamW stepping one parameter at a time (core's adamwStep_ on each). */
class AdamWEach extends AdamW { protected override updateParams(us: readonly ParamUpdate<AdamWHyper>[]): void { for (const u of us) this.updateParam(u.param, u.grad, u.state, u.group); } }
await initWebGPU();
const rt = webgpuRuntime()!;
const model = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 }).to('webgpu');
const ps = model.parameters();
for (const p of ps) p.grad = keep(randn([...p.shape]).to('webgpu'));
for (const [name, C] of [['per parameter', AdamWEach], ['multi', AdamW], ['per parameter', AdamWEach], ['multi', AdamW]] as const) {
  const opt = new C(ps, { lr: 1e-4 });
  for (let i = 0; i < 3; i++) noGrad(() => opt.step());
  await rt.sync();
  const n = 30, d0 = rt.stats().dispatches, t0 = performance.now();
  for (let i = 0; i < n; i++) noGrad(() => opt.step());
  await rt.sync();
  console.log(`${name}: ${((performance.now() - t0) / n).toFixed(2)} ms/step, ${(rt.stats().dispatches - d0) / n} dispatches/step (${ps.length} params)`);
  opt.dispose();
}
