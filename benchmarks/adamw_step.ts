// The AdamW step of nanoGPT's CPU GPT (52 parameters), one multi-tensor call against one fused step
// per parameter, on the cpu device and on WebGPU where there is an adapter
// (`node benchmarks/adamw_step.mjs`): milliseconds per step (host and device, synced at the end),
// and per step the cpu's `adamwMulti` kernel calls or WebGPU's dispatches.
import { cpuBackend, initWebGPU, keep, noGrad, randn, webgpuRuntime, type DeviceName } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, type AdamWHyper, type ParamUpdate } from '@webgrad/optim';
/** AdamW stepping one parameter at a time (core's adamwStep_ on each). */
class AdamWEach extends AdamW { protected override updateParams(us: readonly ParamUpdate<AdamWHyper>[]): void { for (const u of us) this.updateParam(u.param, u.grad, u.state, u.group); } }

/** Counts the cpu kernel set's adamwMulti calls (the kernel a multi-tensor step runs once). */
const cpuKernels = cpuBackend.kernels;
let multiCalls = 0;
const multi = cpuKernels.adamwMulti;
if (multi) cpuKernels.adamwMulti = (items) => { multiCalls++; multi(items); };

async function run(device: DeviceName): Promise<void> {
  const rt = device === 'webgpu' ? webgpuRuntime() : null;
  const model = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128 }).to(device);
  const ps = model.parameters();
  for (const p of ps) p.grad = keep(randn([...p.shape]).to(device));
  const sync = async () => { await rt?.sync(); };
  const count = () => (rt ? rt.stats().dispatches : multiCalls);
  for (const [name, C] of [['per parameter', AdamWEach], ['multi', AdamW], ['per parameter', AdamWEach], ['multi', AdamW], ['per parameter', AdamWEach], ['multi', AdamW]] as const) {
    const opt = new C(ps, { lr: 1e-4 });
    for (let i = 0; i < 50; i++) noGrad(() => opt.step()); // the cpu kernels take a few hundred calls to reach their steady speed
    await sync();
    const n = 100, c0 = count(), t0 = performance.now();
    for (let i = 0; i < n; i++) noGrad(() => opt.step());
    await sync();
    const what = rt ? 'dispatches' : 'adamwMulti calls';
    console.log(`${device} ${name}: ${((performance.now() - t0) / n).toFixed(2)} ms/step, ${(count() - c0) / n} ${what}/step (${ps.length} params)`);
    opt.dispose();
  }
  model.dispose();
}

await run('cpu');
try {
  await initWebGPU();
  await run('webgpu');
} catch (e) {
  console.log(`webgpu: not available (${(e as Error).message.split('\n')[0]})`);
}
process.exit(0);
