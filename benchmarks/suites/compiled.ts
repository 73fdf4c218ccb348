// compile(step) against eager mode: a chain of 1,000 dependent adds on [64] tensors (µs per op —
// the per-op host cost compile removes), nanoGPT's CPU configuration (ms per step, device
// dispatches per step on WebGPU, and host ms per step: the time the step's JavaScript takes
// before the device work is waited for), and an MLP 784-256-256-10 Adam step (batch 128). The
// compiled MLP and LeNet steps beside PyTorch, tfjs and jax-js are rows of the cpu_models suite.
import { compile, crossEntropy, hasDevice, tensor, tidy, webgpuRuntime, type Tensor } from '@webgrad/core';
import { Linear, ReLU, Sequential } from '@webgrad/nn';
import { Adam } from '@webgrad/optim';
import type { Suite, SuiteContext } from '../lib/context.js';
import { failureCell, makeRatio, type Cell } from '../lib/report.js';
import { measure } from '../lib/timing.js';
import { gptTrainStep, NANOGPT_CPU } from '../lib/gpt_step.js';

type Device = 'cpu' | 'webgpu';

function lcg(count: number, seed: number, n?: number): Float32Array | Int32Array {
  const out = n === undefined ? new Float32Array(count) : new Int32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) { a = (Math.imul(a, 1664525) + 1013904223) >>> 0; out[i] = n === undefined ? a / 2 ** 31 - 1 : a % n; }
  return out;
}

/** A step to time: `make(compiled)` builds it; the step returns the loss (or result) tensor. */
interface Case { step: () => Tensor; dispose: () => void; stats?: () => ReturnType<ReturnType<typeof compile>['stats']> }

function addChain(device: Device, compiled: boolean): Case {
  const a = tensor(lcg(64, 1) as Float32Array, { device }), b = tensor(lcg(64, 2) as Float32Array, { device });
  const chain = (x: Tensor, y: Tensor): Tensor => tidy(() => { let s = x; for (let i = 0; i < 1000; i++) s = s.add(y); return s; });
  const f = compiled ? compile(chain) : chain;
  return { step: () => f(a, b), dispose: () => { a.dispose(); b.dispose(); }, stats: compiled ? (f as ReturnType<typeof compile>).stats : undefined };
}

function gptStep(device: Device, compiled: boolean): Case {
  const { step, idx, tgt, dispose } = gptTrainStep(device);
  const f = compiled ? compile(step) : step;
  return {
    step: () => f(idx, tgt),
    dispose,
    stats: compiled ? (f as ReturnType<typeof compile>).stats : undefined,
  };
}

function mlpStep(device: Device, compiled: boolean): Case {
  const model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 256), new ReLU(), new Linear(256, 10)).to(device);
  const opt = new Adam(model.parameters(), { lr: 1e-3 });
  const x = tensor(lcg(128 * 784, 1) as Float32Array, { shape: [128, 784], device });
  const y = tensor(lcg(128, 2, 10), { shape: [128], dtype: 'int32', device });
  const step = (a: Tensor, b: Tensor): Tensor => tidy(() => {
    opt.zeroGrad();
    const l = crossEntropy(model.forward(a) as Tensor, b);
    l.backward();
    opt.step();
    return l;
  });
  const f = compiled ? compile(step) : step;
  return {
    step: () => f(x, y),
    dispose: () => { x.dispose(); y.dispose(); for (const p of model.parameters()) p.dispose(); opt.dispose(); },
    stats: compiled ? (f as ReturnType<typeof compile>).stats : undefined,
  };
}

interface Timed { ms: Cell; hostMs: Cell; dispatches: Cell; kernels?: string }

