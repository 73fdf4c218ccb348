// Where a training step's time goes: nanoGPT's CPU-configuration GPT (or the larger one) trained as
// the pretrain-gpt example trains it (AdamW, gradient clipping), on each device, after a warm-up.
// Prints the wall time per step and, per kernel, its time and calls per step:
// - cpu: each kernel call timed on the host (the kernels are synchronous);
// - webgpu: dispatches and submits per step, and — where the adapter has timestamp queries — GPU
//   time per dispatch label (one compute pass per dispatch while profiling, so the step is slower
//   than unprofiled; the wall time is measured first, without profiling).
// Usage: node benchmarks/profile.mjs [--device cpu|webgpu|all] [--steps N] [--model nano|larger] [--top N]
//   [--precision f32|f16|bf16] (f16/bf16: the forward under autocast, as the example's --precision; no loss scaling)
import { autocast, cpuBackend, initWebGPU, keep, manualSeed, randint, tidy, webgpuRuntime, type DeviceName } from '@webgrad/core';
import { GPT } from '@webgrad/nn';
import { AdamW, clipGradNorm } from '@webgrad/optim';

interface Args { devices: DeviceName[]; steps: number; model: 'nano' | 'larger'; top: number; precision: 'f32' | 'f16' | 'bf16' }

function parseArgs(argv: string[]): Args {
  const a: Args = { devices: ['cpu', 'webgpu'], steps: 20, model: 'nano', top: 25, precision: 'f32' };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = argv[i]!.includes('=') ? argv[i]!.split('=', 2) as [string, string] : [argv[i]!, argv[i + 1]];
    const take = () => { if (!argv[i]!.includes('=')) i++; if (v === undefined) throw new Error(`${k} needs a value`); return v; };
    if (k === '--device') { const d = take(); a.devices = d === 'all' ? ['cpu', 'webgpu'] : [d as DeviceName]; }
    else if (k === '--steps') a.steps = Number(take());
    else if (k === '--model') a.model = take() as Args['model'];
    else if (k === '--top') a.top = Number(take());
    else if (k === '--precision') a.precision = take() as Args['precision'];
    else throw new Error(`unknown flag ${k}; usage: node benchmarks/profile.mjs [--device cpu|webgpu|all] [--steps N] [--model nano|larger] [--top N] [--precision f32|f16|bf16]`);
  }
  if (!(a.steps >= 1) || !['nano', 'larger'].includes(a.model) || !['f32', 'f16', 'bf16'].includes(a.precision)) throw new Error(`bad --steps, --model or --precision: ${JSON.stringify(a)}`);
  return a;
}

const MODELS = {
  nano: { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, batch: 12 },
  larger: { vocabSize: 65, blockSize: 256, nLayer: 6, nHead: 6, nEmbd: 384, batch: 8 },
};

function trainer(device: DeviceName, model: Args['model'], precision: Args['precision']) {
  const { batch, ...c } = MODELS[model];
  manualSeed(0);
  const m = new GPT({ ...c, dropout: 0, bias: false, device });
  const opt = new AdamW(m.configureOptimizerGroups(0.1), { lr: 1e-3, betas: [0.9, 0.99] });
  const x = randint(0, c.vocabSize, [batch, c.blockSize], { device });
  const y = randint(0, c.vocabSize, [batch, c.blockSize], { device });
  // Returns the host time spent issuing the step (building the graph, encoding the kernels), in ms.
  const step = async (): Promise<number> => {
    const t0 = performance.now();
    const l = tidy(() => {
      const loss = precision === 'f32' ? m.forward(x, y).loss!
        : autocast({ dtype: precision === 'f16' ? 'float16' : 'bfloat16' }, () => m.forward(x, y).loss!);
      loss.backward();
      clipGradNorm(opt.params(), 1).dispose();
      opt.step();
      opt.zeroGrad();
      return keep(loss);
    });
    const host = performance.now() - t0;
    await l.item();
    l.dispose();
    return host;
  };
  const dispose = () => { x.dispose(); y.dispose(); opt.dispose(); m.dispose(); };
  return { step, dispose };
}

async function wallPerStep(step: () => Promise<number>, steps: number): Promise<number[]> {
  const t0 = performance.now();
  for (let i = 0; (i < 3 || performance.now() - t0 < 2000) && i < 200; i++) await step(); // warm-up: V8 and pipelines
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  return times.sort((p, q) => p - q);
}

