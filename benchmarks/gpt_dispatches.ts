// Which kernels a WebGPU GPT training step dispatches, eager and compiled (`node benchmarks/gpt_dispatches.mjs`):
// nanoGPT's CPU configuration with AdamW, one step each way, dispatches tallied by kernel label.
import { compile, initWebGPU, tensor, tidy, webgpuRuntime, type Tensor } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW } from '@webgrad/optim';

await initWebGPU();
const runtime = webgpuRuntime();
if (!runtime) throw new Error('gpt_dispatches: no WebGPU adapter (see the README for the driver setup)');
const rt = runtime;
const g = { vocab: 65, block: 64, layers: 4, heads: 4, embd: 128, batch: 12 };
const ids = (seed: number) => Int32Array.from({ length: g.batch * g.block }, (_, i) => (i * 7 + seed * 13) % g.vocab);
const model = new GPT({ vocabSize: g.vocab, blockSize: g.block, nLayer: g.layers, nHead: g.heads, nEmbd: g.embd }).to('webgpu');
const opt = new AdamW(model.configureOptimizerGroups(0.1), { lr: 1e-3 });
const idx = tensor(ids(1), { shape: [g.batch, g.block], dtype: 'int32', device: 'webgpu' });
const tgt = tensor(ids(2), { shape: [g.batch, g.block], dtype: 'int32', device: 'webgpu' });
const step = (x: Tensor, y: Tensor): Tensor => tidy(() => {
  opt.zeroGrad();
  const l = model.forward(x, y).loss!;
  l.backward();
  opt.step();
  return l;
});

const show = (counts: Map<string, number>, note = '') => {
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(4)}  ${k.replace(/[:(].*$/, '').slice(0, 60)}${note}`);
};
for (let i = 0; i < 2; i++) (await step(idx, tgt)).dispose();
const d0 = rt.stats().dispatches;
const eager = rt.tallyDispatches(() => step(idx, tgt));
await eager.result.data(); eager.result.dispose();
console.log(`eager: ${rt.stats().dispatches - d0} dispatches`);
show(eager.counts);
const f = compile(step);
for (let i = 0; i < 5; i++) { const r = f(idx, tgt); await r.data(); r.dispose(); }
const c0 = rt.stats().dispatches;
// A replayed capture re-issues its commands without encoding them: stats() counts them, the tally
// only what runs outside the capture.
const comp = rt.tallyDispatches(() => f(idx, tgt));
await comp.result.data(); comp.result.dispose();
console.log(`compiled: ${rt.stats().dispatches - c0} dispatches`, JSON.stringify(f.stats()));
show(comp.counts, '   (eager, outside the capture)');
process.exit(0);