/** ms per step (waited for), host ms per step (not waited for) and WebGPU dispatches per step. */
async function time(ctx: SuiteContext, make: () => Case, device: Device, budgetMs: number): Promise<Timed> {
  let c: Case | null = null;
  let last: Tensor | null = null;
  try {
    c = make();
    const cc = c;
    // Call 1 runs eagerly, 2 and 3 trace, 4 is the first replay (which captures on WebGPU).
    for (let i = 0; i < 5; i++) { const l = cc.step(); await l.data(); l.dispose(); }
    const t = await measure(() => { const l = cc.step(); last?.dispose(); last = l; }, async () => { if (last) await last.data(); },
      { budgetMs: ctx.quick ? budgetMs / 2 : budgetMs, minSamples: 3, warmup: 1 });
    // Host time: the calls alone, the device catching up only at the end.
    const n = 5;
    const rt = device === 'webgpu' ? webgpuRuntime() : null;
    const d0 = rt?.stats().dispatches ?? 0;
    const h0 = performance.now();
    for (let i = 0; i < n; i++) { const l = cc.step(); last?.dispose(); last = l; }
    const hostMs = (performance.now() - h0) / n;
    const dispatches = rt ? (rt.stats().dispatches - d0) / n : 'n/a (cpu)';
    if (last) await (last as Tensor).data();
    const s = cc.stats?.();
    return { ms: t.ms, hostMs, dispatches, kernels: s ? `${s.kernelsBeforeFusion} → ${s.kernelsAfterFusion} device ops per replay after fusion, ${s.hostActions} host actions, ${s.capturedCommands} captured commands, arena ${(s.arenaBytes / 1024).toFixed(0)} KiB` : undefined };
  } catch (e) {
    const f = failureCell(e);
    return { ms: f, hostMs: f, dispatches: f };
  } finally {
    (last as Tensor | null)?.dispose();
    try { c?.dispose(); } catch { /* already released */ }
  }
}

export const compiledSuite: Suite = {
  name: 'compiled',
  title: 'compile(step) vs eager',
  async run(ctx) {
    const devices: Device[] = hasDevice('webgpu') && ctx.gpu ? ['cpu', 'webgpu'] : ['cpu'];
    for (const device of devices) {
      const eager = await time(ctx, () => addChain(device, false), device, 1500);
      const comp = await time(ctx, () => addChain(device, true), device, 1500);
      const perOp = (c: Cell): Cell => (typeof c === 'number' ? c * 1000 / 1000 : c); // ms per 1,000 ops = µs per op
      ctx.entries.push({
        suite: 'compiled', name: `1,000 dependent adds [64], ${device}`, unit: 'µs/op', better: 'lower',
        ours: { eager: perOp(eager.ms), compiled: perOp(comp.ms) }, peers: {},
        ratio: makeRatio('compiled/eager', perOp(comp.ms), perOp(eager.ms), 'lower'),
        notes: [comp.kernels ?? '', `host µs/op: eager ${fmt(eager.hostMs)}, compiled ${fmt(comp.hostMs)}; dispatches per chain: eager ${fmt(eager.dispatches)}, compiled ${fmt(comp.dispatches)}`],
      });
      ctx.log(`add chain ${device} done`);
    }
    for (const device of devices) {
      const eager = await time(ctx, () => gptStep(device, false), device, 4000);
      const comp = await time(ctx, () => gptStep(device, true), device, 4000);
      ctx.entries.push({
        suite: 'compiled', name: `GPT ${NANOGPT_CPU.layers}L/${NANOGPT_CPU.heads}H/${NANOGPT_CPU.embd} step, batch ${NANOGPT_CPU.batch}, ${device}`, unit: 'ms/step', better: 'lower',
        ours: { eager: eager.ms, compiled: comp.ms }, peers: {},
        ratio: makeRatio('compiled/eager', comp.ms, eager.ms, 'lower'),
        notes: [comp.kernels ?? '', `host ms/step: eager ${fmt(eager.hostMs)}, compiled ${fmt(comp.hostMs)}; dispatches/step: eager ${fmt(eager.dispatches)}, compiled ${fmt(comp.dispatches)}`],
      });
      ctx.log(`gpt ${device} done`);
    }
    const eager = await time(ctx, () => mlpStep('cpu', false), 'cpu', 3000);
    const comp = await time(ctx, () => mlpStep('cpu', true), 'cpu', 3000);
    // PyTorch's figure for this step is in the cpu_models suite, measured the same way as ours
    // (fastest call, one thread and default threads), beside the compiled rows there.
    ctx.entries.push({
      suite: 'compiled', name: 'MLP 784-256-256-10 Adam step, batch 128, cpu', unit: 'ms/step', better: 'lower',
      ours: { eager: eager.ms, compiled: comp.ms }, peers: {},
      ratio: makeRatio('compiled/eager', comp.ms, eager.ms, 'lower'),
      notes: [comp.kernels ?? '', `host ms/step: eager ${fmt(eager.hostMs)}, compiled ${fmt(comp.hostMs)}`],
    });
  },
};

function fmt(c: Cell): string {
  return typeof c === 'number' ? c.toFixed(c < 10 ? 3 : 1) : c;
}
