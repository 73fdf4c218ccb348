// Which kernels a WebGPU GPT training step dispatches, eager and compiled (`node benchmarks/gpt_dispatches.mjs`):
// nanoGPT's CPU configuration with AdamW, one step each way, dispatches tallied by kernel label.
import { compile, initWebGPU, webgpuRuntime } from '@webgrad/core';
import { gptTrainStep } from './lib/gpt_step.js';

await initWebGPU();
const runtime = webgpuRuntime();
if (!runtime) throw new Error('gpt_dispatches: no WebGPU adapter (see the README for the driver setup)');
const rt = runtime;
const { step, idx, tgt } = gptTrainStep('webgpu');

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