function table(rows: [string, number, number][], steps: number, top: number, unit: string): string {
  const total = rows.reduce((s, r) => s + r[1], 0);
  const lines = rows.sort((p, q) => q[1] - p[1]).slice(0, top).map(([k, ms, n]) =>
    `  ${k.padEnd(40)} ${(ms / steps).toFixed(3).padStart(9)} ${unit}  ${(n / steps).toFixed(1).padStart(6)} calls  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
  return [...lines, `  ${'total'.padEnd(40)} ${(total / steps).toFixed(3).padStart(9)} ${unit}`].join('\n');
}

/** A key for a CPU kernel call: the kernel, its op for unary/binary/reduce, and the first operand's shape. */
function callKey(name: string, args: unknown[]): string {
  const shapeOf = (v: unknown) => ((v as { shape?: number[] } | null)?.shape ?? []).join('x');
  if (typeof args[0] === 'string') return `${name}:${args[0]} [${shapeOf(args[1])}]`;
  if (name === 'matmul') return `matmul [${shapeOf(args[0])}]·[${shapeOf(args[1])}]`;
  return `${name} [${shapeOf(args[0])}]`;
}

async function profileCpu(a: Args): Promise<void> {
  const t = trainer('cpu', a.model, a.precision);
  const wall = await wallPerStep(t.step, a.steps);
  const kernels = cpuBackend.kernels as unknown as Record<string, (...args: unknown[]) => unknown>;
  const acc = new Map<string, [number, number]>();
  const saved = { ...kernels };
  for (const [name, f] of Object.entries(saved)) {
    if (typeof f !== 'function') continue;
    kernels[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = f(...args);
      const key = callKey(name, args);
      const e = acc.get(key) ?? [0, 0];
      e[0] += performance.now() - t0; e[1]++;
      acc.set(key, e);
      return r;
    };
  }
  try {
    for (let i = 0; i < a.steps; i++) await t.step();
  } finally {
    Object.assign(kernels, saved);
    t.dispose();
  }
  console.log(`\ncpu — ${a.model} GPT ${a.precision} step: median ${wall[wall.length >> 1]!.toFixed(1)} ms, min ${wall[0]!.toFixed(1)} ms (${a.steps} steps)`);
  console.log(table([...acc].map(([k, [ms, n]]) => [k, ms, n]), a.steps, a.top, 'ms'));
}

async function profileWebgpu(a: Args): Promise<void> {
  try {
    await initWebGPU();
  } catch (e) {
    console.log(`\nwebgpu — not available: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const rt = webgpuRuntime()!;
  const t = trainer('webgpu', a.model, a.precision);
  try {
    const wall = await wallPerStep(t.step, a.steps);
    const s0 = rt.stats();
    const host: number[] = [];
    for (let i = 0; i < a.steps; i++) host.push(await t.step());
    const s1 = rt.stats();
    host.sort((p, q) => p - q);
    console.log(`\nwebgpu (${rt.info.description || rt.info.device}) — ${a.model} GPT ${a.precision} step: median ${wall[wall.length >> 1]!.toFixed(1)} ms, min ${wall[0]!.toFixed(1)} ms; ` +
      `${((s1.dispatches - s0.dispatches) / a.steps).toFixed(0)} dispatches and ${((s1.submits - s0.submits) / a.steps).toFixed(1)} submits per step; ` +
      `host time to issue a step (graph, autograd, encoding; median) ${host[host.length >> 1]!.toFixed(1)} ms`);
    if (!rt.canProfile) {
      console.log('  (no timestamp-query feature: no GPU times)');
      return;
    }
    rt.setProfiling(true);
    await rt.profile(true);
    for (let i = 0; i < a.steps; i++) await t.step();
    const p = await rt.profile(true);
    rt.setProfiling(false);
    console.log(table(Object.entries(p).map(([k, v]) => [k, v.gpuMs, v.calls]), a.steps, a.top, 'ms GPU'));
  } finally {
    t.dispose();
  }
}

const args = parseArgs(process.argv.slice(2));
if (args.devices.includes('cpu')) await profileCpu(args);
if (args.devices.includes('webgpu')) await profileWebgpu(args);
process.exit(0);
